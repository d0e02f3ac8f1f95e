// (L3) and the client's output dequantization (see dequantization.hpp).
#include "fhenn/compiler/dequantization.hpp"

#include <algorithm>

namespace fhenn::compiler {

double dequantize_accumulator(int64_t rounded, int rounding_shift, double input_scale, double weight_scale, double bias,
                              Activation activation) {
  const int64_t accumulator = rounded * (int64_t{1} << rounding_shift);
  const double y = static_cast<double>(accumulator) * input_scale * weight_scale + bias;
  return activation == Activation::relu ? std::max(y, 0.0) : y;
}

double OutputDequantization::score(int64_t v) const {
  if (quantizer) return quantizer->dequantize(v);
  return dequantize_accumulator(v, rounding_shift, input_scale, weight_scale, bias, activation);
}

}  // namespace fhenn::compiler
