// Tests of networks from an architecture: the JSON checks, the export (the model graph's float reference equals
// the torch forward pass for every op), and a digits CNN trained, compiled and run as a circuit.
#include "fhenn/nn/graph_net.hpp"

#include <gtest/gtest.h>

#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "graph_net_test_support.hpp"
#include "test_support.hpp"

namespace fhenn::nn {
namespace {

using fhenn::testing::expect_error_containing;
using testing::digits_training;
using testing::random_rows;

// The largest |torch - graph reference| over the first `rows` rows of `features`.
double export_error(const GraphNet& net, const Matrix& features, size_t rows) {
  const compiler::Graph graph = compiler::Graph::build(net.to_model_graph());
  torch::NoGradGuard no_grad;
  const torch::Tensor scores = net.forward(to_tensor(features)).to(torch::kFloat64);
  double worst = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const auto reference = graph.evaluate(features.row(r)).back().values;
    for (size_t c = 0; c < reference.size(); ++c) {
      const double torch_score = scores[static_cast<int64_t>(r)][static_cast<int64_t>(c)].item<double>();
      worst = std::max(worst, std::abs(torch_score - reference[c]));
    }
  }
  return worst;
}

// The network compiled by post-training quantization at 6 bits, calibrated on `calibration`.
compiler::CompiledModel compile_6_bits(const GraphNet& net, const Matrix& calibration) {
  compiler::GraphCompileOptions compile;
  compile.n_bits = quant::NBits::uniform(6);
  return compiler::compile_graph(compiler::Graph::build(net.to_model_graph()), calibration, compile);
}

// The circuit's accuracy on `set` (the client's quantization, the circuit in the clear, argmax).
double circuit_accuracy(const compiler::CompiledModel& compiled, const LabelledSet& set) {
  size_t correct = 0;
  for (size_t r = 0; r < set.size(); ++r) {
    correct +=
        compiler::predicted_class(compiler::fake_quantized_scores(compiled, set.features.row(r))) == set.labels[r];
  }
  return static_cast<double>(correct) / static_cast<double>(set.size());
}

TEST(Architecture, RefusesBadSpecsNamingTheLayerAndTheFix) {
  const auto error = [](const std::string& json, const std::string& expected) {
    expect_error_containing([&] { parse_architecture(json, "arch.json"); }, expected);
  };
  error("{", "arch.json is not valid JSON");
  error(R"({"layers": []})", "give {\"input\"");
  error(R"({"input": [1, 0, 8], "layers": [{"op": "flatten"}]})", "\"input\" has the dimension 0");
  error(R"({"input": [4], "layers": [{"op": "dense", "out_features": 2}]})", "layer 1: unknown op \"dense\"");
  error(R"({"input": [4], "layers": [{"op": "linear", "out_features": 2, "kernel": 3}]})",
        "layer 1 (linear): unknown field \"kernel\"");
  error(R"({"input": [4], "layers": [{"op": "linear"}]})", "layer 1: give \"out_features\"");
  error(R"({"input": [1, 8, 8], "layers": [{"op": "linear", "out_features": 2}]})",
        "layer 1 (linear) reads a tensor of shape (1, 8, 8): add {\"op\": \"flatten\"} before it");
  error(R"({"input": [1, 4, 4], "layers": [{"op": "conv", "out_channels": 2, "kernel": 5}, {"op": "flatten"}]})",
        "layer 1 (conv): its 5 x 5 kernel is larger than its (1, 4, 4) input");
  error(R"({"input": [3, 4, 4], "layers": [{"op": "conv", "out_channels": 4, "kernel": 1, "groups": 2}]})",
        "groups 2 must divide its 3 input and 4 output channels");
  error(R"({"input": [1, 4, 4], "layers": [{"op": "relu"}]})", "end with {\"op\": \"flatten\"}");
  error(R"({"input": [4], "layers": [{"op": "linear", "out_features": -3}]})", "\"out_features\" is -3");
  expect_error_containing([] { read_architecture("/nonexistent/arch.json"); }, "/nonexistent/arch.json");
  // Residual blocks: their layers checked inside, the shape kept, the nesting bounded.
  error(R"({"input": [2, 4, 4], "layers": [{"op": "residual", "layers": [
            {"op": "conv", "out_channels": 3, "kernel": 3, "padding": 1}]}, {"op": "flatten"}]})",
        "arch.json: layer 1 (residual): its layers turn (2, 4, 4) into (3, 4, 4); a residual block adds its input "
        "back");
  error(R"({"input": [2, 4, 4], "layers": [{"op": "residual"}]})", "layer 1 (residual): give \"layers\"");
  error(R"({"input": [2, 4, 4], "layers": [{"op": "residual", "layers": [{"op": "conv", "kernel": 3}]}]})",
        "arch.json: layer 1 (residual): layer 1: give \"out_channels\"");
  error(R"({"input": [4], "layers": [{"op": "residual", "layers": []}]})",
        "layer 1 (residual): \"layers\" must be a list of 1..");
  std::string nested = R"({"op": "relu"})";
  for (int depth = 0; depth < 9; ++depth) nested = R"({"op": "residual", "layers": [)" + nested + "]}";
  error(R"({"input": [4], "layers": [)" + nested + "]}", "residual blocks nest at most 8 deep");
  // A crafted file cannot make it allocate without bound.
  error(R"({"input": [4096], "layers": [{"op": "linear", "out_features": 4096},
            {"op": "residual", "layers": [{"op": "linear", "out_features": 4096}, {"op": "linear", "out_features": 4096},
            {"op": "linear", "out_features": 4096}, {"op": "linear", "out_features": 4096},
            {"op": "linear", "out_features": 4096}, {"op": "linear", "out_features": 4096},
            {"op": "linear", "out_features": 4096}, {"op": "linear", "out_features": 4096}]}]})",
        "the network would have more than 134217728 weights");
}

