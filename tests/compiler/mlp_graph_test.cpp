// The dense networks through the model graph: a PTQ compile of mlp_graph(model) computes what compile_ptq's
// dense lowering computes, output integer for output integer and score for score (rounding: see below).
#include "fhenn/compiler/mlp_graph.hpp"

#include <gtest/gtest.h>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "model_factory.hpp"

namespace fhenn::compiler {
namespace {

using testing::random_features;
using testing::random_float_mlp;

std::vector<int64_t> output_integers(const ir::Circuit& circuit, const std::vector<int64_t>& inputs) {
  std::vector<int64_t> values(circuit.node_values_size());
  ir::evaluate_nodes(circuit, inputs, values);
  std::vector<int64_t> outputs(circuit.output_width());
  ir::gather_outputs(circuit, values, outputs);
  return outputs;
}

std::vector<int> round_shifts(const ir::Circuit& circuit) {
  std::vector<int> shifts;
  for (const auto& node : circuit.nodes()) {
    if (node.kind() == ir::OpKind::round) shifts.push_back(std::get<ir::RoundOp>(node.op).shift);
  }
  return shifts;
}

struct Case {
  std::vector<int> sizes;
  NBits n_bits;
  std::optional<int> rounding_threshold_bits;
  int max_non_zero;
};

TEST(MlpGraph, PtqThroughTheGraphEqualsTheDenseLowering) {
  const Case cases[] = {{{2, 10, 10, 2}, NBits::uniform(3), std::nullopt, 0},
                        {{2, 20, 2}, NBits::uniform(8), std::nullopt, 0},
                        {{3, 24, 2}, NBits{6, 4, 4, 6}, 4, 0},
                        {{5, 16, 8, 3}, NBits{6, 4, 4, 6}, 4, 0},
                        {{2, 64, 32, 2}, NBits{4, 4, 4, 4}, 6, 16}};
  uint32_t seed = 11;
  int compared = 0;
  for (const Case& c : cases) {
    const FloatMlp model = random_float_mlp(c.sizes, seed, c.max_non_zero);
    const Matrix features = random_features(150, static_cast<size_t>(c.sizes.front()), seed + 1);
    ++seed;
    const CompiledModel dense = compile_ptq(model, features, {c.n_bits, c.rounding_threshold_bits});
    GraphCompileOptions options;
    options.n_bits = c.n_bits;
    options.rounding_threshold_bits = c.rounding_threshold_bits;
    options.input_quantization = InputQuantization::per_tensor;
    const CompiledGraph graph = compile_graph_ptq(Graph::build(mlp_graph(model)), features, options);
    EXPECT_EQ(graph.client.inputs, dense.client.inputs);
    // With rounding, the graph's shift comes from the accumulator's interval bound through the lookup before it
    // (what its table can output), the dense lowering's from the input quantizer's whole range: never more bits
    // dropped, and the same circuit when the two bounds give the same shift.
    const auto graph_shifts = round_shifts(graph.circuit), dense_shifts = round_shifts(dense.circuit);
    ASSERT_EQ(graph_shifts.size(), dense_shifts.size());
    for (size_t k = 0; k < graph_shifts.size(); ++k) EXPECT_LE(graph_shifts[k], dense_shifts[k]) << "round " << k;
    if (graph_shifts != dense_shifts) continue;
    ++compared;
    EXPECT_EQ(graph.report.accumulator_bits, dense.report.accumulator_bits);
    EXPECT_EQ(graph.report.worst_case_accumulator_bits, dense.report.worst_case_accumulator_bits);
    EXPECT_EQ(graph.report.max_lookup_input_bits, dense.report.max_lookup_input_bits);
    for (size_t row = 0; row < features.rows; ++row) {
      const auto inputs = dense.client.quantize(features.row(row));
      const auto graph_outputs = output_integers(graph.circuit, inputs);
      ASSERT_EQ(graph_outputs, output_integers(dense.circuit, inputs)) << "row " << row;
      EXPECT_EQ(graph.client.dequantize(graph_outputs), fake_quantized_scores(dense, features.row(row)));
    }
  }
  EXPECT_EQ(compared, 3);  // both unrounded cases and the rounded one-hidden-layer network (the same bound)
}

TEST(MlpGraph, NamesTheLayersAsTheDenseLowering) {
  const CompiledGraph graph =
      compile_graph_ptq(Graph::build(mlp_graph(random_float_mlp({2, 4, 2}, 3))), random_features(20, 2, 4), {});
  std::vector<std::string> names;
  for (const auto& node : graph.circuit.nodes()) names.push_back(node.name);
  EXPECT_EQ(names, (std::vector<std::string>{"input", "fc1.accumulator", "fc1.lookup", "fc2.accumulator", "output"}));
  EXPECT_THROW(mlp_graph(FloatMlp{2, {}}), Error);
}

}  // namespace
}  // namespace fhenn::compiler
