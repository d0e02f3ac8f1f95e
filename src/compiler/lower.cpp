// Lowering the integer model to the circuit: dot products, rounding nodes and per-neuron lookup tables.
#include <functional>

#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/tabulate.hpp"
#include "fhenn/ir/ranges.hpp"

namespace fhenn::compiler {
namespace {

std::vector<int64_t> zero_point_constants(const QuantizedLayer& layer) {
  const int64_t zero_point = layer.input_quantizer.zero_point;
  if (zero_point == 0) return {};
  // (L1) = sum_j W[i][j] q[j] + c[i] with c[i] = -z * sum_j W[i][j].
  std::vector<int64_t> constants(static_cast<size_t>(layer.out_features), 0);
  for (size_t i = 0; i < constants.size(); ++i) {
    int64_t row_sum = 0;
    for (int j = 0; j < layer.in_features; ++j) {
      FHENN_CHECK(!__builtin_add_overflow(row_sum, layer.weights[i * layer.in_features + j], &row_sum), "layer ",
                  layer.name, ": its weights' sum overflows 64 bits");
    }
    FHENN_CHECK(!__builtin_mul_overflow(-zero_point, row_sum, &constants[i]), "layer ", layer.name,
                ": its zero-point constant overflows 64 bits");
  }
  return constants;
}

std::vector<ir::LookupTable> layer_tables(const QuantizedLayer& layer, const std::vector<ir::Range>& domains,
                                          SizeBudget& budget) {
  std::vector<ir::LookupTable> tables;
  tables.reserve(domains.size());
  for (size_t i = 0; i < domains.size(); ++i) {
    tables.push_back(tabulate(
        domains[i], [&](int64_t rounded) { return layer.output_integer(i, rounded); }, true, "layer " + layer.name,
        budget));
  }
  return tables;
}

void check_shapes(const QuantizedMlp& model) {
  FHENN_CHECK(!model.layers.empty(), "the model has no layers");
  int in_features = model.input_size;
  for (const QuantizedLayer& layer : model.layers) {
    const auto in = static_cast<size_t>(layer.in_features);
    const auto out = static_cast<size_t>(layer.out_features);
    FHENN_CHECK(layer.in_features == in_features && layer.out_features >= 1 && layer.weights.size() == in * out &&
                    layer.bias.size() == out,
                "layer ", layer.name, " of the integer model has inconsistent shapes");
    FHENN_CHECK(layer.input_quantizer.scale > 0.0 && layer.weight_quantizer.scale > 0.0, "layer ", layer.name,
                ": quantizer scales must be positive");
    in_features = layer.out_features;
  }
}

}  // namespace

ir::Circuit lower_to_circuit(const QuantizedMlp& model) {
  check_shapes(model);
  SizeBudget budget(ir::kMaxCircuitElements, "the integer model's circuit");
  ir::CircuitBuilder builder;
  const quant::UniformQuantizer& client_quantizer = model.layers.front().input_quantizer;
  ir::NodeId current = builder.add_input("input", static_cast<size_t>(model.input_size),
                                         ir::Range{client_quantizer.qmin(), client_quantizer.qmax()});
  for (const QuantizedLayer& layer : model.layers) {
    budget.charge(layer.weights.size());
    current = builder.add_dot_product(layer.name + ".accumulator", current, static_cast<size_t>(layer.out_features),
                                      layer.weights, zero_point_constants(layer));
    if (layer.rounding_shift > 0) current = builder.add_round(layer.name + ".round", current, layer.rounding_shift);
    if (layer.output_quantizer) {
      const auto domains = ir::worst_case_element_ranges(builder.nodes())[current];
      current = builder.add_table_lookup(layer.name + ".lookup", current, layer_tables(layer, domains, budget));
    }
  }
  builder.add_output("output", current);
  return std::move(builder).build();
}

}  // namespace fhenn::compiler