// x + f(x) in torch and in the exported graph (an Add after the block's layers), nested blocks included.
TEST(GraphNet, AResidualBlockExportsAsAnAddOfItsInputAndItsLayers) {
  const Architecture arch = parse_architecture(R"({"input": [2, 6, 6], "layers": [
      {"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1}, {"op": "relu"},
      {"op": "residual", "layers": [{"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1}, {"op": "relu"},
          {"op": "residual", "layers": [{"op": "conv", "out_channels": 4, "kernel": 1}]}]},
      {"op": "flatten"}, {"op": "linear", "out_features": 8}, {"op": "relu"},
      {"op": "residual", "layers": [{"op": "linear", "out_features": 8}]}, {"op": "linear", "out_features": 3}]})",
                                               "residual");
  const GraphNet net(arch, 5);
  EXPECT_LT(export_error(net, random_rows(8, 72, 4), 8), 1e-5);
  std::vector<std::string> names;
  for (const auto& node : net.to_model_graph().nodes) names.push_back(node.name + ":" + node.op);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1:Conv", "relu1:Relu", "conv2:Conv", "relu2:Relu", "conv3:Conv",
                                             "add1:Add", "add2:Add", "flatten1:Flatten", "fc1:Gemm", "relu3:Relu",
                                             "fc2:Gemm", "add3:Add", "fc3:Gemm"}));
  EXPECT_EQ(net.parameters().size(), 12u);  // 3 convs and 3 linear layers, weight and bias each
  EXPECT_EQ(output_features(arch), 3u);
}

