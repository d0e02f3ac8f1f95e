// Tests of model and compiled-model files: round trips, and clear errors for bad or damaged files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "compiler/model_factory.hpp"
#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph_io.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/runtime/executor.hpp"
#include "test_support.hpp"

namespace fhenn::compiler {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("fhenn_io_test_" + std::to_string(::getpid()) + "_" + name);
}

using testing::expect_error_containing;

QatMlp small_qat() {
  QatMlp qat;
  const FloatMlp f = testing::random_float_mlp({2, 6, 2}, 3);
  qat.input_size = 2;
  qat.input_quantizer = quant::UniformQuantizer{3, true, true, 1.0 / 3.0, 0};
  for (const DenseLayer& d : f.layers) qat.layers.push_back({d, quant::UniformQuantizer{3, true, true, 0.2, 0}, {}, 0});
  qat.layers[0].output_quantizer = quant::UniformQuantizer{3, false, false, 0.3, 0};
  qat.layers[0].rounding_shift = 1;
  qat.rounding_threshold_bits = 4;
  return qat;
}

TEST(ModelIo, FloatAndQatModelsRoundTrip) {
  const FloatMlp f = testing::random_float_mlp({5, 8, 6, 4, 3}, 1);
  save_model(f, temp_path("float.bin"));
  const auto loaded = load_model(temp_path("float.bin"));
  ASSERT_TRUE(std::holds_alternative<FloatMlp>(loaded));
  const FloatMlp& back = std::get<FloatMlp>(loaded);
  EXPECT_EQ(back.input_size, 5);
  ASSERT_EQ(back.layers.size(), 4u);
  EXPECT_EQ(back.layers[2].weight, f.layers[2].weight);
  EXPECT_EQ(back.layers[2].name, "fc3");
  EXPECT_EQ(back.layers[0].activation, Activation::relu);

  const QatMlp q = small_qat();
  save_model(q, temp_path("qat.bin"));
  const auto qloaded = load_model(temp_path("qat.bin"));
  ASSERT_TRUE(std::holds_alternative<QatMlp>(qloaded));
  const QatMlp& qback = std::get<QatMlp>(qloaded);
  EXPECT_EQ(qback.input_quantizer, q.input_quantizer);
  EXPECT_EQ(qback.layers[0].output_quantizer, q.layers[0].output_quantizer);
  EXPECT_FALSE(qback.layers[1].output_quantizer.has_value());
  EXPECT_EQ(qback.layers[0].rounding_shift, 1);
  EXPECT_EQ(qback.rounding_threshold_bits, 4);
  EXPECT_EQ(qback.layers[1].layer.bias, q.layers[1].layer.bias);
}

TEST(ModelIo, InvalidModelsGetErrorsNamingTheProblem) {
  const FloatMlp good = testing::random_float_mlp({2, 4, 2}, 2);
  FloatMlp m = good;
  m.layers[1].weight[2] = std::nan("");
  expect_error_containing([&] { save_model(m, temp_path("nan.bin")); }, "fc2.weight[2]");
  m = good;
  m.layers[0].bias[1] = INFINITY;
  expect_error_containing([&] { validate_model(m); }, "fc1.bias[1]");
  m = good;
  m.layers[1].in_features = 5;
  expect_error_containing([&] { validate_model(m); }, "layer fc2 takes 5 inputs but receives 4");
  m = good;
  m.layers[0].weight.pop_back();
  expect_error_containing([&] { validate_model(m); }, "layer fc1 has 7 weights");
  m = good;
  m.layers[0].bias.push_back(0.0);
  expect_error_containing([&] { validate_model(m); }, "biases");
  m = good;
  m.layers.clear();
  expect_error_containing([&] { validate_model(m); }, "no layers");
  m = good;
  m.layers[1].name = "fc1";
  expect_error_containing([&] { validate_model(m); }, "two layers are named 'fc1'");
  QatMlp q = small_qat();
  q.layers[0].output_quantizer->bits = 0;
  expect_error_containing([&] { validate_model(q); }, "the output of fc1");
}

