// The quantization-aware MLP (see qat_network.hpp): exact integer forward pass, rounding, export to the compiler.
#include "fhenn/nn/qat_network.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"
#include "fhenn/nn/training.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::nn {
namespace {

constexpr uint64_t kWeightStream = 11;
constexpr uint64_t kNoiseStream = 12;

// The guide's constant quantizers span [-1, 1] (CommonActQuant: min_val = -1, max_val = 1, signed, narrow).
QuantGrid unit_grid(int bits) {
  return {.bits = bits, .is_signed = true, .narrow_range = true};
}

void check_options(const QatNetOptions& options) {
  FHENN_CHECK(options.input_size >= 1, "the network needs at least one input feature, got ", options.input_size);
  FHENN_CHECK(options.num_classes >= 2, "the network needs at least two classes, got ", options.num_classes);
  for (int width : options.hidden_sizes) FHENN_CHECK(width >= 1, "hidden layer width ", width, " must be >= 1");
  FHENN_CHECK(options.bits >= 2 && options.bits <= 16, "--bits ", options.bits, " is not in [2, 16]");
  FHENN_CHECK(options.input_bits == 0 || (options.input_bits >= 2 && options.input_bits <= 16), "input bits ",
              options.input_bits, " is not in [2, 16] (0: same as bits)");
  FHENN_CHECK(options.weight_bits == 0 || (options.weight_bits >= 2 && options.weight_bits <= 16), "weight bits ",
              options.weight_bits, " is not in [2, 16] (0: same as bits)");
  if (options.rounding_threshold_bits) {
    FHENN_CHECK(*options.rounding_threshold_bits >= 2 && *options.rounding_threshold_bits <= 16,
                "rounding threshold bits ", *options.rounding_threshold_bits, " is not in [2, 16]");
  }
  FHENN_CHECK(options.rounding_noise_margin >= 0.0 && options.rounding_noise_margin <= 0.5, "rounding noise margin ",
              options.rounding_noise_margin, " is not in [0, 0.5]");
  if (options.lookup_noise) {
    const LookupNoise& noise = *options.lookup_noise;
    FHENN_CHECK(noise.variance_per_squared_norm >= 0.0 && noise.variance_constant >= 0.0 && noise.scale >= 0.0,
                "lookup noise variances and scale must be >= 0, got ", noise.variance_per_squared_norm, ", ",
                noise.variance_constant, " and ", noise.scale);
    FHENN_CHECK(options.rounding_noise_margin == 0.0,
                "choose one model of the encrypted lookup: a rounding noise margin or the Gaussian lookup noise");
  }
}

// Weights uniform in [-1, 1] (the reference's QAT initialisation), biases uniform in +-1/sqrt(fan_in)
// (torch.nn.Linear's default), drawn in a fixed order from a portable generator.
QuantLinear make_linear(int in_features, int out_features, int bits, SplitMix64& rng) {
  torch::Tensor weight = torch::empty({out_features, in_features}, torch::kFloat64);
  auto w = weight.accessor<double, 2>();
  for (int o = 0; o < out_features; ++o)
    for (int i = 0; i < in_features; ++i) w[o][i] = rng.uniform(-1.0, 1.0);
  torch::Tensor bias = torch::empty({out_features}, torch::kFloat64);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  auto b = bias.accessor<double, 1>();
  for (int o = 0; o < out_features; ++o) b[o] = rng.uniform(-bound, bound);
  return QuantLinear(weight, bias, unit_grid(bits), /*scaling_const=*/1.0);
}

// Mean over samples of each sample's largest value (Brevitas initialises QuantReLU's scale from running
// statistics of the activation maximum).
double mean_sample_maximum(const torch::Tensor& activations) {
  return std::get<0>(activations.max(1)).mean().item<double>();
}

}  // namespace

std::string to_string(InputRange range) {
  switch (range) {
    case InputRange::unit:
      return "unit";
    case InputRange::positive:
      return "positive";
    case InputRange::data:
      return "data";
    case InputRange::learned:
      return "learned";
  }
  return "?";
}

std::string to_string(ActivationMode mode) {
  return mode == ActivationMode::unit ? "unit" : "learned";
}

std::string to_string(RoundingFit fit) {
  return fit == RoundingFit::layer_range ? "layer" : "neuron";
}

InputRange parse_input_range(std::string_view text) {
  if (text == "unit") return InputRange::unit;
  if (text == "positive") return InputRange::positive;
  if (text == "data") return InputRange::data;
  if (text == "learned") return InputRange::learned;
  fail("unknown input range '", text, "': expected unit, positive, data or learned");
}

ActivationMode parse_activation_mode(std::string_view text) {
  if (text == "unit") return ActivationMode::unit;
  if (text == "learned") return ActivationMode::learned;
  fail("unknown activation quantizer '", text, "': expected unit or learned");
}