// A residual CNN on the digits: trained (the skip's gradient flows), compiled with its Add, and its circuit
// tracks the float network.
TEST(GraphNet, AResidualDigitsCnnTrainsAndItsCircuitTracksIt) {
  const Dataset data = load_digits(0.2, 1);
  const Architecture arch = parse_architecture(R"({"input": [1, 8, 8], "layers": [
      {"op": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}, {"op": "relu"},
      {"op": "residual", "layers": [{"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1}, {"op": "relu"}]},
      {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                                               "residual digits cnn");
  const TrainOptions options = digits_training(6);
  const TrainedGraphNet trained = train_graph_net(arch, data.train, options);
  const GraphNet& net = trained.net;
  const double fp32 = accuracy([&](const torch::Tensor& x) { return net.forward(x); }, data.test);
  EXPECT_GT(fp32, 0.85);
  const compiler::CompiledModel compiled = compile_6_bits(net, data.train.features);
  bool has_sum = false;
  for (const auto& node : compiled.circuit.nodes()) has_sum = has_sum || node.name == "add1";
  EXPECT_TRUE(has_sum);
  const double circuit = circuit_accuracy(compiled, data.test);
  EXPECT_GT(circuit, fp32 - 0.03) << "fp32 " << fp32;
  RecordProperty("fp32_accuracy", std::to_string(fp32));
  RecordProperty("circuit_accuracy", std::to_string(circuit));
}

TEST(GraphNet, TheExportedGraphComputesWhatTorchComputesForEveryOp) {
  const Architecture arch = parse_architecture(R"({"input": [2, 8, 8], "layers": [
      {"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1, "groups": 2}, {"op": "leaky_relu", "alpha": 0.1},
      {"op": "maxpool", "kernel": 2}, {"op": "conv", "out_channels": 4, "kernel": 3, "stride": 2}, {"op": "gelu"},
      {"op": "avgpool", "kernel": 1}, {"op": "silu"}, {"op": "flatten"}, {"op": "linear", "out_features": 6},
      {"op": "hardswish"}, {"op": "linear", "out_features": 5}, {"op": "softplus"}, {"op": "tanh"},
      {"op": "sigmoid"}, {"op": "relu"}, {"op": "identity"}, {"op": "linear", "out_features": 3}]})",
                                               "every op");
  const GraphNet net(arch, 7);
  EXPECT_LT(export_error(net, random_rows(8, 128, 3), 8), 1e-5);
  const compiler::ModelGraph graph = net.to_model_graph();
  EXPECT_EQ(graph.nodes.front().name, "conv1");
  EXPECT_EQ(graph.nodes.back().name, "fc3");
  EXPECT_EQ(GraphNet(arch, 7).to_model_graph().nodes[0].weight, graph.nodes[0].weight);  // seeded
  EXPECT_NE(GraphNet(arch, 8).to_model_graph().nodes[0].weight, graph.nodes[0].weight);
}

TEST(GraphNet, ADigitsCnnTrainsAndItsCircuitTracksIt) {
  const Dataset data = load_digits(0.2, 1);
  const Architecture arch = parse_architecture(R"({"input": [1, 8, 8], "layers": [
      {"op": "conv", "out_channels": 6, "kernel": 3, "padding": 1}, {"op": "relu"}, {"op": "avgpool", "kernel": 2},
      {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                                               "digits cnn");
  const TrainOptions options = digits_training(4);
  const TrainedGraphNet trained = train_graph_net(arch, data.train, options);
  const GraphNet& net = trained.net;
  const double fp32 = accuracy([&](const torch::Tensor& x) { return net.forward(x); }, data.test);
  EXPECT_GT(fp32, 0.9);
  EXPECT_LT(export_error(net, data.test.features, 20), 1e-4);

  const compiler::CompiledModel compiled = compile_6_bits(net, data.train.features);
  const double circuit = circuit_accuracy(compiled, data.test);
  EXPECT_GT(circuit, fp32 - 0.03) << "fp32 " << fp32;
  RecordProperty("fp32_accuracy", std::to_string(fp32));
  RecordProperty("circuit_accuracy", std::to_string(circuit));
  expect_error_containing([&] { train_graph_net(arch, load_iris(0.2, 1).train, options); },
                          "the architecture takes 64 input features (1, 8, 8) but the data has 4");
}

// Structured pruning: whole output channels and neurons of the smallest norms, the output layer untouched.
TEST(GraphNet, ChannelMasksRemoveTheWeakestChannelsOfEveryLayerButTheLast) {
  const Architecture arch = parse_architecture(R"({"input": [2, 6, 6], "layers": [
      {"op": "conv", "out_channels": 6, "kernel": 3, "padding": 1}, {"op": "relu"},
      {"op": "residual", "layers": [{"op": "conv", "out_channels": 6, "kernel": 3, "padding": 1}]},
      {"op": "flatten"}, {"op": "linear", "out_features": 5}, {"op": "relu"}, {"op": "linear", "out_features": 3}]})",
                                               "prunable");
  const GraphNet net(arch, 9);
  const ChannelMasks masks = net.channel_masks(0.5);
  ASSERT_EQ(masks.keep.size(), 3u);  // conv1, conv2 (in the block), fc1; not fc2
  EXPECT_EQ(masks.removed, 3u + 3u + 2u);
  EXPECT_EQ(masks.total, 6u + 6u + 5u);
  const compiler::ModelGraph before = net.to_model_graph();
  net.apply(masks);
  const compiler::ModelGraph after = net.to_model_graph();
  size_t layer = 0;
  for (size_t k = 0; k < after.nodes.size(); ++k) {
    const compiler::GraphNode& node = after.nodes[k];
    if (node.weight.empty()) continue;
    const size_t out = node.bias.size(), per_channel = node.weight.size() / out;
    std::vector<double> norms(out);
    for (size_t c = 0; c < out; ++c) {
      for (size_t i = 0; i < per_channel; ++i) norms[c] += std::pow(before.nodes[k].weight[c * per_channel + i], 2);
    }
    size_t zero_channels = 0;
    for (size_t c = 0; c < out; ++c) {
      bool zero = node.bias[c] == 0.0;
      for (size_t i = 0; i < per_channel; ++i) zero = zero && node.weight[c * per_channel + i] == 0.0;
      zero_channels += zero;
      if (layer == masks.keep.size()) continue;  // the output layer
      const bool kept = masks.keep[layer][static_cast<int64_t>(c)].item<float>() == 1.0F;
      EXPECT_EQ(kept, !zero) << node.name << " channel " << c;
      for (size_t d = 0; d < out && !kept; ++d) {  // a removed channel is never stronger than a kept one
        if (masks.keep[layer][static_cast<int64_t>(d)].item<float>() == 1.0F) {
          EXPECT_LE(norms[c], norms[d]);
        }
      }
    }
    EXPECT_EQ(zero_channels, layer == masks.keep.size() ? 0u : out / 2) << node.name;
    ++layer;
  }
  EXPECT_EQ(layer, 4u);
  expect_error_containing([&] { net.channel_masks(1.0); }, "give a number between 0 and 1");
}