TEST(ModelIo, DamagedFilesAreRefused) {
  const auto bytes = serialize_model(testing::random_float_mlp({2, 4, 2}, 2));
  expect_error_containing([&] { deserialize_model(std::span(bytes).first(bytes.size() - 10), "cut.bin"); }, "cut.bin");
  auto corrupted = bytes;
  corrupted[40] ^= 1;
  expect_error_containing([&] { deserialize_model(corrupted, "bad.bin"); }, "checksum");
  expect_error_containing([&] { load_model(temp_path("missing.bin")); }, "cannot open");
  const auto circuit = ir::serialize_circuit(
      compile_ptq(testing::random_float_mlp({2, 4, 2}, 2), testing::random_features(5, 2, 1), {}).circuit);
  expect_error_containing([&] { deserialize_model(circuit, "circuit.bin"); }, "not a trained model");
  // Sealed correctly but inconsistent: a layer whose weights do not match its shape.
  ByteWriter out;
  out.i64(2);
  out.u64(1);
  out.str("fc1");
  out.i64(2);
  out.i64(3);
  out.vec(std::vector<double>{1.0, 2.0});
  out.vec(std::vector<double>{});
  out.u8(0);
  const auto sealed = seal_artifact(kFloatMlpArtifactKind, kModelFormatVersion, out.bytes());
  expect_error_containing([&] { deserialize_model(sealed, "shape.bin"); }, "shape.bin holds an invalid model");
}

TEST(CompiledIo, RoundTripsAndRunsTheSame) {
  const Matrix data = testing::random_features(50, 2, 4);
  const CompiledModel compiled =
      compile_ptq(testing::random_float_mlp({2, 10, 10, 2}, 4), data, {NBits::uniform(3), 5});
  save_compiled(compiled, temp_path("compiled.bin"));
  const CompiledModel back = load_compiled(temp_path("compiled.bin"));
  EXPECT_EQ(back.circuit, compiled.circuit);
  EXPECT_EQ(back.client, compiled.client);
  EXPECT_EQ(back.report, compiled.report);
  EXPECT_EQ(back.source, "ptq");
  EXPECT_EQ(back.rounding_threshold_bits, 5);
  for (size_t row = 0; row < data.rows; ++row) {
    EXPECT_EQ(fake_quantized_scores(back, data.row(row)), fake_quantized_scores(compiled, data.row(row)));
    EXPECT_EQ(runtime::run_clear(back.circuit, back.client.quantize(data.row(row))),
              runtime::run_clear(compiled.circuit, compiled.client.quantize(data.row(row))));
  }
  const CompiledModel qat = compile_qat(small_qat(), data);
  EXPECT_EQ(deserialize_compiled(serialize_compiled(qat), "qat").circuit, qat.circuit);
}

TEST(CompiledIo, DamagedOrInconsistentFilesAreRefused) {
  const Matrix data = testing::random_features(20, 2, 4);
  CompiledModel compiled = compile_ptq(testing::random_float_mlp({2, 10, 2}, 4), data, {});
  const auto bytes = serialize_compiled(compiled);
  for (size_t keep : {size_t{3}, size_t{30}, bytes.size() / 3, bytes.size() - 1}) {
    EXPECT_THROW(deserialize_compiled(std::span(bytes).first(keep), "cut"), Error) << keep;
  }
  auto corrupted = bytes;
  corrupted[bytes.size() / 2] ^= 0x10;
  expect_error_containing([&] { deserialize_compiled(corrupted, "flip.bin"); }, "flip.bin is corrupted");
  expect_error_containing(
      [&] {
        deserialize_compiled(serialize_model(testing::random_float_mlp({2, 3, 2}, 1)), "m");
      },
      "fhenn-float-mlp");
  compiled.linear_ops[0].node = "fc1.lookup";  // facts about a node that is no linear op
  expect_error_containing([&] { deserialize_compiled(serialize_compiled(compiled), "edited.bin"); },
                          "edited.bin is inconsistent: its facts about linear op 'fc1.lookup'");
}

TEST(CompiledIo, OutputDequantizationsThatWouldGiveNonFiniteScoresAreRefused) {
  const CompiledModel good =
      compile_ptq(testing::random_float_mlp({8, 3, 2}, 4), testing::random_features(20, 8, 4), {});
  CompiledModel c = good;
  c.client.outputs[1].bias = std::nan("");
  expect_error_containing([&] { deserialize_compiled(serialize_compiled(c), "bias.fhc"); },
                          "bias.fhc is corrupted: output 1 has the dequantization scales");
  c = good;
  c.client.outputs[0].weight_scale = 0.0;
  expect_error_containing([&] { deserialize_compiled(serialize_compiled(c), "scale.fhc"); },
                          "scale.fhc is corrupted: output 0");
  c = good;
  c.linear_ops[1].input_min = c.linear_ops[1].input_max + 1;
  expect_error_containing([&] { deserialize_compiled(serialize_compiled(c), "range.fhc"); },
                          "range.fhc is inconsistent: its facts about linear op 'fc2.accumulator'");
  EXPECT_EQ(deserialize_compiled(serialize_compiled(good), "good").linear_ops, good.linear_ops);
}

