// Importing a quantization-aware trained network: its quantizers as they are (see qat_reference.hpp).
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/compiler/qat_reference.hpp"

namespace fhenn::compiler {
namespace {

const quant::UniformQuantizer& required_input_quantizer(const QatMlp& model) {
  FHENN_CHECK(model.input_quantizer.has_value(),
              "the model input is not quantized: add a QuantIdentity before the first layer");
  return *model.input_quantizer;
}

const quant::UniformQuantizer& required_weight_quantizer(const QatLayer& layer) {
  FHENN_CHECK(layer.weight_quantizer.has_value(), layer.layer.name, ".weight has no weight quantizer: use QuantLinear");
  FHENN_CHECK(layer.weight_quantizer->zero_point == 0, layer.layer.name,
              ".weight: the weight quantizer has zero point ", layer.weight_quantizer->zero_point,
              "; weights must be quantized symmetrically (zero point 0)");
  return *layer.weight_quantizer;
}

void require_hidden_output_quantizer(const QatLayer& layer) {
  FHENN_CHECK(layer.output_quantizer.has_value(), "the output of ", layer.layer.name,
              " is not quantized: add a QuantReLU/QuantIdentity after it");
}

QuantizedLayer quantized_layer(const QatLayer& qat, const quant::UniformQuantizer& input_quantizer) {
  const DenseLayer& dense = qat.layer;
  QuantizedLayer layer;
  layer.name = dense.name;
  layer.in_features = dense.in_features;
  layer.out_features = dense.out_features;
  layer.weights = qat_weight_integers(qat);
  layer.input_quantizer = input_quantizer;
  layer.weight_quantizer = *qat.weight_quantizer;
  layer.bias = dense.bias.empty() ? std::vector<double>(static_cast<size_t>(dense.out_features), 0.0) : dense.bias;
  layer.activation = dense.activation;
  layer.rounding_shift = qat.rounding_shift;
  layer.output_quantizer = qat.output_quantizer;
  return layer;
}

}  // namespace

std::vector<int64_t> qat_weight_integers(const QatLayer& layer) {
  const quant::UniformQuantizer& q = required_weight_quantizer(layer);
  std::vector<int64_t> integers(layer.layer.weight.size());
  for (size_t k = 0; k < integers.size(); ++k) integers[k] = q.quantize(layer.layer.weight[k]);
  return integers;
}

QuantizedMlp quantize_qat_model(const QatMlp& model) {
  validate_model(model);
  const quant::UniformQuantizer* input_quantizer = &required_input_quantizer(model);
  QuantizedMlp quantized{model.input_size, {}};
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const QatLayer& layer = model.layers[l];
    required_weight_quantizer(layer);
    if (l + 1 < model.layers.size()) require_hidden_output_quantizer(layer);
    quantized.layers.push_back(quantized_layer(layer, *input_quantizer));
    if (layer.output_quantizer) input_quantizer = &*layer.output_quantizer;
  }
  return quantized;
}

std::vector<int64_t> qat_reference_layer(const QatLayer& layer, const quant::UniformQuantizer& input_quantizer,
                                         std::span<const int64_t> input_integers) {
  FHENN_CHECK(input_integers.size() == static_cast<size_t>(layer.layer.in_features), "layer ", layer.layer.name,
              " takes ", layer.layer.in_features, " inputs, got ", input_integers.size());
  required_weight_quantizer(layer);
  const QuantizedLayer quantized = quantized_layer(layer, input_quantizer);
  std::vector<int64_t> out(static_cast<size_t>(layer.layer.out_features));
  quantized.evaluate(input_integers, out);
  return out;
}

std::vector<int64_t> qat_reference_forward(const QatMlp& model, std::span<const double> features) {
  const QuantizedMlp quantized = quantize_qat_model(model);
  FHENN_CHECK(features.size() == static_cast<size_t>(model.input_size), "the model takes ", model.input_size,
              " features, got ", features.size());
  std::vector<int64_t> inputs(features.size());
  for (size_t j = 0; j < features.size(); ++j) inputs[j] = model.input_quantizer->quantize(features[j]);
  return quantized.output_integers(inputs);
}

}  // namespace fhenn::compiler
