// Compiling fully connected networks through the model graph (PTQ, QAT import), the client, the quantized scores.
#include "fhenn/compiler/compile.hpp"

#include <algorithm>
#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/compiler/mlp_graph.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/ir/evaluate.hpp"

namespace fhenn::compiler {

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
  return compile_graph(Graph::build(mlp_graph(model)), calibration, graph_options(options));
}

CompiledModel compile_qat(const QatMlp& model, const Matrix& inputs_for_ranges) {
  const Graph graph = Graph::build(qat_mlp_graph(model));
  check_feature_rows(inputs_for_ranges, static_cast<size_t>(model.input_size), "input");
  CompiledModel compiled = compile_graph(graph, inputs_for_ranges, {});  // every quantizer given: nothing calibrated
  compiled.source = "qat";
  compiled.rounding_threshold_bits = model.rounding_threshold_bits;
  return compiled;
}

std::vector<double> fake_quantized_scores(const CompiledModel& compiled, std::span<const double> features) {
  const std::vector<int64_t> inputs = compiled.client.quantize(features);
  std::vector<int64_t> values(compiled.circuit.node_values_size());
  ir::evaluate_nodes(compiled.circuit, inputs, values);
  std::vector<int64_t> outputs(compiled.circuit.output_width());
  ir::gather_outputs(compiled.circuit, values, outputs);
  return compiled.client.dequantize(outputs);
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

ir::BitWidthReport measure_bit_widths(const CompiledModel& compiled, const Matrix& features) {
  const ir::Circuit& circuit = compiled.circuit;
  check_feature_rows(features, circuit.input_width(), "input");
  ir::SeenRanges seen(circuit);
  std::vector<int64_t> inputs(circuit.input_width());
  std::vector<int64_t> node_values(circuit.node_values_size());
  for (size_t row = 0; row < features.rows; ++row) {
    compiled.client.quantize_into(features.row(row), inputs);
    ir::evaluate_nodes(circuit, inputs, node_values);
    seen.observe(node_values);
  }
  return ir::bit_width_report(circuit, seen);
}

}  // namespace fhenn::compiler