TEST(CompiledIo, CountsThatDisagreeWithTheCircuitAreRefusedBeforeAllocating) {
  CompiledModel c = compile_ptq(testing::random_float_mlp({2, 3, 2}, 4), testing::random_features(20, 2, 4), {});
  c.client.inputs.push_back(c.client.inputs.front());
  expect_error_containing([&] { deserialize_compiled(serialize_compiled(c), "count.fhc"); },
                          "count.fhc is inconsistent: it has 3 input quantizers where its circuit has 2");
}

// x (1, 4, 4) -> conv -> relu -> flatten -> fc (3 scores).
ModelGraph small_graph() {
  GraphNode conv = graph_node("conv", "Conv", {"x"});
  conv.weight = {0.5, -0.25, 0.125, 1.0, 0.5, -0.5, 0.25, 0.75};
  conv.bias = {0.1, -0.1};
  conv.ints = {{"kernel_shape", {2, 2}}, {"pads", {0, 0, 0, 0}}};
  GraphNode fc = graph_node("fc", "Gemm", {"flat"});
  fc.weight.assign(3 * 18, 0.05);
  fc.bias = {0.0, 1.0, -1.0};
  GraphNode leaky = graph_node("act", "LeakyRelu", {"conv"});
  leaky.floats["alpha"] = 0.2;
  return {{{"x", {1, 4, 4}}}, {conv, leaky, graph_node("flat", "Flatten", {"act"}), fc}, {"fc"}};
}

TEST(ModelGraphIo, RoundTripsThroughTheModelLoader) {
  const ModelGraph graph = small_graph();
  save_model(graph, temp_path("graph.fhm"));
  const TrainedModel back = load_model(temp_path("graph.fhm"));
  const auto* loaded = std::get_if<ModelGraph>(&back);
  ASSERT_NE(loaded, nullptr);
  ASSERT_EQ(loaded->nodes.size(), graph.nodes.size());
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    EXPECT_EQ(loaded->nodes[k].name, graph.nodes[k].name);
    EXPECT_EQ(loaded->nodes[k].weight, graph.nodes[k].weight);
    EXPECT_EQ(loaded->nodes[k].ints, graph.nodes[k].ints);
    EXPECT_EQ(loaded->nodes[k].floats, graph.nodes[k].floats);
  }
  const std::vector<double> x(16, 0.5);
  EXPECT_EQ(Graph::build(*loaded).evaluate(x).back().values, Graph::build(graph).evaluate(x).back().values);
}

TEST(ModelGraphIo, DamagedCraftedOrInvalidGraphsAreRefused) {
  const auto bytes = serialize_model_graph(small_graph());
  for (size_t keep : {size_t{3}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(deserialize_model(std::span(bytes).first(keep), "cut"), Error) << keep;
  }
  // A node count far beyond the bytes: refused before anything is allocated.
  ByteWriter crafted;
  crafted.u64(1);
  crafted.str("x");
  crafted.vec(std::vector<uint64_t>{4});
  crafted.u64(uint64_t{1} << 40);
  const auto sealed = seal_artifact(kModelGraphArtifactKind, kModelGraphFormatVersion, crafted.bytes());
  expect_error_containing([&] { deserialize_model(sealed, "count.fhm"); }, "count.fhm is corrupted: a length field");
  // A well-formed, sealed file of a graph Graph::build refuses: an op renamed to one the registry does not know.
  std::vector<uint8_t> payload = open_artifact(bytes, kModelGraphArtifactKind, kModelGraphFormatVersion, "graph");
  const std::string op = "LeakyRelu";
  const auto at = std::search(payload.begin(), payload.end(), op.begin(), op.end());
  ASSERT_NE(at, payload.end());
  *(at + 5) = 'X';  // "LeakyXelu"
  expect_error_containing(
      [&] { deserialize_model(seal_artifact(kModelGraphArtifactKind, kModelGraphFormatVersion, payload), "op.fhm"); },
      "op.fhm holds an invalid model graph: node 'act' uses the op 'LeakyXelu'");
  ModelGraph unknown = small_graph();
  unknown.nodes[1].op = "Swish";
  EXPECT_THROW(serialize_model_graph(unknown), Error);
}

}  // namespace
}  // namespace fhenn::compiler
