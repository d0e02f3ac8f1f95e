// `fhenn evaluate`: accuracy of the float model, of the quantized model (fake quantization) and of the circuit, and
// with --encrypted, of the simulated and the encrypted circuit.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "encrypted_evaluation.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "output.hpp"
#include "plan_options.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

struct EvaluateCommand {
  std::string model;
  std::string compiled;
  DataOptions data;
  BitsOptions bits;
  size_t encrypted = 0;
  int threads = 0;
  uint64_t seed = 0;
  PlanFlags plan;
  std::string json;
};

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// The simulated accuracy on the whole test set and the encrypted one on its first `c.encrypted` samples, printed
// and as JSON fields.
nlohmann::json encrypted_rows(const EvaluateCommand& c, const compiler::CompiledModel& compiled,
                              const nn::Dataset& data, std::vector<std::vector<std::string>>& rows,
                              std::ostream& text) {
  const int threads = c.threads > 0 ? c.threads : default_thread_count();
  const EncryptedEvaluation e = evaluate_encrypted(compiled, data, c.encrypted, c.plan.options(), threads, c.seed);
  rows.push_back({"simulated (noise model)", percent(e.simulated_accuracy)});
  rows.push_back({"encrypted (TFHE, first " + std::to_string(e.encrypted_samples) + ")",
                  percent(e.encrypted_accuracy) + " (" + percent(e.agreement_encrypted_vs_clear) +
                      " same class as in the clear)"});
  text << e.summary() << "\n";
  return e.to_json();
}

void run_evaluate(const EvaluateCommand& c) {
  const AnyModel model = compiler::load_model(c.model);
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  const auto compiled =
      c.compiled.empty() ? compile_model(model, data, c.bits, c.plan.options()) : compiler::load_compiled(c.compiled);
  if (!c.compiled.empty()) check_compiled_fits_data(compiled, data, c.compiled);

  const auto fp32 = float_accuracy(model, data.test);
  const double quantized = quantized_accuracy(compiled, data.test);
  const double circuit = circuit_accuracy(compiled, data.test, default_thread_count());
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  std::vector<std::vector<std::string>> rows = {{"float (fp32)", fp32 ? percent(*fp32) : "n/a (QAT model)"},
                                                {"quantized (fake quantization)", percent(quantized)},
                                                {"circuit in the clear", percent(circuit)}};
  if (compiled.auto_rounding) text << auto_rounding_summary(*compiled.auto_rounding);
  nlohmann::json encrypted;
  if (c.encrypted > 0) encrypted = encrypted_rows(c, compiled, data, rows, text);
  text << "accuracy on the " << data.test.size() << " test samples\n"
       << markdown_table({"model", "accuracy"}, rows) << "accumulator size " << compiled.report.accumulator_bits
       << " bits (" << (c.compiled.empty() ? "compiled now" : c.compiled) << ", " << compiled.source << ")\n";
  if (!c.json.empty()) {
    nlohmann::json j{{"model", c.model},
                     {"compiled", c.compiled.empty() ? nlohmann::json() : nlohmann::json(c.compiled)},
                     {"data", c.data.to_json()},
                     {"test_samples", data.test.size()},
                     {"fp32_accuracy", optional_json(fp32)},
                     {"quantized_accuracy", quantized},
                     {"circuit_accuracy", circuit},
                     {"accumulator_bits", compiled.report.accumulator_bits}};
    if (c.encrypted > 0) j.update(encrypted);
    if (compiled.auto_rounding) j["auto_rounding"] = auto_rounding_json(*compiled.auto_rounding);
    write_json(j, c.json);
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
  cmd->add_option("--encrypted", c->encrypted,
                  "Also predict the first N test samples encrypted (keys, ciphertexts and server as in a deployment) "
                  "and every test sample simulated with the encryption's noise");
  cmd->add_option("--threads", c->threads, "--encrypted: threads (default: FHENN_THREADS or all cores)");
  cmd->add_option("--seed", c->seed, "--encrypted: seed of the simulated noise")->capture_default_str();
  c->plan.add_to(*cmd);
  cmd->add_option("--json", c->json, "Also write the accuracies as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_evaluate(*c); });
}

FHENN_REGISTER_COMMAND("12-evaluate", setup_evaluate);

}  // namespace
}  // namespace fhenn::cli
