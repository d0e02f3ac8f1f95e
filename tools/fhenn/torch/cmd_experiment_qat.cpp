// `fhenn experiment qat`: the guide's QAT experiment (100 hidden, 3 bits, pruned; with rounding) trained, compiled
// and run in the clear, beside the reference's figures (Concrete ML documentation).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/nn/qat_training.hpp"
#include "fhenn/runtime/executor.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

struct ExperimentQatCommand {
  uint64_t seed = 2;  // the demo's split: the board's rule scores 95.6% on its test points (seed 0: 94.0%)
  int epochs = 0;     // 0: each row's default
  int threads = 0;
  std::string json;
};

struct RowResult {
  nn::QatTrainOptions options;
  double training_accuracy = 0.0;  // the trained network's exact forward pass on the test points
  double circuit_accuracy = 0.0;   // the compiled circuit run in the clear on the same points
  bool identical_outputs = true;   // every output integer equal, sample by sample
  ir::BitWidthReport report;       // seen on the training set (the reference's measure) and worst case
  int max_non_zero_per_neuron = 0;
  double seconds = 0.0;
};

RowResult run_row(const nn::QatTrainOptions& options, const nn::Dataset& data) {
  const auto start = std::chrono::steady_clock::now();
  RowResult row;
  row.options = options;
  const nn::QatTrainResult trained = nn::train_qat(data, options);
  // The reference measures the accumulator on the training set (its calibration set).
  const compiler::CompiledModel compiled = compiler::compile_qat(trained.net.to_qat_mlp(), data.train.features);
  const nn::QatPredictions predictions = trained.net.predict(data.test.features, &data.test.labels);
  runtime::IntMatrix quantized(data.test.size(), compiled.client.inputs.size());
  quantized.values = compiled.client.quantize_rows(data.test.features);
  const runtime::IntMatrix outputs = runtime::ClearExecutor(1).run_batch(compiled.circuit, quantized);
  size_t correct = 0;
  for (size_t i = 0; i < data.test.size(); ++i) {
    const std::span<const int64_t> out = outputs.row(i);
    row.identical_outputs =
        row.identical_outputs && std::equal(out.begin(), out.end(), predictions.output_integers[i].begin(),
                                            predictions.output_integers[i].end());
    correct += compiler::predicted_class(compiled.client.dequantize(out)) == data.test.labels[i];
  }
  row.training_accuracy = predictions.accuracy;
  row.circuit_accuracy = static_cast<double>(correct) / static_cast<double>(data.test.size());
  row.report = compiled.report;
  row.max_non_zero_per_neuron = trained.max_non_zero_per_neuron;
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

std::string rounding_text(const nn::QatTrainOptions& options) {
  return options.net.rounding_threshold_bits ? std::to_string(*options.net.rounding_threshold_bits) : "-";
}

std::string results_table(const std::vector<RowResult>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"reference (guide)", "30", "3", "-", "95.40%", "92.40%", "7", "-", "-", "-"});
  for (const RowResult& r : rows) {
    const int weight_bits = r.options.net.weight_bits;
    const std::string bits =
        std::to_string(r.options.net.bits) +
        (weight_bits > 0 && weight_bits != r.options.net.bits ? " (weights " + std::to_string(weight_bits) + ")" : "");
    cells.push_back({"fhenn", std::to_string(r.options.max_non_zero), bits, rounding_text(r.options),
                     percent(r.training_accuracy), percent(r.circuit_accuracy),
                     std::to_string(r.report.accumulator_bits) + " (worst " +
                         std::to_string(r.report.worst_case_accumulator_bits) + ")",
                     std::to_string(r.report.worst_case_max_lookup_index_bits),
                     std::to_string(r.report.max_lookup_input_bits) + " (worst " +
                         std::to_string(r.report.worst_case_max_lookup_input_bits) + ")",
                     r.identical_outputs ? "yes" : "NO"});
  }
  return markdown_table({"", "non-zero", "bits", "rounding bits", "training accuracy", "circuit accuracy",
                         "accumulator bits", "bootstrap reads (bits)", "lookup operand bits", "same integers"},
                        cells);
}

