// A uniform quantizer with an explicit scale and zero point: the common currency of PTQ and QAT.
#pragma once

#include <cstdint>

namespace fhenn::quant {

// q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)  and  x ~= scale * (q - zero_point).
// Signed b bits: [-2^(b-1), 2^(b-1)-1], or [-(2^(b-1)-1), 2^(b-1)-1] when narrow_range;
// unsigned b bits: [0, 2^b-1], or [0, 2^b-2] when narrow_range (Brevitas conventions).
// QAT quantizers (Brevitas, the Concrete ML documentation) have zero_point 0 and clamp before rounding, which for
// zero_point 0 gives the same integers as rounding then clamping.
struct UniformQuantizer {
  int bits = 8;
  bool is_signed = true;
  bool narrow_range = false;
  double scale = 1.0;
  int64_t zero_point = 0;

  int64_t qmin() const;
  int64_t qmax() const;
  int64_t quantize(double x) const;
  double dequantize(int64_t q) const { return scale * static_cast<double>(q - zero_point); }
  bool operator==(const UniformQuantizer&) const = default;
};

}  // namespace fhenn::quant
