// `fhenn evaluate`: accuracy of the float model, of the quantized model (fake quantization) and of the circuit.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/mlp.hpp"
#include "output.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

struct EvaluateCommand {
  std::string model;
  std::string compiled;
  DataOptions data;
  BitsOptions bits;
  std::string json;
};

// The float model's accuracy (float32, as trained); none for a QAT model, whose quantized model is the model.
std::optional<double> float_accuracy(const AnyModel& model, const nn::LabelledSet& set) {
  const auto* float_model = std::get_if<compiler::FloatMlp>(&model);
  if (float_model == nullptr) return std::nullopt;
  return nn::accuracy(nn::forward_of(nn::import_float_mlp(*float_model)), set);
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

void run_evaluate(const EvaluateCommand& c) {
  const AnyModel model = compiler::load_model(c.model);
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  const auto compiled = c.compiled.empty() ? compile_model(model, data, c.bits) : compiler::load_compiled(c.compiled);
  if (!c.compiled.empty()) check_compiled_fits_data(compiled, data, c.compiled);

  const auto fp32 = float_accuracy(model, data.test);
  const double quantized = quantized_accuracy(compiled, data.test);
  const double circuit = circuit_accuracy(compiled, data.test, default_thread_count());
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "accuracy on the " << data.test.size() << " test samples\n"
       << markdown_table({"model", "accuracy"}, {{"float (fp32)", fp32 ? percent(*fp32) : "n/a (QAT model)"},
                                                 {"quantized (fake quantization)", percent(quantized)},
                                                 {"circuit in the clear", percent(circuit)}})
       << "accumulator size " << compiled.report.accumulator_bits << " bits ("
       << (c.compiled.empty() ? "compiled now" : c.compiled) << ", " << compiled.source << ")\n";
  if (!c.json.empty()) {
    write_json({{"model", c.model},
                {"compiled", c.compiled.empty() ? nlohmann::json() : nlohmann::json(c.compiled)},
                {"data", c.data.to_json()},
                {"test_samples", data.test.size()},
                {"fp32_accuracy", optional_json(fp32)},
                {"quantized_accuracy", quantized},
                {"circuit_accuracy", circuit},
                {"accumulator_bits", compiled.report.accumulator_bits}},
               c.json);
  }
}

void setup_evaluate(CLI::App& root) {
  auto* cmd = root.add_subcommand("evaluate",
                                  "Accuracy of the float model, the quantized model and the circuit "
                                  "run on integers in the clear");
  auto c = std::make_shared<EvaluateCommand>();
  cmd->add_option("--model", c->model, "The trained model (fhenn train)")->required();
  cmd->add_option("--compiled", c->compiled, "The compiled model (fhenn compile); default: compile it now");
  c->data.add_to(*cmd);
  c->bits.add_to(*cmd);
  cmd->add_option("--json", c->json, "Also write the accuracies as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_evaluate(*c); });
}

FHENN_REGISTER_COMMAND("12-evaluate", setup_evaluate);

}  // namespace
}  // namespace fhenn::cli