// Pruned and fine-tuned: its removed channels' lookups fold to constants, so the engine bootstraps fewer.
TEST(GraphNet, APrunedCnnCostsFewerBootstraps) {
  const Dataset data = load_digits(0.2, 1);
  const Architecture arch = parse_architecture(R"({"input": [1, 8, 8], "layers": [
      {"op": "conv", "out_channels": 8, "kernel": 3, "stride": 2, "padding": 1}, {"op": "relu"},
      {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                                               "digits cnn");
  const TrainOptions options = digits_training(4);
  const TrainedGraphNet pruned = train_graph_net(arch, data.train, options, ChannelPruning{0.5, 2});
  EXPECT_EQ(pruned.channels_removed, 4u);
  EXPECT_EQ(pruned.channels_prunable, 8u);
  const double fp32 = accuracy([&](const torch::Tensor& x) { return pruned.net.forward(x); }, data.test);
  EXPECT_GT(fp32, 0.85);
  compiler::GraphCompileOptions compile;
  compile.n_bits = quant::NBits::uniform(3);
  compile.rounding_threshold_bits = 5;
  const auto bootstraps = [&](const GraphNet& net) {
    const auto compiled =
        compiler::compile_graph(compiler::Graph::build(net.to_model_graph()), data.train.features, compile);
    return runtime::plan_for_engine(compiled.circuit, {}).bootstraps_per_sample;
  };
  const size_t pruned_bootstraps = bootstraps(pruned.net);
  EXPECT_LE(pruned_bootstraps, 4u * 16u);  // 4 channels of 4 x 4 lookups are left
  EXPECT_GT(bootstraps(GraphNet(arch, 3)), 4u * 16u);
  RecordProperty("bootstraps", std::to_string(pruned_bootstraps));
}

}  // namespace
}  // namespace fhenn::nn
