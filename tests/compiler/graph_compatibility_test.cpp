// Tests of the precision check of compiled model graphs: each kind of node too wide for the engine is named with
// the fix its kind allows, and the fix, applied, passes.
#include <gtest/gtest.h>

#include <random>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compatibility.hpp"
#include "fhenn/compiler/graph_compile.hpp"

namespace fhenn::compiler {
namespace {

Matrix random_rows(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  Matrix m(rows, cols);
  for (double& v : m.values) v = value(rng);
  return m;
}

std::vector<double> random_weights(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 0.5);
  std::vector<double> w(n);
  for (double& x : w) x = normal(rng);
  return w;
}

// x (16) -> fc1 (8) -> relu -> fc2 (2 scores).
Graph dense_graph() {
  GraphNode fc1 = graph_node("fc1", "Gemm", {"x"});
  fc1.weight = random_weights(8 * 16, 1);
  GraphNode fc2 = graph_node("fc2", "Gemm", {"relu"});
  fc2.weight = random_weights(2 * 8, 2);
  return Graph::build({{{"x", {16}}}, {fc1, graph_node("relu", "Relu", {"fc1"}), fc2}, {"fc2"}});
}

TEST(GraphCompatibility, AWideAccumulatorBeforeALookupSuggestsRoundingFirst) {
  GraphCompileOptions options;
  options.n_bits = quant::NBits::uniform(6);
  const Matrix rows = random_rows(64, 16, 3);
  const CompiledModel wide = compile_graph(dense_graph(), rows, options);
  const auto problems = find_precision_problems(wide, {});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].node, "fc1.accumulator");
  EXPECT_GT(problems[0].bits, 8);
  EXPECT_NE(problems[0].message.find("layer fc1: the accumulator needs"), std::string::npos) << problems[0].message;
  EXPECT_NE(problems[0].message.find("; set rounding_threshold_bits to 8 or less, or lower"), std::string::npos)
      << problems[0].message;
  EXPECT_THROW(check_precision(wide, {}), Error);
  options.rounding_threshold_bits = 8;
  EXPECT_NO_THROW(check_precision(compile_graph(dense_graph(), rows, options), {}));

  // A residual sum of two 8-bit tensors is 9 bits wide before its lookup; no linear layer's fixes apply to it.
  const Graph sum = Graph::build({{{"a", {4}}, {"b", {4}}},
                                  {graph_node("sum", "Add", {"a", "b"}), graph_node("relu", "Relu", {"sum"})},
                                  {"relu"}});
  options.n_bits = quant::NBits::uniform(8);
  options.rounding_threshold_bits.reset();
  const auto summed = find_precision_problems(compile_graph(sum, random_rows(64, 8, 4), options), {});
  ASSERT_EQ(summed.size(), 1u);
  EXPECT_NE(summed[0].message.find("node 'sum' (read by lookup 'relu') needs 9 bits"), std::string::npos)
      << summed[0].message;
  EXPECT_NE(summed[0].message.find("; set rounding_threshold_bits to 8 or less, or lower the weight or activation"),
            std::string::npos)
      << summed[0].message;
  options.rounding_threshold_bits = 8;
  EXPECT_NO_THROW(check_precision(compile_graph(sum, random_rows(64, 8, 4), options), {}));
}

TEST(GraphCompatibility, MaxPoolComparisonsAskForFewerActivationBitsAndOutputsForSixteen) {
  // 8-bit activations: max pooling compares by differences of 9 bits, which no rounding may touch. (A 1 x 2
  // window: one comparison, whose interval bound is exact; docs/circuit.md (G5) on wider windows.)
  GraphNode pool = graph_node("pool", "MaxPool", {"relu"});
  pool.ints = {{"kernel_shape", {1, 2}}, {"strides", {1, 2}}};
  const Graph pooled = Graph::build({{{"x", {1, 4, 4}}},
                                     {graph_node("relu", "Relu", {"x"}), pool, graph_node("flat", "Flatten", {"pool"})},
                                     {"flat"}});
  GraphCompileOptions options;
  options.n_bits = quant::NBits::uniform(8);
  const CompiledModel compiled = compile_graph(pooled, random_rows(32, 16, 4), options);
  const auto problems = find_precision_problems(compiled, {});
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message.find("lower the activation (op-input) bits by 1"), std::string::npos)
      << problems[0].message;
  options.n_bits.op_inputs = 7;
  EXPECT_NO_THROW(check_precision(compile_graph(pooled, random_rows(32, 16, 4), options), {}));

  // 8-bit weights and activations over 1024 inputs: the output accumulator needs more than 16 bits.
  GraphNode fc = graph_node("fc", "Gemm", {"x"});
  fc.weight = random_weights(2 * 1024, 5);
  const Graph wide = Graph::build({{{"x", {1024}}}, {fc}, {"fc"}});
  const auto output = find_precision_problems(compile_graph(wide, random_rows(8, 1024, 6), options), {});
  ASSERT_EQ(output.size(), 1u);
  EXPECT_GT(output[0].bits, 16);
  EXPECT_NE(output[0].message.find("layer fc: the output accumulator needs"), std::string::npos) << output[0].message;
}

}  // namespace
}  // namespace fhenn::compiler
