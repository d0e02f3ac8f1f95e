// Compiling trained networks to circuits: PTQ calibration, QAT import, the client, fake quantization.
#include "fhenn/compiler/compile.hpp"

#include <algorithm>
#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/compiler/qat_reference.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::compiler {
namespace {

// The float model's forward pass in double, one sample, recording each hidden layer's outputs.
struct Calibration {
  quant::TensorStatistics input;
  std::vector<quant::TensorStatistics> hidden_outputs;  // one per layer but the last
};

void apply_layer(const DenseLayer& layer, std::span<const double> in, std::vector<double>& out) {
  out.assign(static_cast<size_t>(layer.out_features), 0.0);
  for (size_t i = 0; i < out.size(); ++i) {
    double y = layer.bias.empty() ? 0.0 : layer.bias[i];
    for (size_t j = 0; j < in.size(); ++j) y += layer.weight[i * in.size() + j] * in[j];
    out[i] = layer.activation == Activation::relu ? std::max(y, 0.0) : y;
  }
}

Calibration calibrate(const FloatMlp& model, const Matrix& calibration) {
  Calibration stats;
  stats.input.observe(calibration.values);
  stats.hidden_outputs.resize(model.layers.size() - 1);
  std::vector<double> current;
  std::vector<double> next;
  for (size_t row = 0; row < calibration.rows; ++row) {
    const auto features = calibration.row(row);
    current.assign(features.begin(), features.end());
    for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
      apply_layer(model.layers[l], current, next);
      stats.hidden_outputs[l].observe(next);
      current.swap(next);
    }
  }
  return stats;
}

// The worst-case accumulator range of (L1) over all neurons, inputs anywhere in the input quantizer's range.
ir::Range accumulator_bound(const QuantizedLayer& layer) {
  const int64_t low_input = layer.input_quantizer.qmin() - layer.input_quantizer.zero_point;
  const int64_t high_input = layer.input_quantizer.qmax() - layer.input_quantizer.zero_point;
  ir::Range hull{0, 0};
  for (int i = 0; i < layer.out_features; ++i) {
    ir::Range acc{0, 0};
    for (int j = 0; j < layer.in_features; ++j) {
      const int64_t w = layer.weights[static_cast<size_t>(i) * layer.in_features + j];
      acc.min += std::min(w * low_input, w * high_input);
      acc.max += std::max(w * low_input, w * high_input);
    }
    hull = hull.hull(acc);
  }
  return hull;
}

QuantizedLayer ptq_layer(const DenseLayer& dense, const quant::UniformQuantizer& input_quantizer, int weight_bits) {
  QuantizedLayer layer;
  layer.name = dense.name;
  layer.in_features = dense.in_features;
  layer.out_features = dense.out_features;
  layer.input_quantizer = input_quantizer;
  layer.weight_quantizer = quant::symmetric_quantizer(quant::TensorStatistics::of(dense.weight), weight_bits);
  layer.weights.resize(dense.weight.size());
  for (size_t k = 0; k < dense.weight.size(); ++k) layer.weights[k] = layer.weight_quantizer.quantize(dense.weight[k]);
  layer.bias = dense.bias.empty() ? std::vector<double>(static_cast<size_t>(dense.out_features), 0.0) : dense.bias;
  layer.activation = dense.activation;
  return layer;
}

QuantizedMlp quantize_ptq(const FloatMlp& model, const Calibration& stats, const PtqOptions& options) {
  QuantizedMlp quantized{model.input_size, {}};
  quant::UniformQuantizer input_quantizer = quant::asymmetric_quantizer(stats.input, options.n_bits.model_inputs);
  for (size_t l = 0; l < model.layers.size(); ++l) {
    QuantizedLayer layer = ptq_layer(model.layers[l], input_quantizer, options.n_bits.op_weights);
    if (l + 1 < model.layers.size()) {
      input_quantizer = quant::asymmetric_quantizer(stats.hidden_outputs[l], options.n_bits.op_inputs);
      layer.output_quantizer = input_quantizer;
      if (options.rounding_threshold_bits) {
        const ir::Range bound = accumulator_bound(layer);
        layer.rounding_shift = quant::rounding_shift_for_range(bound.min, bound.max, *options.rounding_threshold_bits);
      }
    }
    quantized.layers.push_back(std::move(layer));
  }
  return quantized;
}

ClientQuantization client_of(const QuantizedMlp& model) {
  ClientQuantization client;
  client.inputs.assign(static_cast<size_t>(model.input_size), model.layers.front().input_quantizer);
  const QuantizedLayer& last = model.layers.back();
  for (int i = 0; i < last.out_features; ++i) client.outputs.push_back(output_dequantization(last, i));
  return client;
}

