// Tests of post-training quantization: the circuit equals the dense integer model bit for bit, bit widths.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/dense_reference.hpp"
#include "compiler/model_factory.hpp"
#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compatibility.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/mlp_graph.hpp"
#include "fhenn/runtime/executor.hpp"

namespace fhenn::compiler {
namespace {

using testing::random_features;
using testing::random_float_mlp;

struct Case {
  std::vector<int> sizes;
  int max_non_zero;
  NBits n_bits;
  std::optional<int> rounding;
};

std::string describe(const Case& c) {
  std::string s;
  for (int n : c.sizes) s += std::to_string(n) + " ";
  return s + "bits " + std::to_string(c.n_bits.op_weights) + " nz " + std::to_string(c.max_non_zero) + " round " +
         std::to_string(c.rounding.value_or(0));
}

// Every sample: same output integers through the circuit (one by one and batched) and the dense integer model
// written out directly (testing::DenseReference), same scores as doubles.
void expect_circuit_equals_fake_quantization(const Case& c, uint32_t seed) {
  SCOPED_TRACE(describe(c));
  const FloatMlp model = random_float_mlp(c.sizes, seed, c.max_non_zero);
  const Matrix calibration = random_features(300, static_cast<size_t>(c.sizes[0]), seed + 1);
  const CompiledModel compiled = compile_ptq(model, calibration, {c.n_bits, c.rounding});
  const testing::DenseReference reference =
      testing::dense_ptq_reference(model, calibration, c.n_bits, testing::round_shifts_by_layer(compiled.circuit));
  const Matrix test = random_features(400, static_cast<size_t>(c.sizes[0]), seed + 2, -0.2, 1.2);
  runtime::ClearExecutor executor(2);
  const runtime::IntMatrix inputs(test.rows, compiled.client.inputs.size());
  runtime::IntMatrix batch = inputs;
  batch.values = compiled.client.quantize_rows(test);
  const runtime::IntMatrix outputs = executor.run_batch(compiled.circuit, batch);
  for (size_t row = 0; row < test.rows; ++row) {
    const auto circuit_out = runtime::run_clear(compiled.circuit, compiled.client.quantize(test.row(row)));
    ASSERT_TRUE(std::equal(circuit_out.begin(), circuit_out.end(), outputs.row(row).begin()));
    const auto from_circuit = compiled.client.dequantize(circuit_out);
    ASSERT_EQ(circuit_out, reference.output_integers(test.row(row))) << "sample " << row;
    const auto fake = reference.scores(test.row(row));
    ASSERT_EQ(from_circuit, fake) << "sample " << row;  // exact double equality
    ASSERT_EQ(from_circuit, fake_quantized_scores(compiled, test.row(row)));
    ASSERT_EQ(predicted_class(from_circuit), predicted_class(fake));
  }
}

TEST(PtqCircuit, EqualsFakeQuantizationBitForBitOnManyShapesAndBits) {
  const std::vector<Case> cases = {
      {{2, 10, 10, 2}, 0, NBits::uniform(3), std::nullopt},
      {{2, 10, 10, 2}, 0, NBits::uniform(2), std::nullopt},
      {{2, 10, 10, 2}, 0, NBits::uniform(6), std::nullopt},
      {{2, 100, 100, 2}, 10, NBits::uniform(3), std::nullopt},
      {{2, 100, 100, 2}, 30, NBits::uniform(4), std::nullopt},
      {{5, 8, 6, 4, 3}, 0, NBits::uniform(3), std::nullopt},
      {{5, 8, 6, 4, 3}, 0, NBits{7, 4, 5, 7}, std::nullopt},
      {{5, 8, 6, 4, 3}, 0, NBits::uniform(8), std::nullopt},
      {{2, 100, 100, 2}, 0, NBits::uniform(3), 4},
      {{5, 8, 6, 4, 3}, 0, NBits::uniform(6), 5},
  };
  uint32_t seed = 11;
  for (const Case& c : cases) expect_circuit_equals_fake_quantization(c, seed += 7);
}

TEST(PtqCircuit, HighBitsTrackTheFloatModel) {
  const FloatMlp model = random_float_mlp({2, 20, 20, 2}, 5);
  const Matrix data = random_features(500, 2, 6, 0.0, 1.0);
  const CompiledModel compiled = compile_ptq(model, data, {NBits::uniform(8), std::nullopt});
  int agree = 0;
  for (size_t row = 0; row < data.rows; ++row) {
    std::vector<double> x(data.row(row).begin(), data.row(row).end());
    std::vector<double> h;
    for (const DenseLayer& layer : model.layers) {
      h.assign(static_cast<size_t>(layer.out_features), 0.0);
      for (int i = 0; i < layer.out_features; ++i) {
        double y = layer.bias[i];
        for (int j = 0; j < layer.in_features; ++j) y += layer.weight[i * layer.in_features + j] * x[j];
        h[i] = layer.activation == Activation::relu ? std::max(0.0, y) : y;
      }
      x = h;
    }
    agree += predicted_class(x) == predicted_class(fake_quantized_scores(compiled, data.row(row)));
  }
  EXPECT_GE(agree, 480);
}

TEST(PtqCircuit, StructureFollowsTheReferenceLowering) {
  const CompiledModel compiled =
      compile_ptq(random_float_mlp({2, 10, 10, 2}, 3), random_features(100, 2, 4), {NBits::uniform(3), {}});
  std::vector<std::string> names;
  for (const auto& node : compiled.circuit.nodes()) names.push_back(node.name);
  EXPECT_EQ(names, (std::vector<std::string>{"input", "fc1.accumulator", "fc1.lookup", "fc2.accumulator", "fc2.lookup",
                                             "fc3.accumulator", "output"}));
  // Model inputs: 5 bits asymmetric, signed because the calibration data has negatives.
  EXPECT_EQ(compiled.client.inputs[0].bits, 5);
  EXPECT_TRUE(compiled.client.inputs[0].is_signed);
  // 3-bit symmetric weights: integers within [-4, 3], recorded for the precision check with fc2's 3-bit inputs.
  const auto& weights = std::get<ir::DotProductOp>(compiled.circuit.node(compiled.circuit.find("fc2.accumulator")).op);
  for (int64_t w : weights.weights) EXPECT_TRUE(w >= -4 && w <= 3) << w;
  ASSERT_EQ(compiled.linear_ops.size(), 3u);
  EXPECT_EQ(compiled.linear_ops[1], (LinearOpFacts{"fc2.accumulator", 0, 7, 3}));
  // The lookups' outputs are the next layer's 3-bit inputs.
  const auto& lookup = compiled.report.nodes[2];
  EXPECT_LE(lookup.worst_case.bits(), 3 + 1);
  EXPECT_EQ(compiled.source, "ptq");
}

TEST(PtqCircuit, ReportMeasuresTheLargestIntegerOnTheCalibrationSet) {
  const Matrix calibration = random_features(200, 2, 8);
  const CompiledModel compiled = compile_ptq(random_float_mlp({2, 100, 100, 2}, 7), calibration, {});
  const auto& r = compiled.report;
  EXPECT_EQ(r.samples, 200u);
  int largest = 0;
  for (const auto& n : r.nodes) {
    if (n.is_integer_node) largest = std::max(largest, n.seen_bits);
    EXPECT_LE(n.seen_bits, n.worst_case_bits) << n.name;
  }
  EXPECT_EQ(r.accumulator_bits, largest);
  EXPECT_GE(r.accumulator_bits, 5);  // at least the model inputs
  EXPECT_LE(r.accumulator_bits, r.worst_case_accumulator_bits);
  // The same measure from a fresh run over the calibration set.
  EXPECT_EQ(measure_bit_widths(compiled, calibration), r);
}

TEST(PtqCircuit, RoundingKeepsLookupInputsWithinTheThreshold) {
  for (int r : {3, 4, 5, 6}) {
    const CompiledModel compiled =
        compile_ptq(random_float_mlp({2, 100, 100, 2}, 9), random_features(200, 2, 10), {NBits::uniform(3), r});
    EXPECT_LE(compiled.report.worst_case_max_lookup_input_bits, r);
    EXPECT_LE(compiled.report.max_lookup_input_bits, r);
    EXPECT_GT(std::get<ir::RoundOp>(compiled.circuit.node(compiled.circuit.find("fc2.round")).op).shift, 0);
  }
}

// The reference's rounding keeps the top bits of the accumulator range it saw on the calibration set: never more
// low bits dropped than from the worst case, here fewer (8 inputs seldom reach their extremes together), and the
// circuit still computes the dense integer model with those shifts.
TEST(PtqCircuit, SeenRoundingKeepsTheCalibrationRangeWithinTheThreshold) {
  const FloatMlp model = random_float_mlp({8, 64, 64, 3}, 21);
  const Matrix calibration = random_features(300, 8, 22);
  PtqOptions options{NBits::uniform(4), 5};
  const CompiledModel worst = compile_ptq(model, calibration, options);
  options.rounding_ranges = RangeMeasure::seen;
  const CompiledModel seen = compile_ptq(model, calibration, options);
  const auto worst_shifts = testing::round_shifts_by_layer(worst.circuit);
  const auto seen_shifts = testing::round_shifts_by_layer(seen.circuit);
  ASSERT_EQ(seen_shifts.size(), worst_shifts.size());
  int fewer = 0;
  for (const auto& [layer, shift] : seen_shifts) {
    EXPECT_LE(shift, worst_shifts.at(layer)) << layer;
    fewer += shift < worst_shifts.at(layer);
  }
  EXPECT_GT(fewer, 0);
  EXPECT_LE(seen.report.max_lookup_input_bits, 5);  // on the calibration set
  EXPECT_GT(seen.report.worst_case_max_lookup_input_bits, 5);
  const testing::DenseReference reference =
      testing::dense_ptq_reference(model, calibration, options.n_bits, seen_shifts);
  const Matrix test = random_features(100, 8, 23);
  for (size_t row = 0; row < test.rows; ++row) {
    ASSERT_EQ(runtime::run_clear(seen.circuit, seen.client.quantize(test.row(row))),
              reference.output_integers(test.row(row)))
        << "sample " << row;
  }
}

// Per-channel weight scales: each output neuron's weights get their own scale, so a neuron of small weights beside
// large ones keeps its precision; the circuit is still the fake-quantized model, and the client dequantizes each
// output with its own scale.
TEST(PtqCircuit, PerChannelWeightScalesKeepTheSmallNeurons) {
  FloatMlp model = random_float_mlp({8, 16, 4}, 51);
  for (size_t k = 0; k < model.layers[1].weight.size(); ++k) {
    if (k / 16 % 2 == 1) model.layers[1].weight[k] *= 0.02;  // outputs 1 and 3: weights 50 times smaller
  }
  const Matrix calibration = random_features(300, 8, 52);
  PtqOptions options{NBits::uniform(4), std::nullopt};
  const CompiledModel per_tensor = compile_ptq(model, calibration, options);
  options.weight_quantization = WeightQuantization::per_channel;
  const CompiledModel per_channel = compile_ptq(model, calibration, options);
  EXPECT_NE(per_channel.client.outputs[0].weight_scale, per_channel.client.outputs[1].weight_scale);
  EXPECT_EQ(per_tensor.client.outputs[0].weight_scale, per_tensor.client.outputs[1].weight_scale);
  // The small outputs' error against the float model: per tensor their weights round to a few levels or zero.
  const Graph graph = Graph::build(mlp_graph(model));
  double tensor_error = 0.0, channel_error = 0.0;
  const Matrix test = random_features(100, 8, 53);
  for (size_t row = 0; row < test.rows; ++row) {
    const auto reference = graph.evaluate(test.row(row)).back().values;
    const auto a = fake_quantized_scores(per_tensor, test.row(row));
    const auto b = fake_quantized_scores(per_channel, test.row(row));
    for (size_t o : {size_t{1}, size_t{3}}) {
      tensor_error += std::abs(a[o] - reference[o]);
      channel_error += std::abs(b[o] - reference[o]);
    }
    const auto outputs = runtime::run_clear(per_channel.circuit, per_channel.client.quantize(test.row(row)));
    EXPECT_EQ(per_channel.client.dequantize(outputs), b);
  }
  EXPECT_LT(channel_error, 0.5 * tensor_error);
}

TEST(PtqCircuit, RejectsBadInputs) {
  const FloatMlp model = random_float_mlp({2, 4, 2}, 1);
  EXPECT_THROW(compile_ptq(model, Matrix(0, 2), {}), Error);
  EXPECT_THROW(compile_ptq(model, random_features(10, 3, 1), {}), Error);
  Matrix nan_data = random_features(10, 2, 1);
  nan_data.at(3, 1) = std::nan("");
  EXPECT_THROW(compile_ptq(model, nan_data, {}), Error);
  EXPECT_THROW(compile_ptq(model, random_features(10, 2, 1), {NBits{5, 1, 3, 5}, {}}), Error);
  EXPECT_THROW(compile_ptq(model, random_features(10, 2, 1), {NBits::uniform(3), 0}), Error);
  FloatMlp broken = model;
  broken.layers[1].weight[0] = std::nan("");
  EXPECT_THROW(compile_ptq(broken, random_features(10, 2, 1), {}), Error);
  const CompiledModel compiled = compile_ptq(model, random_features(10, 2, 1), {});
  const std::vector<double> wrong_size = {0.5};
  EXPECT_THROW(fake_quantized_scores(compiled, wrong_size), Error);
  EXPECT_THROW(compiled.client.dequantize(std::vector<int64_t>{1, 2, 3}), Error);
}

TEST(PredictedClass, FirstMaximumWins) {
  EXPECT_EQ(predicted_class(std::vector<double>{0.1, 0.7, 0.7}), 1);
  EXPECT_EQ(predicted_class(std::vector<double>{2.0, -1.0}), 0);
  EXPECT_THROW(predicted_class(std::vector<double>{}), Error);
}

// Keeps the `k` largest-magnitude weights of every neuron of `layer`.
void prune_layer(DenseLayer& layer, int k) {
  for (int i = 0; i < layer.out_features; ++i) {
    const auto row = layer.weight.begin() + static_cast<long>(i) * layer.in_features;
    std::vector<int> order(static_cast<size_t>(layer.in_features));
    for (int j = 0; j < layer.in_features; ++j) order[j] = j;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return std::abs(row[a]) > std::abs(row[b]); });
    for (size_t r = static_cast<size_t>(k); r < order.size(); ++r) row[order[r]] = 0.0;
  }
}

