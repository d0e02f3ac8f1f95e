// `fhenn experiment ptq`: reproduces the guide's two PTQ tables (hidden sizes; pruned 100-neuron networks) over
// R seeded training runs, beside the reference's figures (Concrete ML documentation).
#include <iostream>
#include <memory>
#include <mutex>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/nn/mlp.hpp"
#include "output.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

struct ExperimentCommand {
  int runs = 10;
  uint64_t seed = 0;
  int epochs = 5;
  int n_bits = 3;
  std::string prune_mode = "layer";
  std::string recipe = "improved";
  int threads = 0;
  std::string json;
};

// One table column: a network configuration and the reference's figures for it.
struct Configuration {
  int hidden = 0;
  std::optional<int> max_non_zero;
  double reference_fp32 = 0, reference_quantized = 0, reference_accumulator = 0;
};

const std::vector<Configuration> kConfigurations = {{10, std::nullopt, 0.6870, 0.5644, 6.6},
                                                    {30, std::nullopt, 0.8332, 0.5554, 6.9},
                                                    {100, std::nullopt, 0.8806, 0.5650, 7.4},
                                                    {100, 10, 0.8250, 0.5774, 6.6},
                                                    {100, 30, 0.8806, 0.5782, 6.8}};

struct RunResult {
  double fp32 = 0, quantized = 0, circuit = 0;
  int accumulator_bits = 0;
};

struct Summary {
  double fp32 = 0, quantized = 0, circuit = 0, accumulator_bits = 0;
  int runs = 0;
  bool circuit_matches_every_run = true;
};

// One run: `recipe` (every run's training options) with this run's seed and the configuration's pruning.
RunResult run_once(const Configuration& config, const nn::Dataset& data, nn::MlpTrainOptions options, uint64_t seed,
                   int n_bits, nn::PruneMode mode) {
  options.train.seed = seed;
  if (config.max_non_zero) options.pruning = nn::PruningOptions{*config.max_non_zero, mode};
  const auto trained = nn::train_mlp(nn::MlpShape::simple_net(config.hidden), data.train, options);
  compiler::PtqOptions ptq;
  ptq.n_bits = quant::NBits::uniform(n_bits);
  // The reference compiles with the training set as its calibration set and measures the bit widths on it.
  const auto compiled = compiler::compile_ptq(nn::export_float_mlp(trained.model), data.train.features, ptq);
  return {nn::accuracy(nn::forward_of(trained.model), data.test), quantized_accuracy(compiled, data.test),
          circuit_accuracy(compiled, data.test), compiled.report.accumulator_bits};
}

Summary summarize(std::span<const RunResult> runs) {
  Summary s;
  s.runs = static_cast<int>(runs.size());
  for (const auto& r : runs) {
    s.fp32 += r.fp32 / s.runs;
    s.quantized += r.quantized / s.runs;
    s.circuit += r.circuit / s.runs;
    s.accumulator_bits += static_cast<double>(r.accumulator_bits) / s.runs;
    s.circuit_matches_every_run = s.circuit_matches_every_run && r.circuit == r.quantized;
  }
  return s;
}

std::string one_decimal(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", v);
  return text;
}

