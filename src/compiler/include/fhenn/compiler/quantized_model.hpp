// The integer model both the circuit and the fake-quantized evaluation compute: integer weights, scales,
// float biases, rounding and the quantizer after each hidden layer (formulas (L1)-(L5) of docs/circuit.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhenn/compiler/model.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

// One layer on integers. With q the layer's input integers:
//   (L1) acc[i]  = sum_j W[i][j] * (q[j] - input_zero_point)                           exact integers
//   (L2) r[i]    = round_msbs(acc[i], rounding_shift)                                  quant/rounding.hpp
//   (L3) y[i]    = act(double(r[i] * 2^rounding_shift) * input_scale * weight_scale + bias[i])
//                  evaluated in double, left to right, exactly as written
//   (L4) out[i]  = output_quantizer.quantize(y[i])     when the layer has an output quantizer (a table lookup)
//   (L5) out[i]  = r[i], and the client's score is y[i]  otherwise (the last layer: no lookup)
struct QuantizedLayer {
  std::string name;
  int in_features = 0;
  int out_features = 0;
  std::vector<int64_t> weights;              // out x in, row-major
  quant::UniformQuantizer input_quantizer;   // the quantizer of the layer's input (its range and zero point)
  quant::UniformQuantizer weight_quantizer;  // zero point 0
  std::vector<double> bias;                  // out_features entries (zeros when the model has none)
  Activation activation = Activation::identity;
  int rounding_shift = 0;
  std::optional<quant::UniformQuantizer> output_quantizer;

  // (L1) for neuron i.
  int64_t accumulator(size_t i, std::span<const int64_t> inputs) const;
  // (L3) for neuron i, from the rounded accumulator r.
  double dequantized_output(size_t i, int64_t rounded) const;
  // (L4), or (L5)'s integer: what the circuit's node after the layer holds for neuron i.
  int64_t output_integer(size_t i, int64_t rounded) const;
  // The integers after the layer (L1, L2, then L4 or L5), written to `outputs` (out_features).
  void evaluate(std::span<const int64_t> inputs, std::span<int64_t> outputs) const;
};

struct QuantizedMlp {
  int input_size = 0;
  std::vector<QuantizedLayer> layers;
  // The last layer's integers for already quantized inputs (what the circuit outputs).
  std::vector<int64_t> output_integers(std::span<const int64_t> inputs) const;
};

// What the client does with one output integer v of the last layer: the score y of (L3) (with its
// activation), or output_quantizer.dequantize(v) when the last layer has an output quantizer.
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

// (L3) as one function, shared by every path that turns an accumulator into a float.
double dequantize_accumulator(int64_t rounded, int rounding_shift, double input_scale, double weight_scale, double bias,
                              Activation activation);

OutputDequantization output_dequantization(const QuantizedLayer& last_layer, size_t neuron);

}  // namespace fhenn::compiler