TEST(Compatibility, NamesTheLayerItsWidthAndAComputedPruningBound) {
  // Eight features: too many possible inputs to enumerate (8^8), so the worst case is the interval bound.
  FloatMlp model = random_float_mlp({8, 100, 100, 2}, 21);
  const Matrix data = random_features(200, 8, 22, 0.0, 1.0);
  const CompiledModel compiled = compile_ptq(model, data, {});
  // Outputs are only decrypted (up to 16 bits by default); held to 8 bits here to exercise the pruning bound.
  const PrecisionLimits limits{8, RangeMeasure::worst_case, 8};
  const auto problems = find_precision_problems(compiled, limits);
  const auto by_default = find_precision_problems(compiled, {});
  EXPECT_TRUE(std::none_of(by_default.begin(), by_default.end(), [](const auto& p) { return p.layer == "fc3"; }));
  const auto fc3 = std::find_if(problems.begin(), problems.end(), [](const auto& p) { return p.layer == "fc3"; });
  ASSERT_NE(fc3, problems.end());
  EXPECT_EQ(fc3->node, "fc3.accumulator");
  EXPECT_EQ(fc3->bits, compiled.report.nodes[compiled.circuit.find("fc3.accumulator")].worst_case.bits());
  EXPECT_GT(fc3->bits, 8);
  // K from the layer's weight integers and its input range: K products of the extremes fit 8 bits, K + 1 do not.
  const testing::DenseReference reference = testing::dense_ptq_reference(model, data, PtqOptions{}.n_bits);
  const auto& layer = reference.layers[2];
  const auto [wmin, wmax] = std::minmax_element(layer.weights.begin(), layer.weights.end());
  const int64_t umin = layer.input.qmin() - layer.input.zero_point;
  const int64_t umax = layer.input.qmax() - layer.input.zero_point;
  const long k = max_non_zero_weights_fitting(*wmin, *wmax, umin, umax, 8);
  ASSERT_GE(k, 1);
  const int64_t low = std::min({int64_t{0}, *wmin * umin, *wmin * umax, *wmax * umin, *wmax * umax});
  const int64_t high = std::max({int64_t{0}, *wmin * umin, *wmin * umax, *wmax * umin, *wmax * umax});
  EXPECT_LE(range_bits(k * low, k * high), 8);
  EXPECT_GT(range_bits((k + 1) * low, (k + 1) * high), 8);
  EXPECT_NE(fc3->message.find("layer fc3: the output accumulator needs " + std::to_string(fc3->bits) +
                              " bits (worst case), the limit is 8; "),
            std::string::npos)
      << fc3->message;
  EXPECT_NE(fc3->message.find("prune to at most " + std::to_string(k) + " non-zero weight"), std::string::npos)
      << fc3->message;
  EXPECT_EQ(fc3->message.find("rounding_threshold_bits"), std::string::npos) << "no lookup after the last layer";
  EXPECT_THROW(check_precision(compiled, limits), Error);

  // Following the advice fixes the layer.
  prune_layer(model.layers[2], static_cast<int>(k));
  const CompiledModel fixed = compile_ptq(model, data, {});
  const auto after = find_precision_problems(fixed, limits);
  EXPECT_TRUE(std::none_of(after.begin(), after.end(), [](const auto& q) { return q.layer == "fc3"; }))
      << after[0].message;
}

