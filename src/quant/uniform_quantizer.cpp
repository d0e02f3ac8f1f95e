// Uniform quantizer (see uniform_quantizer.hpp).
#include "fhenn/quant/uniform_quantizer.hpp"

#include <algorithm>
#include <cmath>

namespace fhenn::quant {

int64_t UniformQuantizer::qmin() const {
  if (!is_signed) return 0;
  const int64_t half = int64_t{1} << (bits - 1);
  return narrow_range ? -(half - 1) : -half;
}

int64_t UniformQuantizer::qmax() const {
  if (!is_signed) return (int64_t{1} << bits) - (narrow_range ? 2 : 1);
  return (int64_t{1} << (bits - 1)) - 1;
}

int64_t UniformQuantizer::quantize(double x) const {
  // std::nearbyint rounds half to even in the default rounding mode, like torch.round and numpy.rint.
  const double q = std::nearbyint(x / scale) + static_cast<double>(zero_point);
  return static_cast<int64_t>(std::clamp(q, static_cast<double>(qmin()), static_cast<double>(qmax())));
}

}  // namespace fhenn::quant
