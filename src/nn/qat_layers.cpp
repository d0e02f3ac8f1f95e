// Quantization-aware layers (see qat_layers.hpp): fake quantizers with straight-through gradients.
#include "fhenn/nn/qat_layers.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "fhenn/common/error.hpp"

namespace fhenn::nn {
namespace {

// A learned scale never goes below this (AdamW could push it through zero); the exported scale is the same.
constexpr double kMinLearnedScale = 1e-8;

torch::Tensor scalar_tensor(double value, bool requires_grad) {
  return torch::tensor(value, torch::dtype(torch::kFloat64)).set_requires_grad(requires_grad);
}

quant::UniformQuantizer grid_quantizer(const QuantGrid& grid, double scale) {
  return {.bits = grid.bits,
          .is_signed = grid.is_signed,
          .narrow_range = grid.narrow_range,
          .scale = scale,
          .zero_point = 0};
}

void check_grid(const QuantGrid& grid) {
  FHENN_CHECK(grid.bits >= 2 && grid.bits <= 16, "quantizer bit width ", grid.bits, " is not in [2, 16]");
}

}  // namespace

torch::Tensor round_ste(const torch::Tensor& values) {
  return values + (torch::round(values) - values).detach();
}

torch::Tensor quantize_integers(const torch::Tensor& x, const torch::Tensor& scale, int64_t qmin, int64_t qmax,
                                ClampGradient clamp_gradient) {
  const torch::Tensor scaled = x / scale;
  const torch::Tensor clamped =
      clamp_gradient == ClampGradient::zero_where_clamped
          ? torch::clamp(scaled, static_cast<double>(qmin), static_cast<double>(qmax))
          : scaled + (torch::clamp(scaled, static_cast<double>(qmin), static_cast<double>(qmax)) - scaled).detach();
  return round_ste(clamped);
}

double scale_from_range(const QuantGrid& grid, double min_val, double max_val) {
  check_grid(grid);
  const double magnitude = std::max(std::abs(min_val), std::abs(max_val));
  FHENN_CHECK(std::isfinite(magnitude) && magnitude > 0.0, "quantizer range [", min_val, ", ", max_val,
              "] is empty: at least one bound must be non-zero");
  return magnitude / static_cast<double>(grid_quantizer(grid, 1.0).qmax());
}

ActivationQuantizer::ActivationQuantizer(QuantGrid grid, double scale, bool learn_scale, bool apply_relu)
    : grid_(grid), learn_scale_(learn_scale), apply_relu_(apply_relu) {
  check_grid(grid);
  scale_ = scalar_tensor(1.0, learn_scale);
  set_scale(scale);
}

torch::Tensor ActivationQuantizer::integers(const torch::Tensor& x) const {
  const torch::Tensor input = apply_relu_ ? torch::relu(x) : x;
  return quantize_integers(input, scale(), qmin(), qmax(), ClampGradient::zero_where_clamped);
}

torch::Tensor ActivationQuantizer::scale() const {
  return learn_scale_ ? scale_.clamp_min(kMinLearnedScale) : scale_;
}

double ActivationQuantizer::scale_value() const {
  return scale().item<double>();
}

void ActivationQuantizer::set_scale(double scale) {
  FHENN_CHECK(std::isfinite(scale) && scale > 0.0, "activation quantizer scale ", scale, " must be finite and > 0");
  torch::NoGradGuard no_grad;
  scale_.fill_(scale);
}

std::vector<torch::Tensor> ActivationQuantizer::parameters() const {
  if (!learn_scale_) return {};
  return {scale_};
}

quant::UniformQuantizer ActivationQuantizer::exported() const {
  return grid_quantizer(grid_, scale_.defined() ? scale_value() : 1.0);
}

ActivationQuantizer data_range_quantizer(const torch::Tensor& x, int bits, bool learn) {
  const QuantGrid unsigned_grid{.bits = bits, .is_signed = false, .narrow_range = false};
  const double unsigned_scale = scale_from_range(unsigned_grid, 0.0, std::max(x.max().item<double>(), 0.0));
  if (x.min().item<double>() > -unsigned_scale / 2.0) {
    return ActivationQuantizer(unsigned_grid, unsigned_scale, learn, /*apply_relu=*/false);
  }
  const QuantGrid signed_grid{.bits = bits, .is_signed = true, .narrow_range = true};
  return ActivationQuantizer(signed_grid, scale_from_range(signed_grid, 0.0, x.abs().max().item<double>()), learn,
                             /*apply_relu=*/false);
}

ActivationQuantizer make_quant_identity(QuantGrid grid, double min_val, double max_val) {
  return ActivationQuantizer(grid, scale_from_range(grid, min_val, max_val), /*learn_scale=*/false,
                             /*apply_relu=*/false);
}

ActivationQuantizer make_quant_relu(int bits, double initial_scale) {
  return ActivationQuantizer(QuantGrid{.bits = bits, .is_signed = false, .narrow_range = false}, initial_scale,
                             /*learn_scale=*/true, /*apply_relu=*/true);
}

QuantLinear::QuantLinear(torch::Tensor weight, torch::Tensor bias, QuantGrid weight_grid, double scaling_const)
    : weight_(std::move(weight)), bias_(std::move(bias)), weight_grid_(weight_grid) {
  check_grid(weight_grid);
  FHENN_CHECK(weight_.dim() == 2 && bias_.dim() == 1 && bias_.size(0) == weight_.size(0),
              "QuantLinear needs a [out, in] weight and an [out] bias");
  FHENN_CHECK(std::isfinite(scaling_const) && scaling_const > 0.0, "weight scaling_const ", scaling_const,
              " must be finite and > 0");
  weight_ = weight_.to(torch::kFloat64).detach().set_requires_grad(true);
  bias_ = bias_.to(torch::kFloat64).detach().set_requires_grad(true);
  weight_scale_ = scaling_const / static_cast<double>(grid_quantizer(weight_grid, 1.0).qmax());
}

torch::Tensor QuantLinear::integer_weights() const {
  const auto grid = weight_quantizer();
  return quantize_integers(weight_, scalar_tensor(weight_scale_, false), grid.qmin(), grid.qmax(),
                           ClampGradient::straight_through);
}

torch::Tensor QuantLinear::forward(const torch::Tensor& x) const {
  return torch::matmul(x, (integer_weights() * weight_scale_).t()) + bias_;
}

quant::UniformQuantizer QuantLinear::weight_quantizer() const {
  return grid_quantizer(weight_grid_, weight_scale_);
}

}  // namespace fhenn::nn
