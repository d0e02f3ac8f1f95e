// The integer model (see quantized_model.hpp).
#include "fhenn/compiler/quantized_model.hpp"

#include <algorithm>

#include "fhenn/common/assert.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::compiler {

double dequantize_accumulator(int64_t rounded, int rounding_shift, double input_scale, double weight_scale, double bias,
                              Activation activation) {
  const int64_t accumulator = rounded * (int64_t{1} << rounding_shift);
  const double y = static_cast<double>(accumulator) * input_scale * weight_scale + bias;
  return activation == Activation::relu ? std::max(y, 0.0) : y;
}

int64_t QuantizedLayer::accumulator(size_t i, std::span<const int64_t> inputs) const {
  FHENN_ASSERT_EQ(inputs.size(), static_cast<size_t>(in_features));
  const int64_t* row = weights.data() + i * static_cast<size_t>(in_features);
  int64_t acc = 0;
  for (size_t j = 0; j < inputs.size(); ++j) acc += row[j] * (inputs[j] - input_quantizer.zero_point);
  return acc;
}

double QuantizedLayer::dequantized_output(size_t i, int64_t rounded) const {
  return dequantize_accumulator(rounded, rounding_shift, input_quantizer.scale, weight_quantizer.scale, bias[i],
                                activation);
}

int64_t QuantizedLayer::output_integer(size_t i, int64_t rounded) const {
  return output_quantizer ? output_quantizer->quantize(dequantized_output(i, rounded)) : rounded;
}

void QuantizedLayer::evaluate(std::span<const int64_t> inputs, std::span<int64_t> outputs) const {
  FHENN_ASSERT_EQ(outputs.size(), static_cast<size_t>(out_features));
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i] = output_integer(i, quant::round_msbs(accumulator(i, inputs), rounding_shift));
  }
}

std::vector<int64_t> QuantizedMlp::output_integers(std::span<const int64_t> inputs) const {
  std::vector<int64_t> current(inputs.begin(), inputs.end());
  std::vector<int64_t> next;
  for (const QuantizedLayer& layer : layers) {
    next.assign(static_cast<size_t>(layer.out_features), 0);
    layer.evaluate(current, next);
    current.swap(next);
  }
  return current;
}

double OutputDequantization::score(int64_t v) const {
  if (quantizer) return quantizer->dequantize(v);
  return dequantize_accumulator(v, rounding_shift, input_scale, weight_scale, bias, activation);
}

OutputDequantization output_dequantization(const QuantizedLayer& last_layer, size_t neuron) {
  return OutputDequantization{last_layer.input_quantizer.scale,
                              last_layer.weight_quantizer.scale,
                              last_layer.bias[neuron],
                              last_layer.rounding_shift,
                              last_layer.activation,
                              last_layer.output_quantizer};
}

}  // namespace fhenn::compiler
