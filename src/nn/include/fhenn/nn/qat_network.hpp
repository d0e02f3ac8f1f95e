// The guide's QATPrunedSimpleNet generalised: quantized MLP whose forward pass computes the circuit's integers.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/model.hpp"
#include "fhenn/nn/qat_layers.hpp"

namespace fhenn::nn {

// How the input quantizer's scale is chosen.
enum class InputRange {
  unit,      // the guide: QuantIdentity, constant, signed narrow on [-1, 1]: scale 1 / (2^(b-1) - 1)
  positive,  // constant, unsigned on [0, 1]: scale 1 / (2^b - 1), for features known to lie in [0, 1]; at b = 2 it
             // gives the guide's 3-bit integers on [0, 1] (thresholds 1/6, 1/2, 5/6) with half the declared range
  data,      // constant, from the training data: unsigned, scale = max / qmax, unless some value is below -scale/2
             // (then signed narrow, scale = max|x| / qmax)
  learned,   // initialised like `data`, then learned with the weights
};

// The quantizer after each hidden ReLU.
enum class ActivationMode {
  unit,     // the guide: QuantIdentity, constant, signed narrow on [-1, 1] (after a ReLU: integers 0..qmax)
  learned,  // QuantReLU: unsigned, scale learned, initialised from the mean per-sample activation maximum
};

// How a hidden layer's rounding shift is chosen for rounding_threshold_bits = r.
enum class RoundingFit {
  layer_range,   // the layer's worst-case accumulator range (over all neurons), rounded, fits in r bits: every
                 // value a lookup of the layer reads is an r-bit integer (the reference's definition)
  neuron_spans,  // each neuron's worst-case accumulator span, rounded, fits in r bits: what the engine needs, since
                 // each lookup element subtracts its own minimum (docs/encrypted.md (E2)); a finer shift, so
                 // fewer low bits dropped, at equal bootstrap precision
};

// The encrypted runtime's noise at a table lookup's input (tfhe::noise::pbs_input_variance, formula (9)), as a
// variance relative to the torus: per_squared_norm * ||w_i||^2 + constant for a lookup element fed by the integer
// weights w_i. Training with it (QatNetOptions::lookup_noise) adds e ~ N(0, sigma_i^2) to each hidden accumulator
// before its rounding, with sigma_i converted to accumulator units as the simulator does (docs/encrypted.md (S1)):
// times 2^(w + 1), w = lookup_index_bits + shift, the encoding the engine plan gives that accumulator.
struct LookupNoise {
  double variance_per_squared_norm = 0.0;
  double variance_constant = 0.0;
  double scale = 1.0;  // multiplies sigma (> 1: a safety margin)
};

std::string to_string(InputRange range);
std::string to_string(ActivationMode mode);
std::string to_string(RoundingFit fit);
InputRange parse_input_range(std::string_view text);  // "unit" | "positive" | "data" | "learned", else fhenn::Error
ActivationMode parse_activation_mode(std::string_view text);  // "unit" | "learned", else fhenn::Error
RoundingFit parse_rounding_fit(std::string_view text);        // "layer" | "neuron", else fhenn::Error

struct QatNetOptions {
  int input_size = 2;
  std::vector<int> hidden_sizes = {100, 100};  // the guide: two hidden layers (three linear layers)
  int num_classes = 2;
  int bits = 3;         // weights and activations of every layer (the guide's 100-bit last layer is a bug)
  int input_bits = 0;   // the input quantizer's bits; 0: `bits`
  int weight_bits = 0;  // the linear layers' weight bits; 0: `bits` (2: ternary weights, ||w_i||^2 = non-zeros)
  InputRange input_range = InputRange::unit;
  ActivationMode activation = ActivationMode::learned;
  // Rounding-aware training (Concrete ML documentation): each hidden layer's accumulator keeps its r most significant
  // bits before the table lookup, as the circuit does.
  std::optional<int> rounding_threshold_bits;
  // Training-time model of the encrypted runtime's approximate rounding (see round_accumulator), as a fraction of
  // one rounding step 2^shift, in [0, 0.5]. 0: exact rounding. Evaluation and export are always exact.
  double rounding_noise_margin = 0.0;
  RoundingFit rounding_fit = RoundingFit::layer_range;
  // Training-time model of the engine's Gaussian lookup noise (see LookupNoise); replaces rounding_noise_margin.
  // Evaluation and export are always exact.
  std::optional<LookupNoise> lookup_noise;
  uint64_t seed = 0;  // initial weights (uniform in [-1, 1], as the reference) and rounding noise
};

// Worst-case integer accumulator of a layer over all inputs its input quantizer can produce (bias excluded):
// per neuron, positive weights times the largest input plus negative weights times the smallest.
struct AccumulatorBounds {
  int64_t min = 0;
  int64_t max = 0;
  int bits = 1;  // range_bits(min, max)
};

// A hidden layer's accumulator keeping its most significant bits, in units of the accumulator, with a
// straight-through gradient: round_msbs(acc, shift) * 2^shift (quant/rounding.hpp, what the circuit computes).
// With noise_margin m > 0 it models the encrypted runtime's approximate rounding, which reads the top bits of a
// noisy value: the boundary between the largest integer rounded down and the smallest rounded up lies half-way
// between them, the read value is acc + e with e uniform in [-m * 2^shift, m * 2^shift], so an accumulator at
// distance d from that boundary rounds to the other neighbour with probability max(0, (1 - d / (m 2^shift)) / 2)
// (below 1/2: the exact result stays the likeliest), and only neighbours of a boundary ever change, by one step.
// Throws fhenn::Error for a shift outside [0, 52] or a margin outside [0, 0.5].
torch::Tensor round_accumulator(const torch::Tensor& accumulator, int shift, double noise_margin = 0.0,
                                std::optional<torch::Generator> generator = std::nullopt);

// What the engine's lookup reads from a noisy accumulator (docs/encrypted.md (S1)-(S2)), in accumulator units with
// a straight-through gradient: floor((acc + e + 2^(shift-1)) / 2^shift) * 2^shift, e ~ N(0, sigma^2) per element
// (`sigma` broadcasts against the accumulator: one value per neuron). With shift 0, round(acc + e). A value exactly
// half-way between two rounded values reads either with probability 1/2, as in the engine. Throws fhenn::Error for
// a shift outside [0, 52] or a negative sigma.
torch::Tensor read_noisy_accumulator(const torch::Tensor& accumulator, int shift, const torch::Tensor& sigma,
                                     std::optional<torch::Generator> generator = std::nullopt);

// Outputs of the exact forward pass on a batch.
struct QatOutputs {
  torch::Tensor logits;           // float64 [batch, classes]: acc * input_scale * weight_scale + bias (the client's)
  torch::Tensor output_integers;  // float64 holding integers: the last layer's accumulators (the circuit's output)
};

// Predictions of the trained network on a data set, computed exactly as the circuit computes them.
struct QatPredictions {
  std::vector<std::vector<int64_t>> output_integers;  // per sample, the circuit's output integers
  std::vector<int64_t> classes;                       // argmax of the logits
  double accuracy = 0.0;                              // against the labels given, else 0
};

// Input quantizer -> [QuantLinear -> ReLU -> activation quantizer] x hidden -> QuantLinear.
// Everything runs in float64 on integer-valued tensors: each accumulator x_int @ w_int^T is exact, so the forward
// pass and the compiled circuit agree integer for integer. Hidden layer i computes
//   acc_i = x_int @ w_int^T                     (with rounding: round_msbs(acc_i, shift_i) * 2^shift_i)
//   y_i   = acc_i * input_scale_i * weight_scale_i + bias_i      (left to right, in float64, as the compiler)
//   x_int = round_half_even(clamp(relu(y_i) / output_scale_i, qmin, qmax))
// and the last layer outputs its accumulator; the client computes acc * input_scale * weight_scale + bias.
class QatNet {
 public:
  explicit QatNet(QatNetOptions options);

