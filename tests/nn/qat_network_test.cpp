// The QAT network: its forward pass computes exactly the integers of the exported model, bounds and rounding.
#include "fhenn/nn/qat_network.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <vector>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"
#include "fhenn/quant/rounding.hpp"
#include "qat_test_shape.hpp"

namespace fhenn::nn {
namespace {

Matrix random_features(size_t rows, size_t cols, double low, double high, uint64_t seed) {
  SplitMix64 rng(seed);
  Matrix m(rows, cols);
  for (double& v : m.values) v = rng.uniform(low, high);
  return m;
}

// The exported model evaluated with plain integers, following compiler/model.hpp's contract: the integers the
// circuit must produce for one sample.
std::vector<int64_t> integer_reference(const compiler::QatMlp& mlp, std::span<const double> features) {
  std::vector<int64_t> x;
  for (double f : features) x.push_back(mlp.input_quantizer->quantize(f));
  double x_scale = mlp.input_quantizer->scale;
  for (const compiler::QatLayer& layer : mlp.layers) {
    const quant::UniformQuantizer& wq = *layer.weight_quantizer;
    std::vector<int64_t> accumulators(layer.layer.out_features, 0);
    for (int o = 0; o < layer.layer.out_features; ++o)
      for (int i = 0; i < layer.layer.in_features; ++i)
        accumulators[o] += wq.quantize(layer.layer.weight[o * layer.layer.in_features + i]) * x[i];
    if (!layer.output_quantizer) return accumulators;
    x.clear();
    for (int o = 0; o < layer.layer.out_features; ++o) {
      const int64_t rounded = quant::round_msbs(accumulators[o], layer.rounding_shift) << layer.rounding_shift;
      const double y = static_cast<double>(rounded) * x_scale * wq.scale + layer.layer.bias[o];
      x.push_back(layer.output_quantizer->quantize(std::max(y, 0.0)));
    }
    x_scale = layer.output_quantizer->scale;
  }
  return {};
}

using Shape = testing::QatTestShape;

class QatForwardExactness : public ::testing::TestWithParam<Shape> {};

TEST_P(QatForwardExactness, ForwardComputesTheExportedIntegers) {
  const Shape& shape = GetParam();
  QatNet net(testing::qat_options(shape, 3, 4, 7));
  const Matrix features = random_features(400, 3, -0.2, 1.3, 99);
  net.calibrate(features);
  const compiler::QatMlp mlp = net.to_qat_mlp();
  const QatPredictions predictions = net.predict(features);
  for (size_t row = 0; row < features.rows; ++row)
    ASSERT_EQ(predictions.output_integers[row], integer_reference(mlp, features.row(row))) << "sample " << row;
  if (shape.rounding) {
    for (size_t i = 0; i + 1 < mlp.layers.size(); ++i) EXPECT_GT(mlp.layers[i].rounding_shift, 0) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, QatForwardExactness,
                         ::testing::Values(Shape{{8}, 2, std::nullopt, InputRange::unit, ActivationMode::unit},
                                           Shape{{16, 12}, 3, std::nullopt, InputRange::data, ActivationMode::learned},
                                           Shape{{10, 10, 10}, 4, 4, InputRange::learned, ActivationMode::learned},
                                           Shape{{100, 100}, 3, 5, InputRange::unit, ActivationMode::learned},
                                           Shape{{30, 20}, 5, 3, InputRange::data, ActivationMode::unit}));

TEST(QatNetwork, AccumulatorBoundsAreTheExtremesOverAllInputs) {
  QatNetOptions options;
  options.input_size = 3;
  options.hidden_sizes = {5};
  options.bits = 2;  // inputs -1..1 (signed narrow), weights -1..1
  options.seed = 3;
  const QatNet net(options);
  const torch::Tensor w = net.linears()[0].integer_weights().detach();
  int64_t lowest = INT64_MAX, highest = INT64_MIN;
  for (int a = -1; a <= 1; ++a)
    for (int b = -1; b <= 1; ++b)
      for (int c = -1; c <= 1; ++c) {
        const torch::Tensor acc =
            torch::matmul(torch::tensor({double(a), double(b), double(c)}, torch::kFloat64), w.t());
        lowest = std::min(lowest, static_cast<int64_t>(acc.min().item<double>()));
        highest = std::max(highest, static_cast<int64_t>(acc.max().item<double>()));
      }
  const AccumulatorBounds bounds = net.accumulator_bounds(0);
  EXPECT_EQ(bounds.min, lowest);
  EXPECT_EQ(bounds.max, highest);
  EXPECT_EQ(bounds.bits, range_bits(lowest, highest));
}

TEST(QatNetwork, RoundedLookupInputsFitTheRoundingBits) {
  for (int r : {3, 4, 5}) {
    QatNetOptions options;
    options.hidden_sizes = {100, 100};
    options.bits = 3;
    options.rounding_threshold_bits = r;
    options.activation = ActivationMode::learned;
    options.seed = static_cast<uint64_t>(r);
    const QatNet net(options);
    for (size_t i = 0; i < 2; ++i) {
      const AccumulatorBounds bounds = net.accumulator_bounds(i);
      const int shift = net.rounding_shift(i);
      EXPECT_LE(range_bits(quant::round_msbs(bounds.min, shift), quant::round_msbs(bounds.max, shift)), r);
      EXPECT_GE(shift, quant::rounding_shift(bounds.bits, r));
    }
    EXPECT_EQ(net.rounding_shift(2), 0);  // the last layer has no table lookup
  }
  QatNetOptions no_rounding;
  EXPECT_EQ(QatNet(no_rounding).rounding_shift(0), 0);
}

TEST(QatNetwork, ExactRoundingIsRoundMsbsWithStraightThroughGradient) {
  std::vector<double> values;
  for (int a = -70; a <= 70; ++a) values.push_back(a);
  for (int shift : {0, 1, 2, 3, 5}) {
    const torch::Tensor acc = torch::tensor(values, torch::kFloat64).set_requires_grad(true);
    const torch::Tensor rounded = round_accumulator(acc, shift);
    for (size_t i = 0; i < values.size(); ++i) {
      const auto a = static_cast<int64_t>(values[i]);
      ASSERT_EQ(rounded[static_cast<int64_t>(i)].item<double>(),
                static_cast<double>(quant::round_msbs(a, shift) * (int64_t{1} << shift)))
          << a << " >> " << shift;
    }
    rounded.sum().backward();
    EXPECT_TRUE(torch::equal(acc.grad(), torch::ones_like(acc)));
  }
}

TEST(QatNetwork, NoisyRoundingFlipsOnlyNeighboursOfABoundary) {
  // shift 2 (step 4), margin 0.25 (noise within +-1): a = 1 and a = 2 (mod 4) lie 1/2 from the boundary at
  // 1.5 and flip with probability (1 - 0.5 / 1) / 2 = 1/4; a = 0 and a = 3 (mod 4) never change.
  const int trials = 4000;
  std::vector<double> values;
  for (int t = 0; t < trials; ++t)
    for (int a = 0; a < 8; ++a) values.push_back(a);
  const torch::Tensor acc = torch::tensor(values, torch::kFloat64);
  const torch::Tensor exact = round_accumulator(acc, 2);
  const torch::Tensor noisy = round_accumulator(acc, 2, 0.25, at::detail::createCPUGenerator(5));
  const torch::Tensor difference = (noisy - exact).reshape({trials, 8});
  EXPECT_TRUE(torch::all(difference.abs() <= 4.0).item<bool>());
  const torch::Tensor flip_rate = (difference != 0).to(torch::kFloat64).mean(0);
  for (int a = 0; a < 8; ++a) {
    const double expected = (a % 4 == 1 || a % 4 == 2) ? 0.25 : 0.0;
    EXPECT_NEAR(flip_rate[a].item<double>(), expected, 0.03) << "a = " << a;
  }
  EXPECT_THROW(round_accumulator(acc, 2, 0.6), Error);
  EXPECT_THROW(round_accumulator(acc, -1), Error);
}

TEST(QatNetwork, NoisyReadIsTheEngineLookupModel) {
  // shift 2 (step 4): without noise, round_msbs (ties up); the read adds the runtime's half unit, so with sigma 0.3
  // a = 2 (mod 4) (a tie, read at 2.5) and a = 1 (read at 1.5) lie half a unit from the boundary at 2 and change
  // with probability P(N > 0.5 / 0.3) ~ 0.048; a = 0 and a = 3 lie 1.5 units or more away (P ~ 3e-7).
  const int trials = 4000;
  std::vector<double> values;
  for (int t = 0; t < trials; ++t)
    for (int a = 0; a < 8; ++a) values.push_back(a);
  const torch::Tensor acc = torch::tensor(values, torch::kFloat64).set_requires_grad(true);
  const torch::Tensor exact = round_accumulator(acc.detach(), 2);
  EXPECT_TRUE(torch::equal(read_noisy_accumulator(acc.detach(), 2, torch::zeros({1}, torch::kFloat64)), exact));
  const torch::Tensor noisy =
      read_noisy_accumulator(acc, 2, torch::full({1}, 0.3, torch::kFloat64), at::detail::createCPUGenerator(5));
  noisy.sum().backward();
  EXPECT_TRUE(torch::equal(acc.grad(), torch::ones_like(acc)));  // straight through
  const torch::Tensor difference = (noisy.detach() - exact).reshape({trials, 8});
  EXPECT_TRUE(torch::all(difference.abs() <= 4.0).item<bool>());
  const torch::Tensor flip_rate = (difference != 0).to(torch::kFloat64).mean(0);
  for (int a = 0; a < 8; ++a) {
    const double expected = (a % 4 == 1 || a % 4 == 2) ? 0.5 * std::erfc(0.5 / 0.3 / std::sqrt(2.0)) : 0.0;
    EXPECT_NEAR(flip_rate[a].item<double>(), expected, 0.015) << "a = " << a;
  }
  // Per-neuron sigma broadcasts over the last dimension; shift 0 rounds the noisy value to an integer.
  const torch::Tensor pair = torch::tensor({10.0, 10.0}, torch::kFloat64).repeat({trials, 1});
  const torch::Tensor read =
      read_noisy_accumulator(pair, 0, torch::tensor({0.0, 1.0}, torch::kFloat64), at::detail::createCPUGenerator(6));
  EXPECT_TRUE(torch::all(read.select(1, 0) == 10.0).item<bool>());
  EXPECT_NEAR((read.select(1, 1) != 10.0).to(torch::kFloat64).mean().item<double>(), 0.617, 0.03);  // P(|N| > 1/2)
  EXPECT_THROW(read_noisy_accumulator(acc, 53, torch::zeros({1}, torch::kFloat64)), Error);
  EXPECT_THROW(read_noisy_accumulator(acc, 2, torch::full({1}, -1.0, torch::kFloat64)), Error);
}

TEST(QatNetwork, NeuronSpanFitDropsFewerBitsAndReadsAtMostTheRoundingBits) {
  QatNetOptions options;
  options.hidden_sizes = {30, 30};
  options.bits = 4;
  options.rounding_threshold_bits = 4;
  const QatNet by_layer(options);
  options.rounding_fit = RoundingFit::neuron_spans;
  const QatNet by_neuron(options);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_LE(by_neuron.rounding_shift(i), by_layer.rounding_shift(i));
    EXPECT_LE(by_neuron.lookup_index_bits(i), 4);
    EXPECT_LE(by_layer.lookup_index_bits(i), 4);
  }
  EXPECT_LT(by_neuron.rounding_shift(1), by_layer.rounding_shift(1));  // 30 inputs: neurons are narrower than the layer
  EXPECT_THROW(by_neuron.lookup_index_bits(2), Error);                 // the last layer has no lookup
  EXPECT_EQ(parse_rounding_fit("neuron"), RoundingFit::neuron_spans);
  EXPECT_EQ(to_string(RoundingFit::layer_range), "layer");
  EXPECT_THROW(parse_rounding_fit("global"), Error);
}

TEST(QatNetwork, GaussianLookupNoiseTrainsNoisyAndEvaluatesExactly) {
  QatNetOptions options;
  options.hidden_sizes = {20, 20};
  options.rounding_threshold_bits = 4;
  options.lookup_noise = LookupNoise{.variance_per_squared_norm = 1e-6, .variance_constant = 1e-6};
  QatNet net(options);
  const torch::Tensor x = to_float64_tensor(random_features(50, 2, 0.0, 1.0, 1));
  net.set_training(true);
  EXPECT_FALSE(torch::equal(net.forward(x), net.run(x).logits));
  net.set_training(false);
  EXPECT_TRUE(torch::equal(net.forward(x), net.run(x).logits));
  options.rounding_noise_margin = 0.1;  // two models of the same noise: refused
  EXPECT_THROW(QatNet{options}, Error);
  options.rounding_noise_margin = 0.0;
  options.lookup_noise->scale = -1.0;
  EXPECT_THROW(QatNet{options}, Error);
}

TEST(QatNetwork, WeightBitsAndPositiveInputRange) {
  QatNetOptions options;
  options.weight_bits = 2;
  options.input_range = InputRange::positive;
  options.input_bits = 2;
  const QatNet net(options);
  for (const QuantLinear& linear : net.linears()) {
    EXPECT_LE(linear.integer_weights().abs().max().item<double>(), 1.0);  // ternary
  }
  const quant::UniformQuantizer q = net.input_quantizer().exported();
  EXPECT_FALSE(q.is_signed);
  EXPECT_EQ(q.qmax(), 3);
  // On [0, 1] it gives the guide's 3-bit signed integers (rint(3x)).
  QatNetOptions guide;
  const QatNet reference(guide);
  const torch::Tensor x = to_float64_tensor(random_features(200, 2, -0.05, 1.05, 8));
  EXPECT_TRUE(torch::equal(net.input_quantizer().integers(x), reference.input_quantizer().integers(x)));
  EXPECT_EQ(parse_input_range("positive"), InputRange::positive);
  options.weight_bits = 1;
  EXPECT_THROW(QatNet{options}, Error);
}

TEST(QatNetwork, TrainingForwardWithoutNoiseIsTheExactForward) {
  QatNetOptions options;
  options.hidden_sizes = {20, 20};
  options.rounding_threshold_bits = 4;
  QatNet net(options);
  const torch::Tensor x = to_float64_tensor(random_features(50, 2, 0.0, 1.0, 1));
  net.set_training(true);
  EXPECT_TRUE(torch::equal(net.forward(x), net.run(x).logits));
  options.rounding_noise_margin = 0.5;
  QatNet noisy(options);
  noisy.set_training(true);
  EXPECT_FALSE(torch::equal(noisy.forward(x), noisy.run(x).logits));
  noisy.set_training(false);
  EXPECT_TRUE(torch::equal(noisy.forward(x), noisy.run(x).logits));
}

TEST(QatNetwork, ExportCarriesEveryQuantizer) {
  QatNetOptions options;
  options.hidden_sizes = {6, 5};
  options.num_classes = 3;
  options.bits = 4;
  options.rounding_threshold_bits = 3;
  QatNet net(options);
  const compiler::QatMlp mlp = net.to_qat_mlp();
  ASSERT_TRUE(mlp.input_quantizer);
  EXPECT_EQ(*mlp.input_quantizer, net.input_quantizer().exported());
  EXPECT_EQ(mlp.rounding_threshold_bits, std::optional<int>(3));
  ASSERT_EQ(mlp.layers.size(), 3u);
  const std::vector<std::string> names = {"fc1", "fc2", "fc3"};
  for (size_t i = 0; i < 3; ++i) {
    const compiler::QatLayer& layer = mlp.layers[i];
    EXPECT_EQ(layer.layer.name, names[i]);
    ASSERT_TRUE(layer.weight_quantizer);
    EXPECT_EQ(layer.weight_quantizer->bits, 4);
    EXPECT_EQ(layer.output_quantizer.has_value(), i < 2);
    EXPECT_EQ(layer.layer.activation, i < 2 ? compiler::Activation::relu : compiler::Activation::identity);
    EXPECT_EQ(layer.rounding_shift, net.rounding_shift(i));
    EXPECT_EQ(layer.layer.weight.size(), static_cast<size_t>(layer.layer.in_features * layer.layer.out_features));
    EXPECT_EQ(layer.layer.weight[0], net.linears()[i].weight()[0][0].item<double>());
  }
  EXPECT_EQ(mlp.layers[2].layer.out_features, 3);
}

TEST(QatNetwork, BadOptionsAndInputsAreErrors) {
  const auto make = [](auto change) {
    QatNetOptions options;
    change(options);
    return QatNet(options);
  };
  EXPECT_THROW(make([](QatNetOptions& o) { o.bits = 1; }), Error);
  EXPECT_THROW(make([](QatNetOptions& o) { o.input_bits = 20; }), Error);
  EXPECT_THROW(make([](QatNetOptions& o) { o.hidden_sizes = {10, 0}; }), Error);
  EXPECT_THROW(make([](QatNetOptions& o) { o.num_classes = 1; }), Error);
  EXPECT_THROW(make([](QatNetOptions& o) { o.rounding_threshold_bits = 1; }), Error);
  EXPECT_THROW(make([](QatNetOptions& o) { o.rounding_noise_margin = 0.7; }), Error);
  EXPECT_THROW(parse_input_range("full"), Error);
  EXPECT_THROW(parse_activation_mode("relu6"), Error);
  EXPECT_EQ(parse_input_range("learned"), InputRange::learned);
  QatNet net{QatNetOptions{}};
  EXPECT_THROW(net.calibrate(Matrix(0, 2)), Error);
  EXPECT_THROW(net.calibrate(Matrix(5, 3)), Error);
  EXPECT_THROW(net.run(torch::zeros({4, 3}, torch::kFloat64)), Error);
  EXPECT_THROW(net.predict(Matrix(3, 2), std::make_unique<std::vector<int64_t>>(2).get()), Error);
}

TEST(QatNetwork, DataInputRangeIsUnsignedOnNonNegativeData) {
  QatNetOptions options;
  options.input_range = InputRange::data;
  QatNet net(options);
  net.calibrate(random_features(300, 2, 0.0, 1.0, 4));
  const quant::UniformQuantizer q = net.input_quantizer().exported();
  EXPECT_FALSE(q.is_signed);
  EXPECT_EQ(q.qmax(), 7);
  EXPECT_NEAR(q.scale, 1.0 / 7.0, 0.01);
  EXPECT_FALSE(net.input_quantizer().learns_scale());
  options.input_range = InputRange::learned;
  QatNet learned(options);
  learned.calibrate(random_features(300, 2, -1.0, 2.0, 4));
  EXPECT_TRUE(learned.input_quantizer().exported().is_signed);
  EXPECT_TRUE(learned.input_quantizer().learns_scale());
}

}  // namespace
}  // namespace fhenn::nn