nlohmann::json row_json(const RowResult& r) {
  const nn::QatTrainOptions& o = r.options;
  nlohmann::json j{{"hidden", o.net.hidden_sizes.front()},
                   {"hidden_layers", o.net.hidden_sizes.size()},
                   {"max_non_zero", o.max_non_zero},
                   {"prune_mode", nn::to_string(o.prune_mode)},
                   {"bits", o.net.bits},
                   {"weight_bits", o.net.weight_bits ? o.net.weight_bits : o.net.bits},
                   {"rounding_bits", nullptr},
                   {"rounding_fit", nn::to_string(o.net.rounding_fit)},
                   {"rounding_noise_margin", o.net.rounding_noise_margin},
                   {"input_range", nn::to_string(o.net.input_range)},
                   {"activation", nn::to_string(o.net.activation)},
                   {"epochs", o.train.epochs},
                   {"learning_rate", o.train.learning_rate},
                   {"training_accuracy", r.training_accuracy},
                   {"circuit_accuracy", r.circuit_accuracy},
                   {"identical_output_integers", r.identical_outputs},
                   {"accumulator_bits", r.report.accumulator_bits},
                   {"worst_case_accumulator_bits", r.report.worst_case_accumulator_bits},
                   {"max_lookup_input_bits", r.report.worst_case_max_lookup_index_bits},
                   {"seen_max_lookup_index_bits", r.report.max_lookup_index_bits},
                   {"lookup_operand_bits", r.report.max_lookup_input_bits},
                   {"worst_case_lookup_operand_bits", r.report.worst_case_max_lookup_input_bits},
                   {"max_non_zero_per_neuron", r.max_non_zero_per_neuron},
                   {"seconds", r.seconds}};
  if (o.net.rounding_threshold_bits) j["rounding_bits"] = *o.net.rounding_threshold_bits;
  return j;
}

void run_experiment(const ExperimentQatCommand& c) {
  FHENN_CHECK(c.epochs >= 0, "--epochs must be at least 1 (or 0 for the default), got ", c.epochs);
  FHENN_CHECK(c.threads >= 0, "--threads must be at least 1 (or 0 for the default), got ", c.threads);
  const int threads = c.threads > 0 ? c.threads : default_thread_count();
  const nn::Dataset data = nn::make_checkerboard(c.seed);
  const std::vector<nn::QatExperimentRow> rows = nn::qat_experiment_rows(c.seed, c.epochs);
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "experiment qat: " << rows.size() << " trainings on " << threads << " threads, seed " << c.seed << "\n";
  const auto start = std::chrono::steady_clock::now();
  std::vector<RowResult> results(rows.size());
  ProgressBar bar("experiment qat", rows.size());
  parallel_for(rows.size(), threads, [&](size_t i, int) {
    results[i] = run_row(rows[i].options, data);
    bar.advance();
  });
  bar.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double ceiling = nn::checkerboard_rule_accuracy(data.test);
  bool exact = true;
  for (const RowResult& r : results) exact = exact && r.identical_outputs && r.circuit_accuracy == r.training_accuracy;
  text << "\n### QAT, 100 hidden neurons (two hidden layers), pruned per neuron, on the 500 test points\n\n"
       << results_table(results)
       << "\naccumulator bits: the widest integer seen on the training set (the reference's measure; worst case over "
          "all inputs in brackets)\nbootstrap reads: the widest table index any lookup reads for any input (each "
          "neuron's table starts at its own minimum)\nlookup operand bits: the layer-wide signed width of the "
          "lookups' operands, seen (worst case)\n"
       << "\nthe checkerboard's own rule on the noisy test points (the noise's ceiling): " << percent(ceiling)
       << "\ncircuit output integers equal the trained network's on every test point: " << (exact ? "yes" : "NO")
       << "\nfinished in " << ProgressBar::format_duration(seconds) << "\n";
  if (!c.json.empty()) {
    nlohmann::json qat = nlohmann::json::array();
    for (const RowResult& r : results) qat.push_back(row_json(r));
    write_json({{"qat", qat},
                {"seed", c.seed},
                {"board_rule_test_accuracy", ceiling},
                {"reference",
                 {{"hidden", 100},
                  {"max_non_zero", 30},
                  {"bits", 3},
                  {"training_accuracy", 0.954},
                  {"circuit_accuracy", 0.924},
                  {"accumulator_bits", 7}}},
                {"seconds", seconds}},
               c.json);
  }
  FHENN_CHECK(exact, "the circuit's outputs differ from the trained network's on some test point: a bug");
}

void setup_experiment_qat(CLI::App& root) {
  auto& group = subcommand_group(root, "experiment", "Reproduce the reference's experiments");
  auto* cmd = group.add_subcommand("qat",
                                   "Quantization-aware training of the guide's network (100 hidden, 3 bits, "
                                   "pruned to 30 and 20 non-zero weights; with rounding): training and "
                                   "circuit accuracy, accumulator and lookup bits");
  auto c = std::make_shared<ExperimentQatCommand>();
  cmd->add_option("--seed", c->seed, "Seed of the data, the initial weights and the sample order")
      ->capture_default_str();
  cmd->add_option("--epochs", c->epochs, "Training epochs per row (default: each row's tuned setting)");
  cmd->add_option("--threads", c->threads, "Rows trained in parallel (default: FHENN_THREADS or all cores)");
  cmd->add_option("--json", c->json, "Also write the rows as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_experiment(*c); });
}

FHENN_REGISTER_COMMAND("31-experiment-qat", setup_experiment_qat);

}  // namespace
}  // namespace fhenn::cli