TEST(Compatibility, LookupInputsGetTheRoundingFix) {
  const CompiledModel compiled =
      compile_ptq(random_float_mlp({2, 100, 100, 2}, 21), random_features(200, 2, 22, 0.0, 1.0), {});
  const auto problems = find_precision_problems(compiled, {5, RangeMeasure::seen});
  const auto fc2 = std::find_if(problems.begin(), problems.end(), [](const auto& p) { return p.layer == "fc2"; });
  ASSERT_NE(fc2, problems.end());
  // What the lookup reads: the span of the accumulator's values (the bootstrap's index).
  EXPECT_EQ(fc2->bits, compiled.report.nodes[compiled.circuit.find("fc2.accumulator")].seen_index_bits);
  EXPECT_NE(fc2->message.find("layer fc2: the accumulator needs"), std::string::npos) << fc2->message;
  EXPECT_NE(fc2->message.find("(seen on the input set), the limit is 5"), std::string::npos) << fc2->message;
  // Rounding drops only low bits: the cheapest fix, listed first.
  EXPECT_NE(fc2->message.find("; set rounding_threshold_bits to 5 or less"), std::string::npos) << fc2->message;
  const CompiledModel rounded = compile_ptq(random_float_mlp({2, 100, 100, 2}, 21),
                                            random_features(200, 2, 22, 0.0, 1.0), {NBits::uniform(3), 5});
  const auto after = find_precision_problems(rounded, {5, RangeMeasure::worst_case});
  EXPECT_TRUE(std::none_of(after.begin(), after.end(), [](const auto& q) { return q.layer != "fc3"; }));
}