RoundingFit parse_rounding_fit(std::string_view text) {
  if (text == "layer") return RoundingFit::layer_range;
  if (text == "neuron") return RoundingFit::neuron_spans;
  fail("unknown rounding fit '", text, "': expected layer or neuron");
}

torch::Tensor to_float64_tensor(const Matrix& m) {
  return torch::from_blob(const_cast<double*>(m.values.data()),
                          {static_cast<int64_t>(m.rows), static_cast<int64_t>(m.cols)}, torch::kFloat64)
      .clone();
}

// Exact: round_msbs(acc, s) * 2^s = floor((acc + 2^(s-1)) / 2^s) * 2^s (quant/rounding.hpp), exact in float64.
// Approximate: floor((acc + 1/2 + e + 2^(s-1)) / 2^s) * 2^s; the 1/2 centres the boundary between the last
// integer rounded down and the first rounded up, so e = 0 gives the exact result.
torch::Tensor round_accumulator(const torch::Tensor& accumulator, int shift, double noise_margin,
                                std::optional<torch::Generator> generator) {
  FHENN_CHECK(shift >= 0 && shift < 53, "rounding shift ", shift, " is not in [0, 52]");
  FHENN_CHECK(noise_margin >= 0.0 && noise_margin <= 0.5, "rounding noise margin ", noise_margin,
              " is not in [0, 0.5]");
  if (shift == 0) return accumulator;
  const double step = std::ldexp(1.0, shift);
  torch::Tensor read = accumulator.detach() + step / 2.0;
  if (noise_margin > 0.0) {
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    const torch::Tensor uniform =
        generator ? torch::rand(read.sizes(), *generator, options) : torch::rand(read.sizes(), options);
    read = read + 0.5 + (uniform * 2.0 - 1.0) * (noise_margin * step);
  }
  const torch::Tensor rounded = torch::floor(read / step) * step;
  return accumulator + (rounded - accumulator).detach();
}

torch::Tensor read_noisy_accumulator(const torch::Tensor& accumulator, int shift, const torch::Tensor& sigma,
                                     std::optional<torch::Generator> generator) {
  FHENN_CHECK(shift >= 0 && shift < 53, "rounding shift ", shift, " is not in [0, 52]");
  FHENN_CHECK(sigma.numel() == 0 || sigma.min().item<double>() >= 0.0, "lookup noise sigma must be >= 0");
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor normal =
      generator ? torch::randn(accumulator.sizes(), *generator, options) : torch::randn(accumulator.sizes(), options);
  const double step = std::ldexp(1.0, shift);
  // The runtime adds half an accumulator unit before a rounding lookup (docs/encrypted.md, (E2)) so that no
  // integer sits on a rounding boundary; the read below models the same phase.
  const double tie_offset = shift > 0 ? 0.5 : 0.0;
  const torch::Tensor read = accumulator.detach() + normal * sigma.to(torch::kFloat64) + tie_offset + step / 2.0;
  const torch::Tensor rounded = torch::floor(read / step) * step;
  return accumulator + (rounded - accumulator).detach();
}

QatNet::QatNet(QatNetOptions options) : options_(std::move(options)) {
  check_options(options_);
  const int input_bits = options_.input_bits ? options_.input_bits : options_.bits;
  input_quantizer_ =
      options_.input_range == InputRange::positive
          ? make_quant_identity({.bits = input_bits, .is_signed = false, .narrow_range = false}, 0.0, 1.0)
          : make_quant_identity(unit_grid(input_bits), -1.0, 1.0);
  const int weight_bits = options_.weight_bits ? options_.weight_bits : options_.bits;
  SplitMix64 rng(derive_seed(options_.seed, kWeightStream));
  int in_features = options_.input_size;
  for (int width : options_.hidden_sizes) {
    linears_.push_back(make_linear(in_features, width, weight_bits, rng));
    activations_.push_back(options_.activation == ActivationMode::unit
                               ? make_quant_identity(unit_grid(options_.bits), -1.0, 1.0)
                               : make_quant_relu(options_.bits, 1.0));
    in_features = width;
  }
  linears_.push_back(make_linear(in_features, options_.num_classes, weight_bits, rng));
  noise_generator_ = at::detail::createCPUGenerator(derive_seed(options_.seed, kNoiseStream));
}

ActivationQuantizer QatNet::data_input_quantizer(const torch::Tensor& x) const {
  return data_range_quantizer(x, input_quantizer_.grid().bits, options_.input_range == InputRange::learned);
}

