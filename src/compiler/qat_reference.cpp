// The integers a quantization-aware network computes, written out layer by layer (see qat_reference.hpp).
#include "fhenn/compiler/qat_reference.hpp"

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::compiler {

std::vector<int64_t> qat_weight_integers(const QatLayer& layer) {
  FHENN_CHECK(layer.weight_quantizer.has_value(), layer.layer.name, ".weight has no weight quantizer: use QuantLinear");
  const quant::UniformQuantizer& q = *layer.weight_quantizer;
  std::vector<int64_t> integers(layer.layer.weight.size());
  for (size_t k = 0; k < integers.size(); ++k) integers[k] = q.quantize(layer.layer.weight[k]);
  return integers;
}

std::vector<int64_t> qat_reference_layer(const QatLayer& layer, const quant::UniformQuantizer& input_quantizer,
                                         std::span<const int64_t> input_integers) {
  const DenseLayer& dense = layer.layer;
  FHENN_CHECK(input_integers.size() == static_cast<size_t>(dense.in_features), "layer ", dense.name, " takes ",
              dense.in_features, " inputs, got ", input_integers.size());
  const std::vector<int64_t> weights = qat_weight_integers(layer);
  std::vector<int64_t> out(static_cast<size_t>(dense.out_features));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t accumulator = 0;  // (L1)
    for (size_t j = 0; j < input_integers.size(); ++j) {
      accumulator += weights[i * input_integers.size() + j] * (input_integers[j] - input_quantizer.zero_point);
    }
    const int64_t rounded = quant::round_msbs(accumulator, layer.rounding_shift);  // (L2)
    if (!layer.output_quantizer) {
      out[i] = rounded;  // (L5)
      continue;
    }
    const double y = dequantize_accumulator(rounded, layer.rounding_shift, input_quantizer.scale,
                                            layer.weight_quantizer->scale, dense.bias.empty() ? 0.0 : dense.bias[i],
                                            dense.activation);  // (L3)
    out[i] = layer.output_quantizer->quantize(y);               // (L4)
  }
  return out;
}

std::vector<int64_t> qat_reference_forward(const QatMlp& model, std::span<const double> features) {
  validate_model(model);
  FHENN_CHECK(model.input_quantizer.has_value(),
              "the model input is not quantized: add a QuantIdentity before the first layer");
  FHENN_CHECK(features.size() == static_cast<size_t>(model.input_size), "the model takes ", model.input_size,
              " features, got ", features.size());
  std::vector<int64_t> current(features.size());
  for (size_t j = 0; j < features.size(); ++j) current[j] = model.input_quantizer->quantize(features[j]);
  const quant::UniformQuantizer* input_quantizer = &*model.input_quantizer;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const QatLayer& layer = model.layers[l];
    FHENN_CHECK(layer.output_quantizer || l + 1 == model.layers.size(), "the output of ", layer.layer.name,
                " is not quantized: add a QuantReLU/QuantIdentity after it");
    current = qat_reference_layer(layer, *input_quantizer, current);
    if (layer.output_quantizer) input_quantizer = &*layer.output_quantizer;
  }
  return current;
}

}  // namespace fhenn::compiler
