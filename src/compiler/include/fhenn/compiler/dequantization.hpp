// The integer semantics of a linear layer in the circuit, (L1)-(L5) of docs/circuit.md, and what the client does
// with an output integer.
#pragma once

#include <cstdint>
#include <optional>

#include "fhenn/compiler/model.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

// A linear layer on integers. With q the layer's input integers:
//   (L1) acc[i]  = sum_j W[i][j] * (q[j] - input_zero_point)                           exact integers
//   (L2) r[i]    = round_msbs(acc[i], rounding_shift)                                  quant/rounding.hpp
//   (L3) y[i]    = act(double(r[i] * 2^rounding_shift) * input_scale * weight_scale + bias[i])
//                  evaluated in double, left to right, exactly as written
//   (L4) out[i]  = output_quantizer.quantize(y[i])     when a lookup follows (its table)
//   (L5) out[i]  = r[i], and the client's score is y[i]  otherwise (an output accumulator: no lookup)

// (L3) as one function, shared by every path that turns an accumulator into a float.
double dequantize_accumulator(int64_t rounded, int rounding_shift, double input_scale, double weight_scale, double bias,
                              Activation activation);

// What the client does with one output integer v: the score y of (L3) (with its activation), or
// quantizer.dequantize(v) when the output is a lookup's.
struct OutputDequantization {
  double input_scale = 1.0;
  double weight_scale = 1.0;
  double bias = 0.0;
  int rounding_shift = 0;
  Activation activation = Activation::identity;
  std::optional<quant::UniformQuantizer> quantizer;

  double score(int64_t v) const;
  bool operator==(const OutputDequantization&) const = default;
};

}  // namespace fhenn::compiler
