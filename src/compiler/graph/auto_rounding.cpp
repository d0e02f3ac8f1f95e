// Automatic rounding: the search for the fewest accumulator bits that keep the calibration set's accuracy.
#include "fhenn/compiler/auto_rounding.hpp"

#include <algorithm>
#include <map>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "lowered_graph.hpp"

namespace fhenn::compiler {
namespace {

// The class the circuit predicts for each row, run on integers in the clear.
std::vector<int> clear_classes(const CompiledModel& compiled, const Matrix& rows) {
  const std::vector<int64_t> inputs = compiled.client.quantize_rows(rows);
  const size_t width = compiled.client.inputs.size();
  const int threads = default_thread_count();
  std::vector<std::vector<int64_t>> values(static_cast<size_t>(threads),
                                           std::vector<int64_t>(compiled.circuit.node_values_size()));
  std::vector<int> classes(rows.rows);
  parallel_for(rows.rows, threads, [&](size_t row, int worker) {
    auto& node_values = values[static_cast<size_t>(worker)];
    ir::evaluate_nodes(compiled.circuit, std::span(inputs).subspan(row * width, width), node_values);
    std::vector<int64_t> outputs(compiled.circuit.output_width());
    ir::gather_outputs(compiled.circuit, node_values, outputs);
    classes[row] = predicted_class(compiled.client.dequantize(outputs));
  });
  return classes;
}

double accuracy(std::span<const int> classes, std::span<const size_t> picked, std::span<const int64_t> labels) {
  size_t correct = 0;
  for (size_t i = 0; i < classes.size(); ++i) correct += classes[i] == labels[picked[i]];
  return static_cast<double>(correct) / static_cast<double>(classes.size());
}

void validate(const AutoRoundingOptions& options, const Matrix& calibration) {
  FHENN_CHECK(options.tolerance >= 0.0 && options.tolerance < 1.0, "automatic rounding: the tolerance is ",
              options.tolerance, ": give a fraction in [0, 1)");
  FHENN_CHECK(options.samples >= 1, "automatic rounding: give at least one search sample");
  FHENN_CHECK(options.min_bits >= 1 && options.min_bits <= options.max_bits && options.max_bits <= 40,
              "automatic rounding: bits between ", options.min_bits, " and ", options.max_bits,
              ": need 1 <= min <= max <= 40");
  FHENN_CHECK(options.labels.empty() || options.labels.size() == calibration.rows,
              "automatic rounding: ", options.labels.size(), " labels for ", calibration.rows, " calibration samples");
}

// The candidates tried, by cap, with what they predicted.
class Search {
 public:
  Search(const Graph& graph, const Matrix& calibration, const GraphCompileOptions& options)
      : graph_(graph),
        calibration_(calibration),
        options_(options),
        settings_(*options.auto_rounding),
        statistics_(calibrate_graph(graph, calibration)),
        rows_(search_rows(calibration, settings_.samples, &picked_)) {
    options_.auto_rounding.reset();
    options_.rounding_threshold_bits.reset();
  }

  // The unrounded circuit's predictions (the reference) and its widest accumulator read by a lookup.
  int start(AutoRoundingReport& report) {
    const LoweredGraph unrounded = lower_graph(graph_, calibration_, statistics_, options_, false);
    reference_ = clear_classes(unrounded.compiled, rows_);
    report.samples = rows_.rows;
    report.tolerance = settings_.tolerance;
    report.of_accuracy = !settings_.labels.empty();
    if (report.of_accuracy)
      report.unrounded_accuracy = unrounded_accuracy_ = accuracy(reference_, picked_, settings_.labels);
    for (const RoundedAccumulator& acc : unrounded.accumulators) {
      report.unrounded_bits = std::max(report.unrounded_bits, acc.range_bits);
    }
    return report.unrounded_bits;
  }

  const RoundingStep& step(int cap, AutoRoundingReport& report) {
    if (const auto it = steps_.find(cap); it != steps_.end()) return it->second;
    options_.rounding_threshold_bits = cap;
    const LoweredGraph candidate = lower_graph(graph_, calibration_, statistics_, options_, false);
    RoundingStep step{cap, std::nullopt, std::nullopt, 0.0, ""};
    std::optional<RoundingTrial> trial = settings_.trial
                                             ? settings_.trial(candidate.compiled, rows_)
                                             : RoundingTrial{clear_classes(candidate.compiled, rows_), 0.0, ""};
    if (trial) {
      FHENN_CHECK(trial->classes.size() == rows_.rows, "automatic rounding: the trial predicted ",
                  trial->classes.size(), " classes for ", rows_.rows, " samples");
      step.agreement = class_agreement(trial->classes, reference_);
      if (!settings_.labels.empty()) step.accuracy = accuracy(trial->classes, picked_, settings_.labels);
      step.cost = trial->cost;
      step.parameter_set = trial->parameter_set;
    }
    report.steps.push_back(step);
    return steps_.emplace(cap, step).first->second;
  }