  // Sets the input range (InputRange::data / learned) and the learned activation scales from the first
  // `max_samples` rows of `features`, layer by layer. Throws fhenn::Error on an empty matrix or a wrong width.
  void calibrate(const Matrix& features, size_t max_samples = 300);

  // Logits for training: rounding noise applies when training() and a noise margin or lookup noise is set.
  torch::Tensor forward(const torch::Tensor& x);
  // The exact forward pass (no noise).
  QatOutputs run(const torch::Tensor& x) const;
  QatPredictions predict(const Matrix& features, const std::vector<int64_t>* labels = nullptr) const;

  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  std::vector<torch::Tensor> parameters() const;  // weights, biases, learned scales
  std::vector<torch::Tensor> weights() const;     // the linear layers' weights (what pruning masks)
  const QatNetOptions& options() const { return options_; }
  const ActivationQuantizer& input_quantizer() const { return input_quantizer_; }
  const std::vector<QuantLinear>& linears() const { return linears_; }
  const std::vector<ActivationQuantizer>& activation_quantizers() const { return activations_; }

  // Worst-case accumulator of layer `index` with the current quantized weights.
  AccumulatorBounds accumulator_bounds(size_t index) const;
  // Low bits layer `index` drops before its table lookup: 0 without rounding and on the last layer (no lookup);
  // otherwise, with RoundingFit::layer_range, the smallest shift that fits the rounded worst-case range in r bits
  // (quant::rounding_shift_for_range: rounding_shift(bounds.bits, r), or one more when rounding up carries), and
  // with RoundingFit::neuron_spans the smallest that fits every neuron's rounded worst-case span in r bits.
  int rounding_shift(size_t index) const;
  // Bits the engine's lookup after hidden layer `index` reads (runtime::LookupPlan::index_bits from worst-case
  // ranges): unsigned_bits of the widest rounded per-neuron span max_i (round_msbs(max_i) - round_msbs(min_i)).
  int lookup_index_bits(size_t index) const;

  // The network for the compiler: float weights with their weight quantizers, the quantizer after each hidden
  // layer, the input quantizer and each layer's rounding shift (layers named fc1, fc2, ...).
  compiler::QatMlp to_qat_mlp() const;

 private:
  QatOutputs run_layers(const torch::Tensor& x, bool with_noise) const;
  torch::Tensor round_hidden_accumulator(size_t index, const torch::Tensor& accumulator, bool with_noise) const;
  std::pair<int64_t, int64_t> layer_input_range(size_t index) const;
  // Per neuron of layer `index`: the worst-case accumulator minimum and maximum (float64 [out_features]).
  std::pair<torch::Tensor, torch::Tensor> neuron_accumulator_bounds(size_t index) const;
  int widest_rounded_span(size_t index, int shift) const;
  torch::Tensor lookup_noise_sigma(size_t index, int shift) const;
  ActivationQuantizer data_input_quantizer(const torch::Tensor& x) const;

  QatNetOptions options_;
  ActivationQuantizer input_quantizer_;
  std::vector<QuantLinear> linears_;
  std::vector<ActivationQuantizer> activations_;  // one per hidden layer
  torch::Generator noise_generator_;              // a shared handle: drawing advances it even from const methods
  bool training_ = false;
};

// Float64 [rows, cols] tensor of a Matrix (the exact values the client quantizes).
torch::Tensor to_float64_tensor(const Matrix& m);

}  // namespace fhenn::nn