void QatNet::calibrate(const Matrix& features, size_t max_samples) {
  FHENN_CHECK(features.rows > 0, "cannot calibrate the quantizers on an empty data set");
  FHENN_CHECK(features.cols == static_cast<size_t>(options_.input_size), "calibration data has ", features.cols,
              " features, the network expects ", options_.input_size);
  const torch::Tensor x = to_float64_tensor(features).narrow(0, 0, std::min(max_samples, features.rows));
  torch::NoGradGuard no_grad;
  if (options_.input_range == InputRange::data || options_.input_range == InputRange::learned) {
    input_quantizer_ = data_input_quantizer(x);
  }
  // Each learned activation scale from the statistics of its layer, given the layers before it.
  torch::Tensor layer_input = input_quantizer_.forward(x);
  for (size_t i = 0; i < activations_.size(); ++i) {
    const torch::Tensor activation = torch::relu(linears_[i].forward(layer_input));
    ActivationQuantizer& quantizer = activations_[i];
    if (quantizer.learns_scale()) {
      const double maximum = mean_sample_maximum(activation);
      quantizer.set_scale(maximum > 0.0 ? maximum / static_cast<double>(quantizer.qmax()) : 1.0);
    }
    layer_input = quantizer.forward(activation);
  }
}

torch::Tensor QatNet::forward(const torch::Tensor& x) {
  return run_layers(x, training_ && (options_.rounding_noise_margin > 0.0 || options_.lookup_noise)).logits;
}

QatOutputs QatNet::run(const torch::Tensor& x) const {
  return run_layers(x, false);
}

QatOutputs QatNet::run_layers(const torch::Tensor& x, bool with_noise) const {
  FHENN_CHECK(x.dim() == 2 && x.size(1) == options_.input_size, "the network expects [batch, ", options_.input_size,
              "] inputs");
  torch::Tensor x_int = input_quantizer_.integers(x.to(torch::kFloat64));
  torch::Tensor x_scale = input_quantizer_.scale();
  for (size_t i = 0;; ++i) {
    const QuantLinear& linear = linears_[i];
    torch::Tensor accumulator = torch::matmul(x_int, linear.integer_weights().t());  // exact: integers < 2^53
    const bool last = i + 1 == linears_.size();
    if (!last) accumulator = round_hidden_accumulator(i, accumulator, with_noise);
    // Left to right, as the compiler's tables compute it (compiler/dequantization.hpp (L3)): same doubles.
    const torch::Tensor y = accumulator * x_scale * linear.weight_scale() + linear.bias();
    if (last) return {y, accumulator};
    x_int = activations_[i].integers(torch::relu(y));
    x_scale = activations_[i].scale();
  }
}

torch::Tensor QatNet::round_hidden_accumulator(size_t index, const torch::Tensor& accumulator, bool with_noise) const {
  const int shift = rounding_shift(index);
  if (!with_noise) return nn::round_accumulator(accumulator, shift);
  if (options_.lookup_noise) {
    return read_noisy_accumulator(accumulator, shift, lookup_noise_sigma(index, shift), noise_generator_);
  }
  return nn::round_accumulator(accumulator, shift, options_.rounding_noise_margin, noise_generator_);
}

// (S1) of docs/encrypted.md: sigma_i = sqrt(A ||w_i||^2 + B) * 2^(w + 1), w = index bits + shift, per neuron.
torch::Tensor QatNet::lookup_noise_sigma(size_t index, int shift) const {
  const LookupNoise& noise = *options_.lookup_noise;
  const torch::Tensor squared_norms = linears_[index].integer_weights().detach().square().sum(1);
  const double units_per_torus = std::ldexp(1.0, lookup_index_bits(index) + shift + 1);
  return torch::sqrt(squared_norms * noise.variance_per_squared_norm + noise.variance_constant) *
         (units_per_torus * noise.scale);
}

std::pair<int64_t, int64_t> QatNet::layer_input_range(size_t index) const {
  if (index == 0) return {input_quantizer_.qmin(), input_quantizer_.qmax()};
  const ActivationQuantizer& previous = activations_[index - 1];
  return {std::max<int64_t>(previous.qmin(), 0), previous.qmax()};  // a ReLU comes before it
}

std::pair<torch::Tensor, torch::Tensor> QatNet::neuron_accumulator_bounds(size_t index) const {
  FHENN_ASSERT_LT(index, linears_.size());
  torch::NoGradGuard no_grad;
  const auto [lowest, highest] = layer_input_range(index);
  const torch::Tensor w = linears_[index].integer_weights();
  const torch::Tensor positive = w.clamp_min(0.0).sum(1);
  const torch::Tensor negative = w.clamp_max(0.0).sum(1);
  const auto low = static_cast<double>(lowest);
  const auto high = static_cast<double>(highest);
  return {positive * low + negative * high, positive * high + negative * low};
}

