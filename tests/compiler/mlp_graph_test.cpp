// The dense networks through the model graph: compile_ptq (mlp_graph) computes what the dense integer model
// computes, output integer for output integer and score for score; the names of the dense lowering stay.
#include "fhenn/compiler/mlp_graph.hpp"

#include <gtest/gtest.h>

#include "dense_reference.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/quant/rounding.hpp"
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

struct Case {
  std::vector<int> sizes;
  NBits n_bits;
  std::optional<int> rounding_threshold_bits;
  int max_non_zero;
};

TEST(MlpGraph, PtqThroughTheGraphEqualsTheDenseIntegerModel) {
  const Case cases[] = {{{2, 10, 10, 2}, NBits::uniform(3), std::nullopt, 0},
                        {{2, 20, 2}, NBits::uniform(8), std::nullopt, 0},
                        {{3, 24, 2}, NBits{6, 4, 4, 6}, 4, 0},
                        {{5, 16, 8, 3}, NBits{6, 4, 4, 6}, 4, 0},
                        {{2, 64, 32, 2}, NBits{4, 4, 4, 4}, 6, 16}};
  uint32_t seed = 11;
  for (const Case& c : cases) {
    const FloatMlp model = random_float_mlp(c.sizes, seed, c.max_non_zero);
    const Matrix features = random_features(150, static_cast<size_t>(c.sizes.front()), seed + 1);
    ++seed;
    const CompiledModel compiled = compile_ptq(model, features, {c.n_bits, c.rounding_threshold_bits});
    const auto shifts = testing::round_shifts_by_layer(compiled.circuit);
    const testing::DenseReference dense = testing::dense_ptq_reference(model, features, c.n_bits, shifts);
    EXPECT_EQ(compiled.client.inputs, std::vector<quant::UniformQuantizer>(features.cols, dense.layers.front().input));
    // With rounding, the graph's shift comes from the accumulator's interval bound through the lookup before it
    // (what its table can output), never above the shift of the input quantizer's whole range, and it keeps the
    // rounded accumulator within the threshold.
    for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
      const auto shift = shifts.find(model.layers[l].name);
      if (!c.rounding_threshold_bits || shift == shifts.end()) {
        EXPECT_TRUE(c.rounding_threshold_bits || shift == shifts.end()) << "a rounding without rounding_threshold_bits";
        continue;
      }
      const ir::Range bound = dense.accumulator_bound(l);
      EXPECT_LE(shift->second, quant::rounding_shift_for_range(bound.min, bound.max, *c.rounding_threshold_bits));
    }
    if (c.rounding_threshold_bits) {
      EXPECT_FALSE(shifts.empty());
      EXPECT_LE(compiled.report.worst_case_max_lookup_input_bits, *c.rounding_threshold_bits);
    }
    for (size_t row = 0; row < features.rows; ++row) {
      const auto outputs = output_integers(compiled.circuit, compiled.client.quantize(features.row(row)));
      ASSERT_EQ(outputs, dense.output_integers(features.row(row))) << "row " << row;
      ASSERT_EQ(compiled.client.dequantize(outputs), dense.scores(features.row(row))) << "row " << row;
    }
  }
}

TEST(MlpGraph, NamesTheLayersAsBefore) {
  const CompiledModel graph =
      compile_graph(Graph::build(mlp_graph(random_float_mlp({2, 4, 2}, 3))), random_features(20, 2, 4), {});
  std::vector<std::string> names;
  for (const auto& node : graph.circuit.nodes()) names.push_back(node.name);
  EXPECT_EQ(names, (std::vector<std::string>{"input", "fc1.accumulator", "fc1.lookup", "fc2.accumulator", "output"}));
  EXPECT_THROW(mlp_graph(FloatMlp{2, {}}), Error);
  const CompiledModel rounded = compile_ptq(random_float_mlp({2, 30, 30, 2}, 3), random_features(20, 2, 4), {{}, 3});
  EXPECT_NO_THROW(rounded.circuit.find("fc2.round"));  // the rounding is named after the accumulator it rounds
}

}  // namespace
}  // namespace fhenn::compiler
