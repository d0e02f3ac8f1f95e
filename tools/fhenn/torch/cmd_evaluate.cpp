// `fhenn evaluate`: accuracy of the float model, of the quantized model (fake quantization) and of the circuit, and
// with --encrypted, of the simulated and the encrypted circuit.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "demo_pipeline.hpp"
#include "encrypted_evaluation.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/mlp.hpp"
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

// The float model's accuracy (float32 as trained; a model graph's float reference, in double); none for a QAT
// model, whose quantized model is the model.
std::optional<double> float_accuracy(const AnyModel& model, const nn::LabelledSet& set) {
  if (const auto* graph = std::get_if<compiler::ModelGraph>(&model)) {
    const compiler::Graph built = compiler::Graph::build(*graph);
    const size_t output = built.tensor_index(built.outputs().front());
    size_t correct = 0;
    for (size_t r = 0; r < set.size(); ++r) {
      correct += compiler::predicted_class(built.evaluate(set.features.row(r))[output].values) == set.labels[r];
    }
    return static_cast<double>(correct) / static_cast<double>(set.size());
  }
  const auto* float_model = std::get_if<compiler::FloatMlp>(&model);
  if (float_model == nullptr) return std::nullopt;
  return nn::accuracy(nn::forward_of(nn::import_float_mlp(*float_model)), set);
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// The simulated accuracy on the whole test set and the encrypted one on its first `c.encrypted` samples, printed
// and as JSON fields.
nlohmann::json evaluate_encrypted(const EvaluateCommand& c, const compiler::CompiledModel& compiled,
                                  const nn::Dataset& data, std::vector<std::vector<std::string>>& rows,
                                  std::ostream& text) {
  const int threads = c.threads > 0 ? c.threads : default_thread_count();
  const size_t samples = std::min(c.encrypted, data.test.size());
  const deploy::Deployment deployment = plan_demo_deployment(compiled, data.train.features, c.plan.options());
  const auto& plan = deployment.server.plan;
  auto rng = tfhe::Csprng::from_os();
  const ClientKeys keys = generate_client_keys(deployment, rng, threads);
  const nn::LabelledSet encrypted_set = head(data.test, samples);
  const EncryptedRun encrypted = run_encrypted(deployment, keys, encrypted_set, rng, threads);
  const auto [clear, simulated] = clear_and_simulated_classes(compiled, deployment, data.test, c.seed, threads);
  const double simulated_accuracy = accuracy_of(simulated, data.test.labels);
  const double encrypted_accuracy = accuracy_of(encrypted.classes, encrypted_set.labels);
  const double encrypted_vs_clear = agreement(encrypted.classes, clear, samples);
  rows.push_back({"simulated (noise model)", percent(simulated_accuracy)});
  rows.push_back({"encrypted (TFHE, first " + std::to_string(samples) + ")",
                  percent(encrypted_accuracy) + " (" + percent(encrypted_vs_clear) + " same class as in the clear)"});
  text << "encrypted: " << ProgressBar::format_duration(encrypted.seconds_per_sample) << " per sample on " << threads
       << " threads (" << plan.bootstraps_per_sample << " bootstraps each, widest lookup " << plan.max_index_bits
       << " bits, parameter set " << plan.params.name << "), key generation "
       << ProgressBar::format_duration(keys.seconds) << ", evaluation keys " << keys.evaluation_bytes.size() / 1e6
       << " MB, " << encrypted.ciphertext_bytes_per_sample / 1e3 << " kB of ciphertext per sample\n";
  return {{"simulated_accuracy", simulated_accuracy},
          {"encrypted_accuracy", encrypted_accuracy},
          {"encrypted_samples", samples},
          {"agreement_encrypted_vs_clear", encrypted_vs_clear},
          {"lookups_per_sample", plan.bootstraps_per_sample},
          {"max_lookup_input_bits", plan.max_index_bits},
          {"parameter_set", plan.params.name},
          {"seconds_per_sample", encrypted.seconds_per_sample},
          {"threads", threads},
          {"keygen_seconds", keys.seconds},
          {"evaluation_key_bytes", keys.evaluation_bytes.size()},
          {"ciphertext_bytes_per_sample", encrypted.ciphertext_bytes_per_sample}};
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
  std::vector<std::vector<std::string>> rows = {{"float (fp32)", fp32 ? percent(*fp32) : "n/a (QAT model)"},
                                                {"quantized (fake quantization)", percent(quantized)},
                                                {"circuit in the clear", percent(circuit)}};
  nlohmann::json encrypted;
  if (c.encrypted > 0) encrypted = evaluate_encrypted(c, compiled, data, rows, text);
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
