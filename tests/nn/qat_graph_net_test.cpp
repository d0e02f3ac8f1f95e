// Tests of quantization-aware GraphNets: the exported graph's circuit outputs the forward pass's integers, bit for
// bit, for every op (conv, pools, residual blocks, linear) and both weight scalings; a digits CNN trained with
// quantizers in the loop, pruned, and run as its circuit.
#include "fhenn/nn/qat_graph_net.hpp"

#include <gtest/gtest.h>

#include <set>

#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/nn/qat_network.hpp"
#include "fhenn/runtime/executor.hpp"
#include "graph_net_test_support.hpp"
#include "test_support.hpp"

namespace fhenn::nn {
namespace {

using fhenn::testing::expect_error_containing;
using testing::digits_training;
using testing::random_rows;

// The exported graph compiled with every accumulator bit kept (no rounding: the circuit is the network).
compiler::CompiledModel compile_exact(const QatGraphNet& net, const Matrix& calibration) {
  compiler::GraphCompileOptions compile;
  compile.n_bits = quant::NBits::uniform(net.options().bits);
  return compiler::compile_graph(compiler::Graph::build(net.to_model_graph()), calibration, compile);
}

// Every sample: the circuit's output integers equal the forward pass's, and so does the client's class; the outputs
// differ between samples (a network whose every output is constant would match trivially). Returns how many samples
// the circuit classifies wrongly.
size_t expect_circuit_matches(const QatGraphNet& net, const LabelledSet& set) {
  const compiler::CompiledModel compiled = compile_exact(net, set.features);
  torch::NoGradGuard no_grad;
  const QatGraphOutputs outputs = net.run(to_float64_tensor(set.features));
  const torch::Tensor integers = outputs.output_integers.to(torch::kInt64).contiguous();
  size_t wrong = 0;
  std::set<std::vector<int64_t>> distinct;
  for (size_t row = 0; row < set.size(); ++row) {
    const std::vector<int64_t> circuit =
        runtime::run_clear(compiled.circuit, compiled.client.quantize(set.features.row(row)));
    const int64_t* expected = integers[static_cast<int64_t>(row)].data_ptr<int64_t>();
    EXPECT_EQ(circuit, std::vector<int64_t>(expected, expected + circuit.size())) << "sample " << row;
    const size_t predicted = compiler::predicted_class(compiled.client.dequantize(circuit));
    EXPECT_EQ(static_cast<int64_t>(predicted), outputs.logits[static_cast<int64_t>(row)].argmax().item<int64_t>());
    wrong += static_cast<int64_t>(predicted) != set.labels[row];
    distinct.insert(circuit);
  }
  EXPECT_GT(distinct.size(), set.size() / 4);
  return wrong;
}

// Every op the architectures have: padded and grouped convolutions, both pools, a residual block ending in an
// activation and one ending in a convolution, a tanh (signed), and two linear layers.
const char* const kEveryOp = R"({"input": [1, 8, 8], "layers": [
  {"op": "conv", "out_channels": 8, "kernel": 3, "padding": 1}, {"op": "relu"},
  {"op": "residual", "layers": [{"op": "conv", "out_channels": 8, "kernel": 3, "padding": 1}, {"op": "relu"}]},
  {"op": "avgpool", "kernel": 2},
  {"op": "residual", "layers": [{"op": "conv", "out_channels": 8, "kernel": 1, "groups": 2}]},
  {"op": "conv", "out_channels": 16, "kernel": 3, "padding": 1}, {"op": "tanh"}, {"op": "maxpool", "kernel": 2},
  {"op": "flatten"}, {"op": "linear", "out_features": 16}, {"op": "relu"}, {"op": "linear", "out_features": 10}]})";

class QatGraphExactness : public ::testing::TestWithParam<WeightScaling> {};