AccumulatorBounds QatNet::accumulator_bounds(size_t index) const {
  const auto [minimum, maximum] = neuron_accumulator_bounds(index);
  AccumulatorBounds bounds;
  bounds.min = static_cast<int64_t>(minimum.min().item<double>());
  bounds.max = static_cast<int64_t>(maximum.max().item<double>());
  bounds.bits = range_bits(bounds.min, bounds.max);
  return bounds;
}

// max_i (round_msbs(max_i, shift) - round_msbs(min_i, shift)) over the neurons of layer `index` (round_msbs as
// floor((a + 2^(shift-1)) / 2^shift), exact in float64).
int QatNet::widest_rounded_span(size_t index, int shift) const {
  const auto [minimum, maximum] = neuron_accumulator_bounds(index);
  if (shift == 0) return static_cast<int>((maximum - minimum).max().item<double>());
  const double step = std::ldexp(1.0, shift);
  const auto rounded = [step](const torch::Tensor& a) { return torch::floor((a + step / 2.0) / step); };
  return static_cast<int>((rounded(maximum) - rounded(minimum)).max().item<double>());
}

int QatNet::rounding_shift(size_t index) const {
  if (!options_.rounding_threshold_bits || index + 1 >= linears_.size()) return 0;
  const int bits = *options_.rounding_threshold_bits;
  if (options_.rounding_fit == RoundingFit::layer_range) {
    const AccumulatorBounds bounds = accumulator_bounds(index);
    return quant::rounding_shift_for_range(bounds.min, bounds.max, bits);
  }
  int shift = 0;
  while (unsigned_bits(static_cast<uint64_t>(widest_rounded_span(index, shift))) > bits) ++shift;
  return shift;
}

int QatNet::lookup_index_bits(size_t index) const {
  FHENN_CHECK(index + 1 < linears_.size(), "layer ", index, " has no table lookup (the last layer is ",
              linears_.size() - 1, ")");
  return unsigned_bits(static_cast<uint64_t>(widest_rounded_span(index, rounding_shift(index))));
}

QatPredictions QatNet::predict(const Matrix& features, const std::vector<int64_t>* labels) const {
  FHENN_CHECK(!labels || labels->size() == features.rows, "got ", features.rows, " samples but ",
              labels ? labels->size() : 0, " labels");
  torch::NoGradGuard no_grad;
  const QatOutputs outputs = run(to_float64_tensor(features));
  const torch::Tensor classes = outputs.logits.argmax(1);
  const torch::Tensor integers = outputs.output_integers.to(torch::kInt64).contiguous();
  QatPredictions predictions;
  size_t correct = 0;
  for (size_t row = 0; row < features.rows; ++row) {
    const int64_t* begin = integers[static_cast<int64_t>(row)].data_ptr<int64_t>();
    predictions.output_integers.emplace_back(begin, begin + integers.size(1));
    predictions.classes.push_back(classes[static_cast<int64_t>(row)].item<int64_t>());
    if (labels && (*labels)[row] == predictions.classes.back()) ++correct;
  }
  if (labels && features.rows) predictions.accuracy = static_cast<double>(correct) / static_cast<double>(features.rows);
  return predictions;
}

std::vector<torch::Tensor> QatNet::parameters() const {
  std::vector<torch::Tensor> all = input_quantizer_.parameters();
  for (const QuantLinear& linear : linears_)
    for (const torch::Tensor& p : linear.parameters()) all.push_back(p);
  for (const ActivationQuantizer& quantizer : activations_)
    for (const torch::Tensor& p : quantizer.parameters()) all.push_back(p);
  return all;
}

std::vector<torch::Tensor> QatNet::weights() const {
  std::vector<torch::Tensor> all;
  for (const QuantLinear& linear : linears_) all.push_back(linear.weight());
  return all;
}

compiler::QatMlp QatNet::to_qat_mlp() const {
  compiler::QatMlp mlp;
  mlp.input_size = options_.input_size;
  mlp.input_quantizer = input_quantizer_.exported();
  mlp.rounding_threshold_bits = options_.rounding_threshold_bits;
  for (size_t i = 0; i < linears_.size(); ++i) {
    const QuantLinear& linear = linears_[i];
    const bool last = i + 1 == linears_.size();
    compiler::QatLayer layer;
    layer.layer.name = "fc" + std::to_string(i + 1);
    layer.layer.in_features = linear.in_features();
    layer.layer.out_features = linear.out_features();
    layer.layer.weight = to_doubles(linear.weight());
    layer.layer.bias = to_doubles(linear.bias());
    layer.layer.activation = last ? compiler::Activation::identity : compiler::Activation::relu;
    layer.weight_quantizer = linear.weight_quantizer();
    if (!last) layer.output_quantizer = activations_[i].exported();
    layer.rounding_shift = rounding_shift(i);
    mlp.layers.push_back(std::move(layer));
  }
  return mlp;
}

}  // namespace fhenn::nn
