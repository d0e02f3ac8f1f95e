// Post-training quantization parameters (see ptq.hpp and docs/circuit.md section 1).
#include "fhenn/quant/ptq.hpp"

#include <algorithm>
#include <cmath>

#include "fhenn/common/error.hpp"

namespace fhenn::quant {
namespace {

constexpr double kConstantTensorWidth = 1e-12;

void validate_role(int bits, const char* role) {
  FHENN_CHECK(bits >= 2 && bits <= 16, "n_bits for ", role, " is ", bits, ": choose between 2 and 16 bits");
}

void check_observed(const TensorStatistics& stats) {
  FHENN_CHECK(!stats.empty, "cannot derive a quantizer from an empty calibration set: give at least one sample");
  FHENN_CHECK(std::isfinite(stats.rmin) && std::isfinite(stats.rmax),
              "calibration saw a non-finite value (NaN or infinity): check the model and the calibration data");
}

}  // namespace

NBits NBits::uniform(int n) {
  return NBits{std::max(5, n), n, n, std::max(5, n)};
}

void validate(const NBits& n_bits) {
  validate_role(n_bits.model_inputs, "model inputs");
  validate_role(n_bits.op_inputs, "op inputs");
  validate_role(n_bits.op_weights, "op weights");
  validate_role(n_bits.model_outputs, "model outputs");
}

void TensorStatistics::observe(double value) {
  if (empty) {
    rmin = rmax = value;
    empty = false;
    return;
  }
  // NaN propagates so that check_observed reports it.
  if (std::isnan(value)) rmin = rmax = value;
  rmin = std::min(rmin, value);
  rmax = std::max(rmax, value);
}

void TensorStatistics::observe(std::span<const double> values) {
  for (double v : values) observe(v);
}

TensorStatistics TensorStatistics::of(std::span<const double> values) {
  TensorStatistics stats;
  stats.observe(values);
  return stats;
}

int64_t quantizer_offset(int bits, bool is_signed) {
  return is_signed ? int64_t{1} << (bits - 1) : 0;
}

UniformQuantizer symmetric_quantizer(const TensorStatistics& stats, int bits) {
  check_observed(stats);
  const double magnitude = std::max(std::abs(stats.rmin), std::abs(stats.rmax));
  const double levels = static_cast<double>((int64_t{1} << (bits - 1)) - 1);
  const double scale = magnitude > 0.0 ? magnitude / levels : 1.0;
  return UniformQuantizer{.bits = bits, .is_signed = true, .narrow_range = false, .scale = scale, .zero_point = 0};
}

UniformQuantizer asymmetric_quantizer(const TensorStatistics& stats, int bits) {
  check_observed(stats);
  const bool is_signed = stats.rmin < 0.0;
  UniformQuantizer q{.bits = bits, .is_signed = is_signed, .narrow_range = false, .scale = 1.0, .zero_point = 0};
  const double width = stats.rmax - stats.rmin;
  if (width < kConstantTensorWidth) {
    q.scale = std::abs(stats.rmax) > 0.0 ? std::abs(stats.rmax) : 1.0;
    return q;
  }
  const double top = static_cast<double>((int64_t{1} << bits) - 1);
  const double offset = static_cast<double>(quantizer_offset(bits, is_signed));
  q.scale = width / top;
  q.zero_point = static_cast<int64_t>(std::nearbyint((-stats.rmax * offset - stats.rmin * (top - offset)) / width));
  return q;
}

}  // namespace fhenn::quant
