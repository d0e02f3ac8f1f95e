// `fhenn experiment examples`: the reference's examples table (Iris MLP, digits CNN, Fashion-MNIST MLP and CNN)
// with fhenn's figures: each example trained, compiled, and run in the clear, simulated and encrypted.
#include <iostream>
#include <memory>
#include <sstream>

#include "command.hpp"
#include "examples.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/progress.hpp"
#include "output.hpp"
#include "plan_options.hpp"

namespace fhenn::cli {
namespace {

struct ExperimentExamplesCommand {
  std::vector<std::string> names;
  ExampleOverrides overrides;
  PlanFlags plan;
  std::string json;
};

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out.precision(digits);
  out << std::fixed << v;
  return out.str();
}

std::vector<std::string> table_row(const ExampleResult& r) {
  const EncryptedEvaluation& e = r.evaluation;
  return {r.name,
          percent(r.fp32_accuracy),
          percent(e.circuit_accuracy),
          percent(e.simulated_accuracy),
          percent(e.encrypted_accuracy) + " (" + std::to_string(e.encrypted_samples) + ")",
          percent(e.agreement_encrypted_vs_clear),
          std::to_string(e.lookups_per_sample),
          std::to_string(e.max_lookup_input_bits),
          e.parameter_set,
          fixed(e.seconds_per_sample, 3),
          fixed(e.keygen_seconds, 1),
          fixed(static_cast<double>(e.evaluation_key_bytes) / 1e6, 1),
          std::to_string(e.ciphertext_bytes_per_sample),
          fixed(r.training_seconds, 1)};
}

void run_experiment_examples(const ExperimentExamplesCommand& c) {
  std::vector<const Example*> chosen;
  if (c.names.empty()) {
    for (const Example& e : examples()) chosen.push_back(&e);
  } else {
    for (const std::string& name : c.names) chosen.push_back(&find_example(name));
  }
  ExampleOverrides overrides = c.overrides;
  overrides.plan = c.plan.options();
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  std::vector<ExampleResult> results;
  for (const Example* example : chosen) results.push_back(run_example(*example, overrides, text));

  std::vector<std::vector<std::string>> rows;
  for (const ExampleResult& r : results) rows.push_back(table_row(r));
  text << "\n"
       << markdown_table(
              {"example", "fp32", "circuit", "simulated", "encrypted (samples)", "same as clear", "lookups", "widest",
               "parameter set", "s / sample", "keygen s", "keys MB", "ct bytes / sample", "training s"},
              rows)
       << "\n(" << cpu_model() << "; seconds on " << results.front().evaluation.threads << " threads)\n\nreference:\n";
  for (const Example* example : chosen) text << "  " << example->name << ": " << example->reference << "\n";
  if (!c.json.empty()) {
    nlohmann::json rows_json = nlohmann::json::array();
    for (const ExampleResult& r : results) rows_json.push_back(r.to_json());
    write_json({{"cpu", cpu_model()}, {"examples", rows_json}}, c.json);
  }
}

void setup_experiment_examples(CLI::App& root) {
  auto& group = subcommand_group(root, "experiment", "Reproduce the reference's experiments");
  auto* cmd = group.add_subcommand("examples",
                                   "The reference's examples table: Iris MLP, digits CNN, Fashion-MNIST MLP and CNN "
                                   "trained, compiled and run encrypted");
  auto c = std::make_shared<ExperimentExamplesCommand>();
  cmd->add_option("--examples", c->names, "Only these examples, comma-separated (" + example_names() + ")")
      ->delimiter(',');
  cmd->add_option("--samples", c->overrides.encrypted_samples,
                  "Test samples run encrypted per example (default: the whole test split of Iris and digits, 1,000 "
                  "Fashion-MNIST images)");
  cmd->add_option("--epochs", c->overrides.epochs, "Training epochs of every example (default: each example's)");
  cmd->add_option("--train-limit", c->overrides.train_limit, "Train on the first N training samples (default: all)");
  cmd->add_option("--test-limit", c->overrides.test_limit,
                  "Measure on the first N test samples (default: all; Fashion-MNIST has 10,000)");
  cmd->add_option("--threads", c->overrides.threads, "Threads (default: FHENN_THREADS or all cores)");
  cmd->add_option("--seed", c->overrides.seed, "Seed of the simulated noise")->capture_default_str();
  c->plan.add_to(*cmd);
  cmd->add_option("--json", c->json, "Also write the table as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_experiment_examples(*c); });
}

FHENN_REGISTER_COMMAND("32-experiment-examples", setup_experiment_examples);

}  // namespace
}  // namespace fhenn::cli
