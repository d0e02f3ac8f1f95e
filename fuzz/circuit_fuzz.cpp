// libFuzzer target: the circuit loader (ir::deserialize_circuit), then what its users run on it: the range
// analysis and one evaluation at the inputs' lower ends.
#include <algorithm>

#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/ranges.hpp"
#include "targets.hpp"

namespace {

void load_and_analyse(std::span<const uint8_t> bytes, unsigned) {
  const fhenn::ir::Circuit circuit = fhenn::ir::deserialize_circuit(bytes, "fuzz circuit");
  fhenn::ir::guaranteed_element_ranges(circuit);
  std::vector<int64_t> inputs;
  for (const fhenn::ir::NodeId id : circuit.inputs()) {
    const auto& node = circuit.node(id);
    inputs.insert(inputs.end(), node.width, std::get<fhenn::ir::InputOp>(node.op).range.min);
  }
  std::vector<int64_t> values(circuit.node_values_size());
  fhenn::ir::evaluate_nodes(circuit, inputs, values);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kCircuitKinds, load_and_analyse);
}
