// `fhenn demo`: the guide's QAT network end to end, from data to encrypted predictions, in one table.
#include <chrono>
#include <iostream>

#include "command.hpp"
#include "demo_pipeline.hpp"
#include "encrypted_evaluation.hpp"
#include "examples.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/ir/bit_widths.hpp"
#include "fhenn/nn/mlp.hpp"
#include "output.hpp"
#include "plan_options.hpp"

namespace fhenn::cli {
namespace {

struct DemoArgs {
  std::string example;  // empty: the checkerboard
  size_t samples = 40;
  uint64_t seed = 2;  // a split whose test points the board's rule classifies at >= 95% (seed 1: 93.6%)
  int epochs = 0;
  int threads = 0;
  bool rounding = false;
  std::string json;
  PlanFlags plan;
};

double float_baseline_accuracy(const nn::Dataset& data, uint64_t seed, int epochs) {
  nn::MlpTrainOptions options;
  options.train.seed = seed;
  options.train.label = "float baseline";
  if (epochs > 0) options.train.epochs = epochs;
  const auto trained = nn::train_mlp(nn::MlpShape::simple_net(100), data.train, options);
  return nn::accuracy(nn::forward_of(trained.model), data.test);
}

// --example NAME: one of the reference's examples (examples.hpp) end to end.
void run_example_demo(const DemoArgs& a) {
  const Example& example = find_example(a.example);
  std::cout << "fhenn demo --example " << example.name << ": " << example.description << " on " << example.data.source
            << ", from training to encrypted predictions\n\n";
  ExampleOverrides overrides;
  overrides.encrypted_samples = a.samples;
  overrides.epochs = a.epochs;
  overrides.threads = a.threads;
  overrides.seed = a.seed;
  overrides.plan = a.plan.options();
  const ExampleResult r = run_example(example, overrides, std::cout);
  const EncryptedEvaluation& e = r.evaluation;
  const auto row = [](const std::string& what, size_t n, double acc, const std::string& agree) {
    return std::vector<std::string>{what, std::to_string(n), percent(acc), agree};
  };
  std::cout << "\n"
            << markdown_table({"predictions", "test samples", "accuracy", "same class as the clear circuit"},
                              {row("float model (fp32)", r.test_samples, r.fp32_accuracy, "-"),
                               row("circuit in the clear", r.test_samples, e.circuit_accuracy, "100.00%"),
                               row("simulated (noise model)", r.test_samples, e.simulated_accuracy, "-"),
                               row("encrypted (TFHE)", e.encrypted_samples, e.encrypted_accuracy,
                                   percent(e.agreement_encrypted_vs_clear))})
            << "\n"
            << e.summary() << "\nreference (Concrete ML): " << example.reference << "\n";
  if (!a.json.empty()) write_json(r.to_json(), a.json);
}

void run_demo(const DemoArgs& a) {
  if (!a.example.empty()) {
    run_example_demo(a);
    return;
  }
  const int threads = a.threads > 0 ? a.threads : default_thread_count();
  std::cout << "fhenn demo: the checkerboard workflow from data to encrypted predictions\n\n";

  std::cout << "[1/6] data: checkerboard 100 x 100 grid, noise 0.01, seed " << a.seed << "\n";
  const nn::Dataset data = nn::make_checkerboard(a.seed);
  const size_t samples = std::min(a.samples, data.test.size());
  FHENN_CHECK(samples >= 1, "--samples must be at least 1");
  const double ceiling = nn::checkerboard_rule_accuracy(data.test);
  std::cout << "      " << data.train.size() << " training and " << data.test.size() << " test points; the board's own "
            << "rule scores " << percent(ceiling) << " on the noisy test points (no model can do better)\n";

  std::cout << "[2/6] float baseline: SimpleNet(100), AdamW, batch 1\n";
  const double fp32_accuracy = float_baseline_accuracy(data, a.seed, a.epochs);
  std::cout << "      fp32 test accuracy " << percent(fp32_accuracy) << "\n";

  std::cout << "[3/6] quantization-aware training and compilation\n";
  const DemoModel model = build_demo_model(data, {a.seed, a.epochs, a.rounding, a.plan.options()});
  const auto& net = model.options.net;
  const auto& report = model.compiled.report;
  const auto bits_or = [](int bits, int fallback) { return std::to_string(bits > 0 ? bits : fallback); };
  std::cout << "      " << net.hidden_sizes.size() << " hidden layers of " << net.hidden_sizes.front()
            << "; bits: " << bits_or(net.weight_bits, net.bits) << " weights, " << net.bits << " activations, "
            << bits_or(net.input_bits, net.bits) << " inputs; "
            << (model.options.max_non_zero > 0 ? "at most " + std::to_string(model.trained.max_non_zero_per_neuron) +
                                                     " non-zero weights per neuron"
                                               : std::string("not pruned"))
            << "; "
            << (net.rounding_threshold_bits ? "rounding to " + std::to_string(*net.rounding_threshold_bits) + " bits"
                                            : std::string("no rounding"))
            << "; trained in " << ProgressBar::format_duration(model.training_seconds) << "\n"
            << "      accumulator size " << report.accumulator_bits << " bits (worst case "
            << report.worst_case_accumulator_bits << "), lookups read at most "
            << report.worst_case_max_lookup_index_bits << " bits\n";

  const auto& plan = model.deployment.server.plan;
  std::cout << "[4/6] engine plan: " << runtime::describe_plan(model.compiled.circuit, plan);

  std::cout << "[5/6] key generation (client)\n";
  auto rng = tfhe::Csprng::from_os();
  const ClientKeys keys = generate_client_keys(model.deployment, rng, threads);
  const double keygen_seconds = keys.seconds;
  const auto& evaluation_bytes = keys.evaluation_bytes;
  std::cout << "      " << ProgressBar::format_duration(keygen_seconds) << ", evaluation keys "
            << evaluation_bytes.size() / 1e6 << " MB (seed-compressed), sent to the server\n";

  std::cout << "[6/6] encrypted inference on " << samples << " test points (server, " << threads << " threads)\n";
  const nn::LabelledSet encrypted_set = head(data.test, samples);
  const EncryptedRun encrypted = run_encrypted(model.deployment, keys, encrypted_set, rng, threads);

  // The same test points in the clear, simulated, and through the trained network itself.
  const auto [clear, simulated] =
      clear_and_simulated_classes(model.compiled, model.deployment, data.test, a.seed, threads);
  const auto trained = model.trained.net.predict(data.test.features, &data.test.labels);

  const double circuit_accuracy = accuracy_of(clear, data.test.labels);
  const double simulated_accuracy = accuracy_of(simulated, data.test.labels);
  const double encrypted_accuracy = accuracy_of(encrypted.classes, encrypted_set.labels);
  const double encrypted_vs_clear = agreement(encrypted.classes, clear, samples);
  std::vector<int> trained_classes(trained.classes.begin(), trained.classes.end());
  const double seconds_per_sample = encrypted.seconds_per_sample;
  const size_t ciphertext_bytes = encrypted.ciphertext_bytes_per_sample;

  const auto row = [&](const std::string& what, size_t n, double acc, std::optional<double> agree) {
    return std::vector<std::string>{what, std::to_string(n), percent(acc), agree ? percent(*agree) : "-"};
  };
  std::cout << "\n"
            << markdown_table({"predictions", "test points", "accuracy", "same class as the clear circuit"},
                              {row("float model (fp32)", data.test.size(), fp32_accuracy, std::nullopt),
                               row("trained QAT network", data.test.size(), trained.accuracy,
                                   agreement(trained_classes, clear, data.test.size())),
                               row("circuit in the clear", data.test.size(), circuit_accuracy, 1.0),
                               row("simulated (noise model)", data.test.size(), simulated_accuracy,
                                   agreement(simulated, clear, data.test.size())),
                               row("encrypted (TFHE)", samples, encrypted_accuracy, encrypted_vs_clear)})
            << "\nencrypted: " << ProgressBar::format_duration(seconds_per_sample) << " per sample on " << threads
            << " threads (" << plan.bootstraps_per_sample << " bootstraps each, parameter set " << plan.params.name
            << "), key generation " << ProgressBar::format_duration(keygen_seconds) << ", evaluation keys "
            << evaluation_bytes.size() / 1e6 << " MB, " << ciphertext_bytes / 1e3 << " kB of ciphertext per sample\n"
            << "reference (Concrete ML, the guide's 100 hidden pruned to 20, 3 bits): 92.4% compiled accuracy, 10.23 s "
               "per sample, 10.10 s keygen\n";

  if (!a.json.empty()) {
    const nlohmann::json net_rounding_bits =
        net.rounding_threshold_bits ? nlohmann::json(*net.rounding_threshold_bits) : nlohmann::json(nullptr);
    write_json({{"samples", samples},
                {"fp32_accuracy", fp32_accuracy},
                {"board_rule_accuracy", ceiling},
                {"quantized_accuracy", trained.accuracy},
                {"circuit_accuracy", circuit_accuracy},
                {"simulated_accuracy", simulated_accuracy},
                {"encrypted_accuracy", encrypted_accuracy},
                {"agreement_encrypted_vs_clear", encrypted_vs_clear},
                {"accumulator_bits", report.accumulator_bits},
                {"max_lookup_input_bits", plan.max_index_bits},
                {"lookup_operand_bits", report.max_lookup_input_bits},
                {"rounding_bits", net_rounding_bits},
                {"lookups_per_sample", plan.bootstraps_per_sample},
                {"parameter_set", plan.params.name},
                {"keygen_seconds", keygen_seconds},
                {"evaluation_key_bytes", evaluation_bytes.size()},
                {"ciphertext_bytes_per_sample", ciphertext_bytes},
                {"seconds_per_sample", seconds_per_sample},
                {"threads", threads}},
               a.json);
  }
}

void setup_demo(CLI::App& root) {
  auto* cmd = root.add_subcommand("demo", "The checkerboard workflow from data to encrypted predictions");
  auto a = std::make_shared<DemoArgs>();
  cmd->add_option("--example", a->example,
                  "Run one of the reference's examples instead of the checkerboard: " + example_names() +
                      " (fhenn experiment examples runs them all)");
  cmd->add_option("--samples", a->samples,
                  "Test points to predict encrypted (all 500 are run in the clear; --example: its test samples)");
  cmd->add_option("--seed", a->seed,
                  "Seed of the data, the initial weights and the shuffling (--example: of the simulated noise; the "
                  "example's training seed is its own)");
  cmd->add_option("--epochs", a->epochs, "Training epochs (default: the demo configuration's, or the example's)");
  cmd->add_option("--threads", a->threads, "Threads (default: all cores)");
  cmd->add_flag("--rounding", a->rounding,
                "Run the network with rounding (3-bit activations, pruned to 20, accumulators rounded to 4 bits: "
                "approximate near rounding boundaries) instead of the exact one");
  cmd->add_option("--json", a->json, "Write the figures as JSON to this file ('-': stdout)");
  a->plan.add_to(*cmd);
  cmd->callback([a] { run_demo(*a); });
}

FHENN_REGISTER_COMMAND("01-demo", setup_demo);

}  // namespace
}  // namespace fhenn::cli
