// Evaluating a circuit on integers (see evaluate.hpp).
#include "fhenn/ir/evaluate.hpp"

#include <algorithm>

#include "fhenn/common/assert.hpp"
#include "fhenn/ir/linear_terms.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::ir {

void evaluate_dot_product(const DotProductOp& op, std::span<const int64_t> operand, std::span<int64_t> out) {
  const size_t n = operand.size();
  const int64_t* w = op.weights.data();
  for (size_t i = 0; i < out.size(); ++i, w += n) {
    int64_t sum = op.constants.empty() ? 0 : op.constants[i];
    for (size_t j = 0; j < n; ++j) sum += w[j] * operand[j];
    out[i] = sum;
  }
}

void evaluate_round(const RoundOp& op, std::span<const int64_t> operand, std::span<int64_t> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = quant::round_msbs(operand[i], op.shift);
}

void evaluate_table_lookup(const TableLookupOp& op, std::span<const int64_t> operand, std::span<int64_t> out) {
  const size_t per_table = out.size() / op.tables.size();
  for (size_t i = 0; i < out.size(); ++i) out[i] = op.tables[i / per_table].at(operand[i]);
}

void evaluate_node(const Circuit& circuit, NodeId id, std::span<int64_t> node_values) {
  const Node& node = circuit.node(id);
  const std::span<int64_t> out = node_values.subspan(circuit.value_offset(id), node.width);
  if (traits(node.kind()).is_linear) {
    evaluate_linear(circuit, id, node_values, out);
    return;
  }
  const auto operand = node_slice(circuit, node.operands.at(0), node_values);
  switch (node.kind()) {
    case OpKind::round:
      evaluate_round(std::get<RoundOp>(node.op), operand, out);
      break;
    case OpKind::table_lookup:
      evaluate_table_lookup(std::get<TableLookupOp>(node.op), operand, out);
      break;
    case OpKind::output:
      std::copy(operand.begin(), operand.end(), out.begin());
      break;
    default:
      FHENN_ASSERT(false && "evaluate_node: inputs are copied by the caller, linear ops evaluated above");
  }
}

void evaluate_nodes(const Circuit& circuit, std::span<const int64_t> inputs, std::span<int64_t> node_values) {
  FHENN_ASSERT_EQ(inputs.size(), circuit.input_width());
  FHENN_ASSERT_EQ(node_values.size(), circuit.node_values_size());
  size_t next_input = 0;
  for (NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const Node& node = circuit.node(id);
    if (node.kind() != OpKind::input) {
      evaluate_node(circuit, id, node_values);
      continue;
    }
    std::copy_n(inputs.begin() + static_cast<std::ptrdiff_t>(next_input), node.width,
                node_values.begin() + static_cast<std::ptrdiff_t>(circuit.value_offset(id)));
    next_input += node.width;
  }
}

void gather_outputs(const Circuit& circuit, std::span<const int64_t> node_values, std::span<int64_t> outputs) {
  FHENN_ASSERT_EQ(outputs.size(), circuit.output_width());
  auto out = outputs.begin();
  for (NodeId id : circuit.outputs()) {
    const auto values = node_slice(circuit, id, node_values);
    out = std::copy(values.begin(), values.end(), out);
  }
}

}  // namespace fhenn::ir