CompiledModel finish(QuantizedMlp quantized, const Matrix& features, std::string source,
                     std::optional<int> rounding_threshold_bits) {
  CompiledModel compiled{lower_to_circuit(quantized), client_of(quantized),   std::move(quantized), {},
                         std::move(source),           rounding_threshold_bits};
  compiled.report = measure_bit_widths(compiled, features);
  return compiled;
}

}  // namespace

std::vector<int64_t> ClientQuantization::quantize(std::span<const double> features) const {
  std::vector<int64_t> out(inputs.size());
  quantize_into(features, out);
  return out;
}

void ClientQuantization::quantize_into(std::span<const double> features, std::span<int64_t> out) const {
  FHENN_CHECK(features.size() == inputs.size(), "the model takes ", inputs.size(), " features, got ", features.size());
  FHENN_ASSERT_EQ(out.size(), inputs.size());
  for (size_t j = 0; j < features.size(); ++j) {
    FHENN_CHECK(std::isfinite(features[j]), "feature ", j, " is ", features[j], ": features must be finite");
    out[j] = inputs[j].quantize(features[j]);
  }
}

std::vector<int64_t> ClientQuantization::quantize_rows(const Matrix& features) const {
  std::vector<int64_t> out(features.rows * inputs.size());
  for (size_t row = 0; row < features.rows; ++row) {
    quantize_into(features.row(row), std::span<int64_t>(out).subspan(row * inputs.size(), inputs.size()));
  }
  return out;
}

std::vector<double> ClientQuantization::dequantize(std::span<const int64_t> values) const {
  FHENN_CHECK(values.size() == outputs.size(), "the model has ", outputs.size(), " outputs, got ", values.size());
  std::vector<double> scores(values.size());
  for (size_t i = 0; i < values.size(); ++i) scores[i] = outputs[i].score(values[i]);
  return scores;
}

CompiledModel compile_ptq(const FloatMlp& model, const Matrix& calibration, const PtqOptions& options) {
  validate_model(model);
  quant::validate(options.n_bits);
  if (options.rounding_threshold_bits) {
    FHENN_CHECK(*options.rounding_threshold_bits >= 1 && *options.rounding_threshold_bits <= 40,
                "rounding_threshold_bits is ", *options.rounding_threshold_bits, ": must be 1..40");
  }
  check_feature_rows(calibration, static_cast<size_t>(model.input_size), "calibration");
  const Calibration stats = calibrate(model, calibration);
  return finish(quantize_ptq(model, stats, options), calibration, "ptq", options.rounding_threshold_bits);
}

CompiledModel compile_qat(const QatMlp& model, const Matrix& inputs_for_ranges) {
  QuantizedMlp quantized = quantize_qat_model(model);
  check_feature_rows(inputs_for_ranges, static_cast<size_t>(model.input_size), "input");
  return finish(std::move(quantized), inputs_for_ranges, "qat", model.rounding_threshold_bits);
}

std::vector<double> fake_quantized_scores(const CompiledModel& compiled, std::span<const double> features) {
  const std::vector<int64_t> inputs = compiled.client.quantize(features);
  const std::vector<int64_t> outputs = compiled.quantized.output_integers(inputs);
  const QuantizedLayer& last = compiled.quantized.layers.back();
  std::vector<double> scores(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    scores[i] =
        last.output_quantizer ? last.output_quantizer->dequantize(outputs[i]) : last.dequantized_output(i, outputs[i]);
  }
  return scores;
}

int predicted_class(std::span<const double> scores) {
  FHENN_CHECK(!scores.empty(), "no scores to classify");
  return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

void check_feature_rows(const Matrix& features, size_t width, const char* role) {
  FHENN_CHECK(features.rows >= 1, "the ", role, " set is empty: give at least one sample");
  FHENN_CHECK(features.cols == width, "the ", role, " set has ", features.cols,
              " features per sample; the model takes ", width);
  for (size_t k = 0; k < features.values.size(); ++k) {
    FHENN_CHECK(std::isfinite(features.values[k]), "the ", role, " set has a non-finite value at row ",
                k / features.cols, ", column ", k % features.cols);
  }
}

ir::BitWidthReport measure_client_bit_widths(const ir::Circuit& circuit, const ClientQuantization& client,
                                             const Matrix& features) {
  check_feature_rows(features, circuit.input_width(), "input");
  ir::SeenRanges seen(circuit);
  std::vector<int64_t> inputs(circuit.input_width());
  std::vector<int64_t> node_values(circuit.node_values_size());
  for (size_t row = 0; row < features.rows; ++row) {
    client.quantize_into(features.row(row), inputs);
    ir::evaluate_nodes(circuit, inputs, node_values);
    seen.observe(node_values);
  }
  return ir::bit_width_report(circuit, seen);
}

ir::BitWidthReport measure_bit_widths(const CompiledModel& compiled, const Matrix& features) {
  return measure_client_bit_widths(compiled.circuit, compiled.client, features);
}

}  // namespace fhenn::compiler