// The guide's table layout: one column per configuration, our figure and the reference's in adjacent rows.
std::string table(const std::string& first_header, const std::vector<size_t>& columns,
                  const std::vector<Summary>& summaries, int n_bits) {
  std::vector<std::string> header{first_header};
  std::vector<std::vector<std::string>> rows(7);
  const std::string bits = std::to_string(n_bits) + "-bit";
  rows[0] = {"fp32 accuracy (fhenn)"};
  rows[1] = {"fp32 accuracy (reference)"};
  rows[2] = {bits + " accuracy (fhenn, quantized)"};
  rows[3] = {bits + " accuracy (fhenn, circuit)"};
  rows[4] = {bits + " accuracy (reference)"};
  rows[5] = {"mean accumulator size (fhenn)"};
  rows[6] = {"mean accumulator size (reference)"};
  for (size_t c : columns) {
    const auto& config = kConfigurations[c];
    const auto& s = summaries[c];
    header.push_back(std::to_string(config.max_non_zero ? *config.max_non_zero : config.hidden));
    rows[0].push_back(percent(s.fp32));
    rows[1].push_back(percent(config.reference_fp32));
    rows[2].push_back(percent(s.quantized));
    rows[3].push_back(percent(s.circuit));
    rows[4].push_back(percent(config.reference_quantized));
    rows[5].push_back(one_decimal(s.accumulator_bits));
    rows[6].push_back(one_decimal(config.reference_accumulator));
  }
  return markdown_table(header, rows);
}

nlohmann::json per_run_json(std::span<const RunResult> runs) {
  nlohmann::json fp32 = nlohmann::json::array(), quantized = nlohmann::json::array(), bits = nlohmann::json::array();
  for (const auto& r : runs) {
    fp32.push_back(r.fp32);
    quantized.push_back(r.quantized);
    bits.push_back(r.accumulator_bits);
  }
  return {{"fp32_accuracy", fp32}, {"quantized_accuracy", quantized}, {"accumulator_bits", bits}};
}

nlohmann::json row_json(const Configuration& config, const Summary& s, std::span<const RunResult> runs,
                        const std::string& mode) {
  nlohmann::json j{{"hidden", config.hidden},
                   {"fp32_accuracy", s.fp32},
                   {"quantized_accuracy", s.quantized},
                   {"circuit_accuracy", s.circuit},
                   {"mean_accumulator_bits", s.accumulator_bits},
                   {"runs", s.runs},
                   {"circuit_matches_quantized_every_run", s.circuit_matches_every_run},
                   {"per_run", per_run_json(runs)},
                   {"reference",
                    {{"fp32_accuracy", config.reference_fp32},
                     {"quantized_accuracy", config.reference_quantized},
                     {"mean_accumulator_bits", config.reference_accumulator}}}};
  if (config.max_non_zero) {
    j["max_non_zero"] = *config.max_non_zero;
    j["prune_mode"] = mode;
  }
  return j;
}

