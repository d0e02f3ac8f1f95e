// Tests of the model graph: each op's float reference, the checks at build time, PTQ through the registry, and a
// small residual CNN end to end (clear = simulated without noise, encrypted = clear).
#include "fhenn/compiler/graph.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"
#include "runtime/runtime_test_circuits.hpp"
#include "test_support.hpp"

namespace fhenn::compiler {
namespace {

using testing::expect_error_containing;

// One op applied to one input of `shape`, evaluated on `values`.
std::vector<double> apply(GraphNode n, const Shape& shape, const std::vector<double>& values) {
  n.inputs = {"x"};
  const std::string name = n.name;
  const Graph g = Graph::build({{{"x", shape}}, {std::move(n)}, {name}});
  return g.evaluate(values).back().values;
}

TEST(GraphReference, GemmConvAndPoolsOnHandComputedCases) {
  GraphNode gemm = graph_node("fc", "Gemm", {});
  gemm.weight = {1, 2, -1, 0.5};
  gemm.bias = {0.25, -1};
  EXPECT_EQ(apply(gemm, {2}, {3, 4}), (std::vector<double>{3 + 8 + 0.25, -3 + 2 - 1}));

  GraphNode conv = graph_node("conv", "Conv", {});
  conv.weight = {1, 0, 0, 1};  // the diagonal of a 2x2 window
  conv.bias = {0.5};
  conv.ints["kernel_shape"] = {2, 2};
  EXPECT_EQ(apply(conv, {1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), (std::vector<double>{6.5, 8.5, 12.5, 14.5}));
  conv.ints["pads"] = {1, 1, 1, 1};  // zero padding: the corner sees only the top-left value
  EXPECT_EQ(apply(conv, {1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})[0], 1.5);

  GraphNode average = graph_node("avg", "AveragePool", {});
  average.ints["kernel_shape"] = {2, 2};
  average.ints["strides"] = {2, 2};
  EXPECT_EQ(apply(average, {1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), (std::vector<double>{3.5, 5.5}));
  GraphNode max = average;
  max.op = "MaxPool";
  EXPECT_EQ(apply(max, {1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, -8}), (std::vector<double>{6, 7}));
  EXPECT_EQ(apply(graph_node("g", "GlobalAveragePool", {}), {2, 1, 2}, {1, 3, 5, 9}), (std::vector<double>{2, 7}));
  EXPECT_EQ(apply(graph_node("f", "Flatten", {}), {2, 1, 2}, {1, 3, 5, 9}), (std::vector<double>{1, 3, 5, 9}));
}

TEST(GraphReference, EveryActivationAtAFewPoints) {
  const std::vector<double> x = {-2.0, -0.5, 0.0, 1.5};
  const auto at = [&](const std::string& op) { return apply(graph_node("a", op, {}), {4}, x); };
  EXPECT_EQ(at("Relu"), (std::vector<double>{0, 0, 0, 1.5}));
  EXPECT_EQ(at("Identity"), x);
  EXPECT_EQ(at("LeakyRelu"), (std::vector<double>{-0.02, -0.005, 0, 1.5}));
  EXPECT_NEAR(at("Sigmoid")[0], 1.0 / (1.0 + std::exp(2.0)), 1e-15);
  EXPECT_NEAR(at("Tanh")[3], std::tanh(1.5), 1e-15);
  EXPECT_NEAR(at("Gelu")[1], -0.5 * 0.5 * (1 + std::erf(-0.5 / std::sqrt(2.0))), 1e-15);
  EXPECT_NEAR(at("Silu")[3], 1.5 / (1 + std::exp(-1.5)), 1e-15);
  EXPECT_EQ(at("HardSwish"), (std::vector<double>{-2.0 * 1.0 / 6.0, -0.5 * 2.5 / 6.0, 0, 1.5 * 4.5 / 6.0}));
  EXPECT_NEAR(at("Softplus")[0], std::log1p(std::exp(-2.0)), 1e-15);
  GraphNode leaky = graph_node("a", "LeakyRelu", {});
  leaky.floats["alpha"] = 0.5;
  EXPECT_EQ(apply(leaky, {4}, x)[0], -1.0);
}

TEST(GraphReference, AddSubConcatAndFoldedBatchNorm) {
  ModelGraph g{
      {{"x", {2}}, {"y", {2}}},
      {graph_node("s", "Add", {"x", "y"}), graph_node("d", "Sub", {"s", "y"}), graph_node("c", "Concat", {"d", "x"})},
      {"c"}};
  EXPECT_EQ(Graph::build(g).evaluate(std::vector<double>{1, 2, 10, 20}).back().values,
            (std::vector<double>{1, 2, 1, 2}));

  GraphNode conv = graph_node("conv", "Conv", {"x"});
  conv.weight = {2, -1};  // 1x1 kernels, 2 output channels
  conv.ints["kernel_shape"] = {1, 1};
  GraphNode bn = graph_node("bn", "BatchNormalization", {"conv"});
  bn.tensors = {{"scale", {1.0, 2.0}}, {"B", {0.5, 0.0}}, {"mean", {1.0, -1.0}}, {"var", {4.0, 1.0}}};
  bn.floats["epsilon"] = 0.0;
  const Graph folded = Graph::build({{{"x", {1, 1, 2}}}, {conv, bn}, {"bn"}});
  EXPECT_EQ(folded.nodes().size(), 1u);  // the batch normalization is gone into the convolution
  // Channel 0: (2x - 1) / 2 + 0.5; channel 1: (-x + 1) * 2.
  EXPECT_EQ(folded.evaluate(std::vector<double>{3, 5}).back().values, (std::vector<double>{3, 5, -4, -8}));
}

TEST(GraphBuild, RefusesBadGraphsNamingTheNodeAndTheFix) {
  GraphNode gemm = graph_node("fc", "Gemm", {"x"});
  gemm.weight = {1, 2};
  const auto build = [](ModelGraph g) { Graph::build(std::move(g)); };
  expect_error_containing(
      [&] {
        build({{{"x", {2}}}, {graph_node("t", "Transpose", {"x"})}, {"t"}});
      },
      "uses the op 'Transpose', which fhenn does not support; supported: Gemm, Conv");
  expect_error_containing(
      [&] {
        build({{{"x", {2}}, {"y", {3}}}, {graph_node("s", "Add", {"x", "y"})}, {"s"}});
      },
      "Add 's' combines tensors of shapes 2 and 3");
  expect_error_containing(
      [&] {
        build({{{"x", {2}}}, {graph_node("a", "Add", {"x", "b"}), graph_node("b", "Relu", {"a"})}, {"b"}});
      },
      "is on a cycle");
  expect_error_containing(
      [&] {
        build({{{"x", {2}}}, {graph_node("r", "Relu", {"z"})}, {"r"}});
      },
      "reads 'z', which no node or graph input produces");
  expect_error_containing(
      [&] {
        build({{{"x", {2}}}, {gemm, graph_node("r", "Relu", {"x"})}, {"r"}});
      },
      "tensor 'fc' is computed but nothing reads it");
  expect_error_containing(
      [&] {
        build({{{"x", {0}}}, {graph_node("r", "Relu", {"x"})}, {"r"}});
      },
      "every dimension must be 1..");
  GraphNode conv = graph_node("conv", "Conv", {"x"});
  conv.weight.assign(16, 1.0);
  conv.ints["kernel_shape"] = {4, 4};
  expect_error_containing([&] { build({{{"x", {1, 3, 3}}}, {conv}, {"conv"}}); }, "its kernel spans 4 row positions");
  GraphNode bn = graph_node("bn", "BatchNormalization", {"x"});
  bn.tensors = {{"scale", {1.0}}, {"B", {0.0}}, {"mean", {0.0}}, {"var", {1.0}}};
  expect_error_containing([&] { build({{{"x", {1}}}, {bn}, {"bn"}}); }, "fhenn folds batch normalization into");
  gemm.weight = {1, std::nan("")};
  expect_error_containing([&] { build({{{"x", {2}}}, {gemm}, {"fc"}}); }, "weights must be finite");
}

struct CnnShape {
  size_t side = 6;         // the input image: 1 x side x side
  size_t kernel1 = 3;      // conv1's kernel, padded to keep the side when odd
  size_t kernel2 = 3;      // conv2's kernel, likewise
  size_t pool_stride = 2;  // the 2x2 max pool's stride
};

// x (1 x side x side) -> conv (2 channels) -> relu -> conv -> add(relu output) -> relu -> max pool 2x2 -> flatten
// -> gemm (2 scores): conv, ReLU, conv, add, pool, linear.
ModelGraph residual_cnn(std::mt19937_64& rng, const CnnShape& s = {}) {
  std::normal_distribution<double> normal(0.0, 0.4);
  const auto random = [&](size_t n) {
    std::vector<double> v(n);
    for (double& x : v) x = normal(rng);
    return v;
  };
  const auto k1 = static_cast<int64_t>(s.kernel1);
  const auto k2 = static_cast<int64_t>(s.kernel2);
  const int64_t pad1 = k1 % 2 == 1 ? k1 / 2 : 0;
  const int64_t pad2 = k2 % 2 == 1 ? k2 / 2 : 0;
  GraphNode conv1 = graph_node("conv1", "Conv", {"x"});
  conv1.weight = random(2 * s.kernel1 * s.kernel1);
  conv1.bias = random(2);
  conv1.ints = {{"kernel_shape", {k1, k1}}, {"pads", {pad1, pad1, pad1, pad1}}};
  const size_t side1 = s.side + 2 * static_cast<size_t>(pad1) - s.kernel1 + 1;
  GraphNode conv2 = graph_node("conv2", "Conv", {"relu1"});
  conv2.weight = random(2 * 2 * s.kernel2 * s.kernel2);
  conv2.bias = random(2);
  conv2.ints = {{"kernel_shape", {k2, k2}}, {"pads", {pad2, pad2, pad2, pad2}}};
  GraphNode pool = graph_node("pool", "MaxPool", {"relu2"});
  const auto stride = static_cast<int64_t>(s.pool_stride);
  pool.ints = {{"kernel_shape", {2, 2}}, {"strides", {stride, stride}}};
  const size_t pooled = (side1 - 2) / s.pool_stride + 1;
  GraphNode fc = graph_node("fc", "Gemm", {"flat"});
  fc.weight = random(2 * 2 * pooled * pooled);
  fc.bias = random(2);
  return {{{"x", {1, s.side, s.side}}},
          {conv1, graph_node("relu1", "Relu", {"conv1"}), conv2, graph_node("residual", "Add", {"conv2", "relu1"}),
           graph_node("relu2", "Relu", {"residual"}), pool, graph_node("flat", "Flatten", {"pool"}), fc},
          {"fc"}};
}

Matrix random_images(size_t rows, size_t pixels, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> pixel(0.0, 1.0);
  Matrix m(rows, pixels);
  for (double& v : m.values) v = pixel(rng);
  return m;
}

// The largest |float - circuit| over the rows, relative to the largest |float| score.
double relative_error(const Graph& graph, const CompiledModel& compiled, const Matrix& rows) {
  double worst = 0.0, largest = 0.0;
  for (size_t row = 0; row < rows.rows; ++row) {
    const auto exact = graph.evaluate(rows.row(row)).back().values;
    const auto quantized = fake_quantized_scores(compiled, rows.row(row));
    for (size_t i = 0; i < exact.size(); ++i) {
      worst = std::max(worst, std::abs(exact[i] - quantized[i]));
      largest = std::max(largest, std::abs(exact[i]));
    }
  }
  return worst / largest;
}

TEST(GraphPtq, EightBitCircuitTracksTheFloatModel) {
  std::mt19937_64 rng(3);
  const Graph graph = Graph::build(residual_cnn(rng));
  const Matrix calibration = random_images(64, 36, rng);
  GraphCompileOptions options;
  options.n_bits = quant::NBits::uniform(8);
  const CompiledModel compiled = compile_graph(graph, calibration, options);
  EXPECT_LT(relative_error(graph, compiled, calibration), 0.05);
  // Per-channel tables: the first ReLU has one table per channel, not per pixel.
  const auto& relu1 = compiled.circuit.node(compiled.circuit.find("relu1"));
  EXPECT_EQ(std::get<ir::TableLookupOp>(relu1.op).tables.size(), 2u);
  EXPECT_EQ(relu1.shape, (Shape{2, 6, 6}));
}

TEST(GraphPtq, ResidualCnnRunsEncryptedExactlyAsTheClearCircuit) {
  // Small enough for a few seconds encrypted: 1x4x4 images, 2x2 then 1x1 kernels, the pool at stride 1; 2-bit
  // weights and activations keep every lookup within 5 bits without rounding (rounding is approximate encrypted).
  std::mt19937_64 rng(3);
  const Graph graph = Graph::build(residual_cnn(rng, {4, 2, 1, 1}));
  const Matrix calibration = random_images(32, 16, rng);
  GraphCompileOptions options;
  options.n_bits = quant::NBits{2, 2, 2, 5};
  const CompiledModel compiled = compile_graph(graph, calibration, options);
  const auto& circuit = compiled.circuit;
  runtime::IntMatrix inputs(calibration.rows, circuit.input_width());
  inputs.values = compiled.client.quantize_rows(calibration);
  runtime::ClearExecutor clear;
  const runtime::EnginePlan plan = runtime::plan_for_engine(circuit, {});
  runtime::SimulatedExecutor noiseless(circuit, plan, 1, 2, /*noise_scale=*/0.0);
  EXPECT_EQ(noiseless.run_batch(circuit, inputs).values, clear.run_batch(circuit, inputs).values);

  const auto& keys = runtime::testing::shared_keys(plan.params);
  runtime::EncryptedExecutor encrypted(circuit, plan, *keys.client, *keys.server, 2, tfhe::Csprng::for_tests_only(9));
  EXPECT_LE(plan.max_index_bits, 5) << runtime::describe_plan(circuit, plan);
  runtime::IntMatrix two(2, circuit.input_width());
  two.values.assign(inputs.values.begin(), inputs.values.begin() + static_cast<std::ptrdiff_t>(two.values.size()));
  EXPECT_EQ(encrypted.run_batch(circuit, two).values, clear.run_batch(circuit, two).values)
      << runtime::describe_plan(circuit, plan);
}

// Features on ranges of very different widths: [0, 1], [-50, 50], [-5, 5].
Matrix tabular_features(size_t rows, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Matrix m(rows, 3);
  for (size_t r = 0; r < rows; ++r) {
    m.values[r * 3] = unit(rng);
    m.values[r * 3 + 1] = 100.0 * unit(rng) - 50.0;
    m.values[r * 3 + 2] = 10.0 * unit(rng) - 5.0;
  }
  return m;
}

TEST(GraphPtq, PerFeatureInputQuantizersFitEachFeaturesRange) {
  std::mt19937_64 rng(5);
  GraphNode fc1 = graph_node("fc1", "Gemm", {"x"});
  // Weights that give every feature a similar share of the score.
  fc1.weight = {4.0, 0.04, 0.4, -4.0, -0.04, 0.4, 2.0, 0.04, -0.4, 1.0, 0.02, 0.2};
  fc1.bias = {0.5, 1.0, -0.5, 0.0};
  GraphNode fc2 = graph_node("fc2", "Gemm", {"relu"});
  fc2.weight = {1.0, -1.0, 0.5, 0.25, -0.5, 1.0, 1.0, -1.0};
  const Graph graph = Graph::build({{{"x", {3}}}, {fc1, graph_node("relu", "Relu", {"fc1"}), fc2}, {"fc2"}});
  const Matrix calibration = tabular_features(200, rng);
  GraphCompileOptions options;
  options.n_bits = quant::NBits{6, 6, 6, 6};
  const CompiledModel per_feature = compile_graph(graph, calibration, options);
  // Each feature on its own range: one 6-bit step is 1/63 of its width, whatever the others' widths.
  const std::vector<double> widths = {1.0, 100.0, 10.0};
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(per_feature.client.inputs[j].scale, widths[j] / 63.0, 0.03 * widths[j] / 63.0) << "feature " << j;
  }
  // Gemm folds the scales into its weights: no lookup before it.
  EXPECT_THROW((void)per_feature.circuit.find("fc1.input"), Error);
  // An input that an op other than Gemm or Conv reads keeps one range (InputQuantization's rule).
  const Graph activated = Graph::build({{{"x", {3}}}, {graph_node("relu", "Relu", {"x"})}, {"relu"}});
  const CompiledModel one_range = compile_graph(activated, calibration, options);
  EXPECT_EQ(one_range.client.inputs[0], one_range.client.inputs[1]);
  options.input_quantization = InputQuantization::per_tensor;
  const CompiledModel shared = compile_graph(graph, calibration, options);
  EXPECT_DOUBLE_EQ(shared.client.inputs[0].scale, shared.client.inputs[2].scale);
  const double per_feature_error = relative_error(graph, per_feature, calibration);
  const double shared_error = relative_error(graph, shared, calibration);
  EXPECT_LT(per_feature_error, 0.08);
  EXPECT_LT(4.0 * per_feature_error, shared_error) << per_feature_error << " vs " << shared_error;
}

TEST(GraphPtq, PerChannelImagesPadEachChannelWithItsZeroPoint) {
  // 2-channel 5x5 images, channel 0 in [0, 1] and channel 1 in [-8, 0]: a padded conv, then a flatten of the
  // input itself into a Gemm (the quantizers follow the elements) beside it.
  std::mt19937_64 rng(6);
  std::normal_distribution<double> normal(0.0, 0.4);
  const auto random = [&](size_t n) {
    std::vector<double> v(n);
    for (double& x : v) x = normal(rng);
    return v;
  };
  // Channel 0's weights 8 times channel 1's, so that both channels weigh alike in the scores.
  GraphNode conv = graph_node("conv", "Conv", {"x"});
  conv.weight = random(2 * 2 * 3 * 3);
  for (size_t k = 0; k < conv.weight.size(); ++k) conv.weight[k] *= k / 9 % 2 == 0 ? 8.0 : 1.0;
  conv.ints = {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}};
  GraphNode fc_conv = graph_node("fc_conv", "Gemm", {"flat_conv"});
  fc_conv.weight = random(2 * 50);
  GraphNode fc_input = graph_node("fc_input", "Gemm", {"flat_x"});
  fc_input.weight = random(2 * 50);
  for (size_t k = 0; k < fc_input.weight.size(); ++k) fc_input.weight[k] *= k % 50 < 25 ? 8.0 : 1.0;
  const Graph graph = Graph::build(
      {{{"x", {2, 5, 5}}},
       {conv, graph_node("relu", "Relu", {"conv"}), graph_node("flat_conv", "Flatten", {"relu"}), fc_conv,
        graph_node("flat_x", "Flatten", {"x"}), fc_input, graph_node("sum", "Add", {"fc_conv", "fc_input"})},
       {"sum"}});
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Matrix images(64, 50);
  for (size_t r = 0; r < images.rows; ++r) {
    for (size_t i = 0; i < 50; ++i) images.values[r * 50 + i] = i < 25 ? unit(rng) : -8.0 * unit(rng);
  }
  GraphCompileOptions options;
  options.n_bits = quant::NBits::uniform(7);
  const CompiledModel compiled = compile_graph(graph, images, options);
  const auto& op = std::get<ir::Conv2dOp>(compiled.circuit.node(compiled.circuit.find("conv.accumulator")).op);
  ASSERT_EQ(op.pad_values.size(), 2u);
  EXPECT_EQ(op.pad_values[0], compiled.client.inputs[0].zero_point);
  EXPECT_EQ(op.pad_values[1], compiled.client.inputs[25].zero_point);
  EXPECT_NE(op.pad_values[0], op.pad_values[1]);
  EXPECT_EQ(ir::deserialize_circuit(ir::serialize_circuit(compiled.circuit), "image.fhc"), compiled.circuit);
  EXPECT_THROW((void)compiled.circuit.find("flat_x.input"), Error);
  EXPECT_LT(relative_error(graph, compiled, images), 0.05);
  // One shared range for both channels roughly doubles the error (0.038 against 0.081 when written).
  options.input_quantization = InputQuantization::per_tensor;
  EXPECT_LT(relative_error(graph, compiled, images),
            0.75 * relative_error(graph, compile_graph(graph, images, options), images));
}

TEST(GraphPtq, ReshapeOfAnAccumulatorKeepsEachElementsBias) {
  // A Gemm's 8 outputs (8 biases) reshaped to 2 x 2 x 2: a channel would mix four biases, so the accumulator is
  // requantized first; the scores still track the float model.
  std::mt19937_64 rng(7);
  GraphNode fc = graph_node("fc", "Gemm", {"x"});
  fc.weight.assign(8 * 4, 0.0);
  for (size_t o = 0; o < 8; ++o) fc.weight[o * 4 + o % 4] = 1.0;
  fc.bias = {0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.5};
  GraphNode reshape = graph_node("cube", "Reshape", {"fc"});
  reshape.ints = {{"shape", {2, 2, 2}}};
  const Graph graph =
      Graph::build({{{"x", {4}}},
                    {fc, reshape, graph_node("relu", "Relu", {"cube"}), graph_node("flat", "Flatten", {"relu"})},
                    {"flat"}});
  GraphCompileOptions options;
  options.n_bits = quant::NBits::uniform(8);
  const Matrix calibration = random_images(64, 4, rng);
  const CompiledModel compiled = compile_graph(graph, calibration, options);
  EXPECT_NO_THROW((void)compiled.circuit.find("cube.input"));
  EXPECT_LT(relative_error(graph, compiled, calibration), 0.02);
}

// Quant nodes: the fake quantizer's float reference, fused where it fixes a lookup's or the client's quantizer, one
// lookup where it requantizes, and a trained weight quantizer and rounding shift used as they are.
TEST(GraphQuant, FixesTheQuantizersItFollowsAndCostsALookupOnlyWhereItRequantizes) {
  const quant::UniformQuantizer q3{.bits = 3, .is_signed = false, .narrow_range = false, .scale = 0.5, .zero_point = 0};
  GraphNode quant = graph_node("q", "Quant", {"x"});
  quant.quantizer = q3;
  EXPECT_EQ(apply(quant, {4}, {-1.0, 0.7, 1.3, 9.0}), (std::vector<double>{0.0, 0.5, 1.5, 3.5}));

  // x -> Quant (the client's quantizer) -> Gemm (trained 2-bit weights, rounding shift 1) -> Relu -> Quant (fused
  // into the ReLU's lookup) -> Quant (another quantizer: one requantizing lookup).
  const quant::UniformQuantizer input{
      .bits = 4, .is_signed = true, .narrow_range = true, .scale = 0.25, .zero_point = 0};
  const quant::UniformQuantizer weights{
      .bits = 2, .is_signed = true, .narrow_range = true, .scale = 0.5, .zero_point = 0};
  GraphNode in = graph_node("x.quant", "Quant", {"x"});
  in.quantizer = input;
  GraphNode fc = graph_node("fc", "Gemm", {"x.quant"});
  fc.weight = {0.5, -0.5, 0.4, 0.0, -0.6, 0.5};
  fc.quantizer = weights;
  GraphNode out = graph_node("fc.quant", "Quant", {"relu"});
  out.quantizer = q3;
  GraphNode again = graph_node("again", "Quant", {"fc.quant"});
  again.quantizer =
      quant::UniformQuantizer{.bits = 2, .is_signed = false, .narrow_range = false, .scale = 1.0, .zero_point = 0};
  const auto graph_of = [&](const GraphNode& gemm) {
    return Graph::build({{{"x", {3}}}, {in, gemm, graph_node("relu", "Relu", {"fc"}), out, again}, {"again"}});
  };
  std::mt19937_64 rng(3);
  const Matrix rows = random_images(16, 3, rng);
  const Graph graph = graph_of(fc);
  const CompiledModel compiled = compile_graph(graph, rows, {});
  EXPECT_EQ(compiled.client.inputs, std::vector<quant::UniformQuantizer>(3, input));
  std::vector<std::string> names;
  for (const auto& node : compiled.circuit.nodes()) names.push_back(node.name);
  EXPECT_EQ(names, (std::vector<std::string>{"x", "fc.accumulator", "relu", "again", "output"}));
  EXPECT_EQ(std::get<ir::DotProductOp>(compiled.circuit.node(1).op).weights,
            (std::vector<int64_t>{1, -1, 1, 0, -1, 1}));
  // The circuit computes the fake-quantized float reference exactly here: every scale is a power of two.
  for (size_t row = 0; row < rows.rows; ++row) {
    EXPECT_EQ(fake_quantized_scores(compiled, rows.row(row)), graph.evaluate(rows.row(row)).back().values) << row;
  }
  fc.ints["rounding_shift"] = {1};
  const CompiledModel rounded = compile_graph(graph_of(fc), rows, {});
  EXPECT_EQ(std::get<ir::RoundOp>(rounded.circuit.node(rounded.circuit.find("fc.round")).op).shift, 1);

  GraphNode missing = graph_node("q", "Quant", {"x"});
  expect_error_containing([&] { Graph::build({{{"x", {2}}}, {missing}, {"q"}}); }, "Quant 'q' has no quantizer");
  fc.ints["rounding_shift"] = {41};
  expect_error_containing(
      [&] {
        compile_graph(Graph::build({{{"x", {3}}}, {in, fc}, {"fc"}}), rows, {});
      },
      "node 'fc' (Gemm): rounding_shift is 41");
  fc.ints.erase("rounding_shift");
  fc.quantizer->zero_point = 1;
  expect_error_containing(
      [&] {
        compile_graph(Graph::build({{{"x", {3}}}, {in, fc}, {"fc"}}), rows, {});
      },
      "fc.weight: the weight quantizer has zero point 1");
}

}  // namespace
}  // namespace fhenn::compiler
