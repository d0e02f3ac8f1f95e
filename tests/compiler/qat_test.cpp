// Tests of QAT import: the circuit reproduces an independent QAT forward pass's output integers exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/model_factory.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/qat_reference.hpp"
#include "fhenn/quant/rounding.hpp"
#include "fhenn/runtime/executor.hpp"

namespace fhenn::compiler {
namespace {

using quant::UniformQuantizer;

UniformQuantizer signed_narrow(int bits, double scale) {
  return {.bits = bits, .is_signed = true, .narrow_range = true, .scale = scale, .zero_point = 0};
}
UniformQuantizer unsigned_quantizer(int bits, double scale) {
  return {.bits = bits, .is_signed = false, .narrow_range = false, .scale = scale, .zero_point = 0};
}

// A QAT network as nn exports it: Brevitas-like quantizers; `dyadic` picks power-of-two scales.
QatMlp random_qat_mlp(const std::vector<int>& sizes, int bits, uint32_t seed, bool dyadic, int rounding_shift = 0) {
  const FloatMlp float_model = testing::random_float_mlp(sizes, seed);
  std::mt19937 rng(seed + 100);
  std::uniform_real_distribution<double> activation_scale(0.05, 0.6);
  QatMlp model;
  model.input_size = sizes[0];
  const double levels = static_cast<double>((1 << (bits - 1)) - 1);
  model.input_quantizer = signed_narrow(bits, dyadic ? 0.25 : 1.0 / levels);
  for (size_t l = 0; l < float_model.layers.size(); ++l) {
    QatLayer layer;
    layer.layer = float_model.layers[l];
    layer.weight_quantizer = signed_narrow(bits, dyadic ? 0.125 : 1.0 / levels);
    if (l + 1 < float_model.layers.size()) {
      layer.output_quantizer = unsigned_quantizer(bits, dyadic ? 0.5 : activation_scale(rng));
      layer.rounding_shift = rounding_shift;
    }
    model.layers.push_back(std::move(layer));
  }
  return model;
}

double round_half_even(double x) {
  return std::nearbyint(x);
}

// Brevitas semantics written out directly, in double, as the trained network computes them:
// y = round_half_even(clamp(x / s, qmin, qmax)) * s for quantizers, w_q = the same at the weight scale,
// each layer sum_j w_q[j] * x_q[j] (dequantized values), with the accumulator rounded to its MSBs
// (rounding-aware training) before the bias, then ReLU and the output quantizer.
std::vector<int64_t> independent_qat_forward(const QatMlp& model, std::span<const double> features) {
  auto quantize_value = [](const UniformQuantizer& q, double x) {
    return round_half_even(std::clamp(x / q.scale, static_cast<double>(q.qmin()), static_cast<double>(q.qmax())));
  };
  std::vector<double> x;
  for (double f : features) x.push_back(quantize_value(*model.input_quantizer, f) * model.input_quantizer->scale);
  double in_scale = model.input_quantizer->scale;
  for (const QatLayer& layer : model.layers) {
    const DenseLayer& d = layer.layer;
    const UniformQuantizer& wq = *layer.weight_quantizer;
    std::vector<double> out(static_cast<size_t>(d.out_features));
    std::vector<int64_t> integers(out.size());
    for (int i = 0; i < d.out_features; ++i) {
      double sum = 0.0;  // of dequantized products
      for (int j = 0; j < d.in_features; ++j) {
        sum += quantize_value(wq, d.weight[i * d.in_features + j]) * wq.scale * x[j];
      }
      const double unit = in_scale * wq.scale;
      const auto acc = static_cast<int64_t>(std::llround(sum / unit));
      const int64_t rounded = quant::round_msbs(acc, layer.rounding_shift);
      integers[i] = rounded;
      double y = static_cast<double>(rounded << layer.rounding_shift) * unit + d.bias[i];
      if (d.activation == Activation::relu) y = std::max(y, 0.0);
      if (layer.output_quantizer) {
        integers[i] = static_cast<int64_t>(quantize_value(*layer.output_quantizer, y));
        y = static_cast<double>(integers[i]) * layer.output_quantizer->scale;
      }
      out[i] = y;
    }
    if (&layer == &model.layers.back()) return integers;
    x = out;
    in_scale = layer.output_quantizer->scale;
  }
  return {};
}

void expect_exact(const QatMlp& model, uint32_t seed) {
  const Matrix data = testing::random_features(300, static_cast<size_t>(model.input_size), seed, -1.2, 1.2);
  const CompiledModel compiled = compile_qat(model, data);
  EXPECT_EQ(compiled.source, "qat");
  for (size_t row = 0; row < data.rows; ++row) {
    const auto circuit_out = runtime::run_clear(compiled.circuit, compiled.client.quantize(data.row(row)));
    ASSERT_EQ(circuit_out, independent_qat_forward(model, data.row(row))) << "sample " << row;
    ASSERT_EQ(circuit_out, qat_reference_forward(model, data.row(row)));
    ASSERT_EQ(compiled.client.dequantize(circuit_out), fake_quantized_scores(compiled, data.row(row)));
  }
}

TEST(QatImport, CircuitEqualsAnIndependentForwardPassWithDyadicScales) {
  uint32_t seed = 1;
  for (const auto& sizes : std::vector<std::vector<int>>{{2, 10, 10, 2}, {2, 100, 100, 2}, {5, 8, 6, 4, 3}}) {
    for (int bits : {2, 3, 4}) {
      SCOPED_TRACE(::testing::Message() << sizes.size() << " layers, bits " << bits);
      seed += 3;
      expect_exact(random_qat_mlp(sizes, bits, seed, true), seed + 1);
    }
  }
}

TEST(QatImport, CircuitEqualsTheReferenceWithLearnedScalesAndRounding) {
  uint32_t seed = 50;
  for (int shift : {0, 1, 3}) {
    for (const auto& sizes : std::vector<std::vector<int>>{{2, 100, 100, 2}, {5, 8, 6, 4, 3}}) {
      const QatMlp model = random_qat_mlp(sizes, 3, seed += 5, false, shift);
      const Matrix data = testing::random_features(200, static_cast<size_t>(model.input_size), seed, -1.2, 1.2);
      const CompiledModel compiled = compile_qat(model, data);
      for (size_t row = 0; row < data.rows; ++row) {
        const auto circuit_out = runtime::run_clear(compiled.circuit, compiled.client.quantize(data.row(row)));
        ASSERT_EQ(circuit_out, qat_reference_forward(model, data.row(row)));
        ASSERT_EQ(compiled.client.dequantize(circuit_out), fake_quantized_scores(compiled, data.row(row)));
      }
    }
  }
}

TEST(QatImport, RoundingExactWithDyadicScales) {
  expect_exact(random_qat_mlp({2, 100, 100, 2}, 3, 77, true, 2), 78);
  expect_exact(random_qat_mlp({5, 8, 6, 4, 3}, 4, 79, true, 1), 80);
}

TEST(QatImport, AQuantizerAfterTheLastLayerBecomesALookupTheClientDequantizes) {
  QatMlp model = random_qat_mlp({5, 8, 6, 4, 3}, 3, 91, false, 1);
  model.layers.back().output_quantizer = signed_narrow(4, 0.3);
  const Matrix data = testing::random_features(200, 5, 92, -1.2, 1.2);
  const CompiledModel compiled = compile_qat(model, data);
  EXPECT_NO_THROW(compiled.circuit.find("fc4.lookup"));
  for (size_t row = 0; row < data.rows; ++row) {
    const auto circuit_out = runtime::run_clear(compiled.circuit, compiled.client.quantize(data.row(row)));
    ASSERT_EQ(circuit_out, qat_reference_forward(model, data.row(row)));
    const auto scores = compiled.client.dequantize(circuit_out);
    ASSERT_EQ(scores, fake_quantized_scores(compiled, data.row(row)));
    for (size_t i = 0; i < scores.size(); ++i) ASSERT_EQ(scores[i], 0.3 * static_cast<double>(circuit_out[i]));
  }
}

TEST(QatImport, KeepsTheTrainedQuantizersAndAddsRoundingNodes) {
  const QatMlp model = random_qat_mlp({2, 100, 100, 2}, 3, 5, false, 3);
  const CompiledModel compiled = compile_qat(model, testing::random_features(100, 2, 6));
  EXPECT_EQ(compiled.client.inputs[0], *model.input_quantizer);                // no second input quantization
  const quant::UniformQuantizer& fc1_out = *model.layers[0].output_quantizer;  // fc2 reads it as it is
  ASSERT_EQ(compiled.linear_ops.size(), 3u);
  EXPECT_EQ(compiled.linear_ops[1], (LinearOpFacts{"fc2.accumulator", fc1_out.qmin(), fc1_out.qmax(), 3}));
  const auto& fc1 = std::get<ir::DotProductOp>(compiled.circuit.node(compiled.circuit.find("fc1.accumulator")).op);
  EXPECT_EQ(fc1.weights, qat_weight_integers(model.layers[0]));
  for (int64_t w : fc1.weights) EXPECT_LE(std::abs(w), 3);
  EXPECT_THROW(compiled.circuit.find("fc1.quant"), Error);  // the Quant after each ReLU is its lookup's quantizer
  const auto& round = compiled.report.nodes[compiled.circuit.find("fc2.round")];
  const auto& acc = compiled.report.nodes[compiled.circuit.find("fc2.accumulator")];
  EXPECT_TRUE(round.feeds_table_lookup);
  EXPECT_EQ(round.worst_case,
            (ir::Range{quant::round_msbs(acc.worst_case.min, 3), quant::round_msbs(acc.worst_case.max, 3)}));
  EXPECT_LE(compiled.report.worst_case_max_lookup_input_bits, acc.worst_case.bits() - 3 + 1);
  EXPECT_THROW(compiled.circuit.find("fc3.round"), Error);  // the last layer has no lookup to round for
}

TEST(QatImport, MissingQuantizersNameTheTensorAndTheLayerToAdd) {
  const QatMlp model = random_qat_mlp({2, 10, 10, 2}, 3, 9, true);
  const Matrix data = testing::random_features(10, 2, 1);
  auto expect_message = [&](const QatMlp& broken, const std::string& expected) {
    try {
      compile_qat(broken, data);
      ADD_FAILURE() << "no error, expected: " << expected;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  QatMlp broken = model;
  broken.input_quantizer.reset();
  expect_message(broken, "the model input is not quantized: add a QuantIdentity");
  broken = model;
  broken.layers[1].weight_quantizer.reset();
  expect_message(broken, "fc2.weight has no weight quantizer: use QuantLinear");
  broken = model;
  broken.layers[0].output_quantizer.reset();
  expect_message(broken, "the output of fc1 is not quantized: add a QuantReLU/QuantIdentity after it");
  broken = model;
  broken.layers[2].weight_quantizer->zero_point = 1;
  expect_message(broken, "fc3.weight");
  broken = model;
  broken.layers[0].weight_quantizer->scale = 0.0;
  expect_message(broken, "fc1.weight");
  broken = model;
  broken.layers[0].layer.weight[3] = INFINITY;
  expect_message(broken, "fc1.weight[3]");
}

TEST(QatReferenceLayer, ComputesOneLayerAsTheCircuitDoes) {
  QatLayer layer;
  layer.layer = DenseLayer{"fc1", 2, 1, {0.5, -0.25}, {0.1}, Activation::relu};
  layer.weight_quantizer = signed_narrow(3, 0.25);  // weights 2, -1
  layer.output_quantizer = unsigned_quantizer(3, 0.5);
  const UniformQuantizer in = signed_narrow(3, 1.0 / 3.0);
  // acc = 2*3 - 1*(-2) = 8; y = 8 * (1/3) * 0.25 + 0.1 = 0.7667; q = round(1.533) = 2.
  EXPECT_EQ(qat_reference_layer(layer, in, std::vector<int64_t>{3, -2}), std::vector<int64_t>{2});
  layer.rounding_shift = 2;  // acc 8 -> 2 (units of 4): same value
  EXPECT_EQ(qat_reference_layer(layer, in, std::vector<int64_t>{3, -2}), std::vector<int64_t>{2});
  // acc = 2*1 - 1*(-1) = 3 -> rounds to 1 unit of 4 = 4: y = 4/12 + 0.1 = 0.433, q = round(0.867) = 1.
  EXPECT_EQ(qat_reference_layer(layer, in, std::vector<int64_t>{1, -1}), std::vector<int64_t>{1});
  EXPECT_THROW(qat_reference_layer(layer, in, std::vector<int64_t>{1}), Error);
}

}  // namespace
}  // namespace fhenn::compiler