void run_experiment(const ExperimentCommand& c) {
  FHENN_CHECK(c.runs >= 1, "--runs must be at least 1, got ", c.runs);
  FHENN_CHECK(c.epochs >= 1, "--epochs must be at least 1, got ", c.epochs);
  quant::validate(quant::NBits::uniform(c.n_bits));
  const auto mode = nn::parse_prune_mode(c.prune_mode);
  FHENN_CHECK(c.recipe == "improved" || c.recipe == "reference", "unknown --recipe '", c.recipe,
              "': use 'improved' (standardised inputs) or 'reference' (the guide's recipe as it is)");
  const bool improved = c.recipe == "improved";
  nn::MlpTrainOptions recipe;
  if (improved) recipe = nn::improved_recipe(recipe);
  recipe.train.epochs = c.epochs;
  recipe.train.show_progress = false;
  const int threads = c.threads > 0 ? c.threads : default_thread_count();
  const auto data = nn::make_checkerboard(c.seed);

  // Jobs ordered from the most expensive (100 hidden) so that the dynamic schedule balances the workers.
  std::vector<std::pair<size_t, int>> jobs;  // (configuration, run)
  for (size_t config : {2, 3, 4, 1, 0}) {
    for (int run = 0; run < c.runs; ++run) jobs.emplace_back(config, run);
  }
  std::vector<std::vector<RunResult>> results(kConfigurations.size(), std::vector<RunResult>(c.runs));
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "experiment ptq: " << jobs.size() << " trainings (" << c.runs << " runs x " << kConfigurations.size()
       << " networks, " << c.epochs << " epochs, " << c.n_bits << " bits, " << c.recipe << " recipe) on " << threads
       << " threads\n"
       << "recipe: AdamW lr 1e-3, weight decay 0.01, batch 1, shuffled"
       << (improved ? ", inputs standardised on the training set (folded into fc1 before quantization)" : "") << "\n";
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar("experiment ptq", jobs.size());
  parallel_for(jobs.size(), threads, [&](size_t index, int) {
    const auto [config, run] = jobs[index];
    const uint64_t run_seed = c.seed * 1000003ULL + static_cast<uint64_t>(run);
    results[config][run] = run_once(kConfigurations[config], data, recipe, run_seed, c.n_bits, mode);
    bar.advance();
  });
  bar.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<Summary> summaries;
  for (const auto& runs : results) summaries.push_back(summarize(runs));
  text << "\n### PTQ, " << c.n_bits << " bits, SimpleNet by hidden neurons (mean of " << c.runs << " runs)\n\n"
       << table("neurons", {0, 1, 2}, summaries, c.n_bits) << "\n### PTQ, " << c.n_bits
       << " bits, 100 hidden neurons pruned (" << c.prune_mode << " mode), by max non-zero weights per neuron\n\n"
       << table("non-zero weights", {3, 4}, summaries, c.n_bits) << "\n";
  bool all_match = true;
  for (const auto& s : summaries) all_match = all_match && s.circuit_matches_every_run;
  text << "circuit accuracy equals quantized accuracy in every run: " << (all_match ? "yes" : "NO") << "\n"
       << "finished in " << ProgressBar::format_duration(seconds) << "\n";
  if (!c.json.empty()) {
    nlohmann::json ptq = nlohmann::json::array(), pruned = nlohmann::json::array();
    for (size_t i = 0; i < kConfigurations.size(); ++i) {
      (kConfigurations[i].max_non_zero ? pruned : ptq)
          .push_back(row_json(kConfigurations[i], summaries[i], results[i], c.prune_mode));
    }
    write_json({{"ptq", ptq},
                {"pruned", pruned},
                {"n_bits", c.n_bits},
                {"epochs", c.epochs},
                {"seed", c.seed},
                {"prune_mode", c.prune_mode},
                {"recipe", c.recipe},
                {"seconds", seconds}},
               c.json);
  }
  FHENN_CHECK(all_match, "the circuit's accuracy differs from the quantized model's in some run: a compiler bug");
}

void setup_experiment_ptq(CLI::App& root) {
  auto& group = subcommand_group(root, "experiment", "Reproduce the reference's experiments");
  auto* cmd = group.add_subcommand("ptq",
                                   "Post-training quantization of SimpleNet (10/30/100 hidden, and 100 pruned "
                                   "to 10/30 non-zero weights): accuracies and mean accumulator size");
  auto c = std::make_shared<ExperimentCommand>();
  cmd->add_option("--runs", c->runs, "Training runs per network")->capture_default_str();
  cmd->add_option("--seed", c->seed, "Seed of the data and of every run")->capture_default_str();
  cmd->add_option("--epochs", c->epochs, "Training epochs per run")->capture_default_str();
  cmd->add_option("--n-bits", c->n_bits, "Quantization bits (the reference: 3)")->capture_default_str();
  cmd->add_option("--prune-mode", c->prune_mode, "'layer' (the reference's) or 'neuron'")->capture_default_str();
  cmd->add_option("--recipe", c->recipe,
                  "'improved' (the reference's recipe on standardised inputs) or 'reference' (as the guide trains)")
      ->capture_default_str();
  cmd->add_option("--threads", c->threads, "Parallel runs (default: FHENN_THREADS or all cores)");
  cmd->add_option("--json", c->json, "Also write the tables as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_experiment(*c); });
}

FHENN_REGISTER_COMMAND("30-experiment-ptq", setup_experiment_ptq);

}  // namespace
}  // namespace fhenn::cli