TEST_P(QatGraphExactness, TheCircuitOutputsTheForwardIntegersForEveryOp) {
  const Dataset data = load_digits(0.2, 1);
  const TrainedQatGraphNet trained = train_qat_graph_net(parse_architecture(kEveryOp, "every op"), data.train,
                                                         digits_training(3), {3, 3, 4, GetParam()});
  const size_t wrong = expect_circuit_matches(trained.net, data.test);
  EXPECT_LT(static_cast<double>(wrong), 0.25 * static_cast<double>(data.test.size()));
  // The quantizers: the input's on [0, 1] (unsigned, constant), then one per point, none for the residual outputs.
  const auto quantizers = trained.net.quantizers();
  ASSERT_EQ(quantizers.size(), 7U);
  EXPECT_FALSE(quantizers[0].is_signed);
  EXPECT_EQ(quantizers[0].bits, 4);
  EXPECT_DOUBLE_EQ(quantizers[0].scale, 1.0 / 15.0);
}

INSTANTIATE_TEST_SUITE_P(WeightScales, QatGraphExactness,
                         ::testing::Values(WeightScaling::per_tensor, WeightScaling::per_channel));

TEST(QatGraphNet, PerChannelScalesGiveEachOutputChannelItsOwnWeightScale) {
  QatGraphNet net(GraphNet(parse_architecture(kEveryOp, "every op"), 4), {3, 3, 4, WeightScaling::per_channel});
  net.calibrate(random_rows(50, 64, 9));
  const compiler::ModelGraph graph = net.to_model_graph();
  size_t weighted = 0;
  for (const compiler::GraphNode& node : graph.nodes) {
    if (node.op != "Conv" && node.op != "Gemm") continue;
    ++weighted;
    ASSERT_TRUE(node.quantizer.has_value()) << node.name;
    const auto& scales = node.tensors.at("weight_scales");
    const size_t rows = scales.size(), row_length = node.weight.size() / rows;
    for (size_t r = 0; r < rows; ++r) {
      double largest = 0.0;
      for (size_t k = r * row_length; k < (r + 1) * row_length; ++k)
        largest = std::max(largest, std::abs(node.weight[k]));
      EXPECT_DOUBLE_EQ(scales[r], largest / 3.0) << node.name << " channel " << r;  // 3 bits: qmax 3
    }
  }
  EXPECT_EQ(weighted, 6U);
}

TEST(QatGraphNet, RefusesToRunUncalibratedAndUnknownScalings) {
  const QatGraphNet net(GraphNet(parse_architecture(kEveryOp, "every op"), 4), {});
  expect_error_containing([&] { net.forward(torch::zeros({1, 64})); }, "not calibrated");
  expect_error_containing([&] { net.to_model_graph(); }, "not calibrated");
  expect_error_containing([] { parse_weight_scaling("per-row"); }, "give per-tensor or per-channel");
  expect_error_containing([] { QatGraphNet(GraphNet(parse_architecture(kEveryOp, "a"), 1), {1}); }, "--bits 1");
}

// A 3-bit digits CNN trained with its quantizers, then pruned by half its channels: the circuit of each computes
// the network's integers on the test set, and they classify the digits.
TEST(QatGraphNet, AQuantizationAwareDigitsCnnTrainsPrunesAndItsCircuitIsTheNetwork) {
  const Dataset data = load_digits(0.2, 1);
  const Architecture arch = parse_architecture(R"({"input": [1, 8, 8], "layers": [
      {"op": "conv", "out_channels": 8, "kernel": 3}, {"op": "relu"}, {"op": "avgpool", "kernel": 2},
      {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                                               "qat digits cnn");
  const TrainOptions options = digits_training(3);
  for (const auto& pruning : {std::optional<ChannelPruning>{}, std::optional<ChannelPruning>{{0.5, 2}}}) {
    const TrainedQatGraphNet trained = train_qat_graph_net(arch, data.train, options, {3, 3, 4}, pruning);
    const size_t wrong = expect_circuit_matches(trained.net, data.test);
    EXPECT_LT(static_cast<double>(wrong), 0.12 * static_cast<double>(data.test.size())) << (pruning ? "pruned" : "");
    EXPECT_EQ(trained.channels_removed, pruning ? 4U : 0U);
  }
}

}  // namespace
}  // namespace fhenn::nn