TEST(Compatibility, MaxNonZeroIsTheLargestThatFits) {
  // products in [-21, 21]: 6 * 21 = 126 fits 8 signed bits, 7 * 21 = 147 does not.
  EXPECT_EQ(max_non_zero_weights_fitting(-3, 3, 0, 7, 8), 6);
  // products in [0, 21] only when weights are non-negative: unsigned, 12 * 21 = 252 fits, 13 * 21 = 273 not.
  EXPECT_EQ(max_non_zero_weights_fitting(0, 3, 0, 7, 8), 12);
  EXPECT_EQ(max_non_zero_weights_fitting(-100, 100, -100, 100, 8), 0);
}

TEST(Compatibility, RoundingFixesTheLookupsAndSeenMeasureIsLooser) {
  const FloatMlp model = random_float_mlp({2, 100, 100, 2}, 23);
  const Matrix data = random_features(200, 2, 24, 0.0, 1.0);
  const CompiledModel rounded = compile_ptq(model, data, {NBits::uniform(3), 6});
  for (const auto& p : find_precision_problems(rounded, {8, RangeMeasure::worst_case})) {
    EXPECT_EQ(p.layer, "fc3") << p.message;  // only the unrounded output can remain too wide
    EXPECT_EQ(p.message.find("rounding_threshold_bits"), std::string::npos) << p.message;
  }
  const CompiledModel plain = compile_ptq(model, data, {});
  EXPECT_LE(find_precision_problems(plain, {8, RangeMeasure::seen}).size(),
            find_precision_problems(plain, {8, RangeMeasure::worst_case}).size());
  EXPECT_TRUE(find_precision_problems(plain, {40, RangeMeasure::worst_case}).empty());
}

}  // namespace
}  // namespace fhenn::compiler
