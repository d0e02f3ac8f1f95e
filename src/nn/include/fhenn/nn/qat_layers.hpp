// Quantization-aware layers (LibTorch autograd): equivalents of Brevitas's QuantIdentity, QuantLinear, QuantReLU.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::nn {

// Gradient of the clamp in a fake quantizer (Concrete ML documentation): activations get zero gradient where the
// clamp is active (Brevitas TensorClamp), weights pass straight through both clamp and round (TensorClampSte).
enum class ClampGradient { zero_where_clamped, straight_through };

// Rounding with a straight-through gradient: forward round-half-even (torch.round), backward identity.
torch::Tensor round_ste(const torch::Tensor& values);

// The integers of a zero-point-0 quantizer, as an integer-valued tensor with gradients:
//   q = round_half_even(clamp(x / scale, qmin, qmax)),
// backward straight-through for the rounding, and for the clamp as `clamp_gradient` says. `scale` is a 0-dim
// tensor (a learned scale receives the gradient of the division, as in Brevitas's parameter scaling).
torch::Tensor quantize_integers(const torch::Tensor& x, const torch::Tensor& scale, int64_t qmin, int64_t qmax,
                                ClampGradient clamp_gradient);

// Integer grid of a quantizer: bits, sign and narrow range (Brevitas conventions, quant::UniformQuantizer).
struct QuantGrid {
  int bits = 3;
  bool is_signed = true;
  bool narrow_range = true;
};

// Brevitas's constant scaling from min_val / max_val: scale = max(|min_val|, |max_val|) / qmax
// (1/3 for signed narrow 3 bits on [-1, 1]). Throws fhenn::Error when both bounds are 0 or the grid is invalid.
double scale_from_range(const QuantGrid& grid, double min_val, double max_val);

// An activation quantizer: y = scale * round_half_even(clamp(x / scale, qmin, qmax)), zero gradient where
// clamped. The scale is constant or learned (a parameter, initialised by set_scale from statistics).
// apply_relu = true makes it a QuantReLU (relu before quantizing; usually an unsigned grid).
class ActivationQuantizer {
 public:
  ActivationQuantizer() = default;
  ActivationQuantizer(QuantGrid grid, double scale, bool learn_scale, bool apply_relu);

  // The integers q (integer-valued tensor with gradients), and their value scale * q.
  torch::Tensor integers(const torch::Tensor& x) const;
  torch::Tensor forward(const torch::Tensor& x) const { return integers(x) * scale(); }

  // The scale in use, as a 0-dim float64 tensor (with gradient when learned) and as a double.
  torch::Tensor scale() const;
  double scale_value() const;
  void set_scale(double scale);  // e.g. from running statistics; throws fhenn::Error unless finite and > 0

  const QuantGrid& grid() const { return grid_; }
  bool learns_scale() const { return learn_scale_; }
  bool applies_relu() const { return apply_relu_; }
  int64_t qmin() const { return exported().qmin(); }
  int64_t qmax() const { return exported().qmax(); }
  std::vector<torch::Tensor> parameters() const;  // the scale when learned, else empty

  // The quantizer the circuit uses: same bits, sign, narrow range and scale, zero point 0.
  quant::UniformQuantizer exported() const;

 private:
  QuantGrid grid_;
  torch::Tensor scale_;  // 0-dim float64
  bool learn_scale_ = false;
  bool apply_relu_ = false;
};

// An input quantizer from the data's range: unsigned with scale max / qmax when every negative value would round
// to 0 on that grid anyway (min > -scale / 2: noise around a non-negative feature), else signed narrow with scale
// max|x| / qmax; its scale learned when `learn`.
ActivationQuantizer data_range_quantizer(const torch::Tensor& x, int bits, bool learn);

// Brevitas QuantIdentity with constant scaling from min_val / max_val.
ActivationQuantizer make_quant_identity(QuantGrid grid, double min_val, double max_val);
// Brevitas QuantReLU: unsigned (non-narrow) grid, scale learned; `initial_scale` until calibrated.
ActivationQuantizer make_quant_relu(int bits, double initial_scale);

// Brevitas QuantLinear with a constant-scaled weight quantizer (scaling_const; signed narrow by default) and a
// float bias. Weights and bias are float64 parameters so that the exported floats are exactly those trained.
class QuantLinear {
 public:
  QuantLinear() = default;
  // weight [out_features, in_features], bias [out_features] (float64, requires_grad set here).
  QuantLinear(torch::Tensor weight, torch::Tensor bias, QuantGrid weight_grid, double scaling_const);

  // w_int = round_half_even(clamp(w / scale, qmin, qmax)), straight-through through clamp and round.
  torch::Tensor integer_weights() const;
  double weight_scale() const { return weight_scale_; }
  // y = x @ (scale * w_int)^T + bias.
  torch::Tensor forward(const torch::Tensor& x) const;

  const torch::Tensor& weight() const { return weight_; }
  const torch::Tensor& bias() const { return bias_; }
  int in_features() const { return static_cast<int>(weight_.size(1)); }
  int out_features() const { return static_cast<int>(weight_.size(0)); }
  std::vector<torch::Tensor> parameters() const { return {weight_, bias_}; }
  quant::UniformQuantizer weight_quantizer() const;

 private:
  torch::Tensor weight_;
  torch::Tensor bias_;
  QuantGrid weight_grid_;
  double weight_scale_ = 1.0;
};

}  // namespace fhenn::nn