  // Within the tolerance: of the accuracy on the labels, or of the predictions.
  bool passes(const RoundingStep& step) const {
    constexpr double kSlack = 1e-12;  // a fraction of samples equal to the bound passes
    if (step.accuracy) return *step.accuracy >= unrounded_accuracy_ - settings_.tolerance - kSlack;
    return step.agreement && *step.agreement >= 1.0 - settings_.tolerance - kSlack;
  }

  // The circuit with every accumulator rounded to `cap` bits (none: unrounded), with its bit-width report.
  LoweredGraph lower(std::optional<int> cap) {
    options_.rounding_threshold_bits = cap;
    return lower_graph(graph_, calibration_, statistics_, options_, true);
  }

  const AutoRoundingOptions& settings() const { return settings_; }

 private:
  const Graph& graph_;
  const Matrix& calibration_;
  GraphCompileOptions options_;
  AutoRoundingOptions settings_;
  std::vector<quant::TensorStatistics> statistics_;
  std::vector<size_t> picked_;
  Matrix rows_;
  std::vector<int> reference_;
  double unrounded_accuracy_ = 0.0;
  std::map<int, RoundingStep> steps_;
};

}  // namespace

Matrix search_rows(const Matrix& rows, size_t count, std::vector<size_t>* picked) {
  const size_t kept = std::min(rows.rows, count);
  Matrix out(kept, rows.cols);
  if (picked != nullptr) picked->resize(kept);
  for (size_t i = 0; i < kept; ++i) {
    const size_t row = i * rows.rows / kept;  // evenly spaced (all of them when kept == rows.rows)
    std::copy_n(rows.row(row).begin(), rows.cols, out.row(i).begin());
    if (picked != nullptr) (*picked)[i] = row;
  }
  return out;
}

double class_agreement(std::span<const int> classes, std::span<const int> reference) {
  FHENN_CHECK(!classes.empty() && classes.size() == reference.size(), "agreement of ", classes.size(),
              " predictions with ", reference.size());
  size_t same = 0;
  for (size_t i = 0; i < classes.size(); ++i) same += classes[i] == reference[i];
  return static_cast<double>(same) / static_cast<double>(classes.size());
}

CompiledModel compile_graph_auto_rounding(const Graph& graph, const Matrix& calibration,
                                          const GraphCompileOptions& options) {
  validate(*options.auto_rounding, calibration);
  Search search(graph, calibration, options);
  AutoRoundingReport report;
  const int unrounded_bits = search.start(report);
  const AutoRoundingOptions& settings = search.settings();
  int cap = unrounded_bits;
  if (unrounded_bits > 0) {
    // The smallest cap in [low, top] that passes (top when none does), by bisection: passing is nearly monotone
    // in the cap (the noise, and where the rounding boundaries fall, aside).
    const int top = std::min(unrounded_bits, settings.max_bits);
    int low = std::min(settings.min_bits, top);
    int high = top;
    while (low < high) {
      const int mid = low + (high - low) / 2;
      if (search.passes(search.step(mid, report)))
        high = mid;
      else
        low = mid + 1;
    }
    cap = low;
    const RoundingStep chosen = search.step(cap, report);
    report.meets_target = search.passes(chosen);
    // More bits at the same cost: the parameter set of the fewest bits may carry more.
    while (settings.trial && chosen.cost > 0.0 && cap < top) {
      const RoundingStep& wider = search.step(cap + 1, report);
      if (!wider.agreement || wider.cost > chosen.cost * (1.0 + 1e-9)) break;
      ++cap;
    }
    const RoundingStep& final_step = search.step(cap, report);
    report.agreement = final_step.agreement.value_or(0.0);
    report.meets_target = report.meets_target || search.passes(final_step);
    report.parameter_set = final_step.parameter_set;
    report.rounded_accuracy = final_step.accuracy;
  }
  report.cap = cap;
  // A cap that keeps every accumulator whole is no rounding.
  const std::optional<int> rounding = cap < unrounded_bits ? std::optional<int>(cap) : std::nullopt;
  LoweredGraph lowered = search.lower(rounding);
  report.accumulators = std::move(lowered.accumulators);
  if (unrounded_bits == 0) report.rounded_accuracy = report.unrounded_accuracy;  // nothing rounded
  lowered.compiled.rounding_threshold_bits = rounding;
  lowered.compiled.auto_rounding = std::move(report);
  return std::move(lowered.compiled);
}

}  // namespace fhenn::compiler
