// Tests of the automatic rounding: the fewest bits that keep the predictions, per accumulator, its trials and costs.
#include "fhenn/compiler/auto_rounding.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/model_factory.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/runtime/executor.hpp"

namespace fhenn::compiler {
namespace {

using testing::random_features;
using testing::random_float_mlp;

std::vector<int> classes_of(const CompiledModel& compiled, const Matrix& rows) {
  std::vector<int> classes;
  for (size_t r = 0; r < rows.rows; ++r) {
    const auto outputs = runtime::run_clear(compiled.circuit, compiled.client.quantize(rows.row(r)));
    classes.push_back(predicted_class(compiled.client.dequantize(outputs)));
  }
  return classes;
}

PtqOptions with_rounding(std::optional<int> bits) {
  PtqOptions options{NBits::uniform(6), bits};
  return options;
}

// Random networks are sensitive to rounding: the caps these tests look at go beyond the engine's 8 bits.
AutoRoundingOptions wide_settings() {
  AutoRoundingOptions settings;
  settings.max_bits = 16;
  return settings;
}

PtqOptions automatic(AutoRoundingOptions settings = wide_settings()) {
  PtqOptions options{NBits::uniform(6), std::nullopt};
  options.auto_rounding = std::move(settings);
  return options;
}

// Checked against circuits compiled with explicit rounding: the chosen cap keeps the predictions of the unrounded
// circuit within the tolerance and one bit fewer does not; it is the same circuit as rounding_threshold_bits = cap.
TEST(AutoRounding, ChoosesTheFewestBitsThatKeepThePredictions) {
  const FloatMlp model = random_float_mlp({16, 64, 4}, 31);
  const Matrix calibration = random_features(400, 16, 32);
  const CompiledModel chosen = compile_ptq(model, calibration, automatic());
  ASSERT_TRUE(chosen.auto_rounding);
  const AutoRoundingReport& report = *chosen.auto_rounding;
  EXPECT_TRUE(report.meets_target);
  EXPECT_EQ(report.samples, 400u);
  ASSERT_LT(report.cap, report.unrounded_bits);
  EXPECT_GT(report.cap, AutoRoundingOptions{}.min_bits);  // 6-bit weights and activations need more than 2
  EXPECT_EQ(chosen.rounding_threshold_bits, report.cap);

  const auto unrounded = classes_of(compile_ptq(model, calibration, with_rounding(std::nullopt)), calibration);
  const CompiledModel explicit_cap = compile_ptq(model, calibration, with_rounding(report.cap));
  const auto rounded = classes_of(explicit_cap, calibration);
  EXPECT_EQ(classes_of(chosen, calibration), rounded);
  EXPECT_DOUBLE_EQ(class_agreement(rounded, unrounded), report.agreement);
  EXPECT_FALSE(report.of_accuracy);  // no labels: the tolerance (1%) is of the predictions
  EXPECT_GE(report.agreement, 0.99);
  const auto fewer = classes_of(compile_ptq(model, calibration, with_rounding(report.cap - 1)), calibration);
  EXPECT_LT(class_agreement(fewer, unrounded), 0.99);
}

// One cap for every accumulator: the wider one keeps at most cap bits, the narrower one keeps all of its own.
TEST(AutoRounding, ANarrowerAccumulatorKeepsAllItsBits) {
  const FloatMlp model = random_float_mlp({2, 64, 4, 3}, 41);
  const Matrix calibration = random_features(300, 2, 42);
  const auto ranges = compile_ptq(model, calibration, automatic()).auto_rounding->accumulators;
  ASSERT_EQ(ranges.size(), 2u);  // fc1 and fc2 feed lookups; fc3 is the output
  ASSERT_EQ(ranges[0].tensor, "fc1");
  const size_t wide_index = ranges[0].range_bits > ranges[1].range_bits ? 0 : 1;
  const RoundedAccumulator& narrow_range = ranges[1 - wide_index];
  ASSERT_GE(ranges[wide_index].range_bits, narrow_range.range_bits + 2);
  AutoRoundingOptions settings;
  settings.min_bits = settings.max_bits = narrow_range.range_bits + 1;  // between the two
  const AutoRoundingReport report = *compile_ptq(model, calibration, automatic(settings)).auto_rounding;
  ASSERT_EQ(report.cap, settings.max_bits);
  const RoundedAccumulator& narrow = report.accumulators[1 - wide_index];
  const RoundedAccumulator& wide = report.accumulators[wide_index];
  EXPECT_EQ(narrow.shift, 0);
  EXPECT_EQ(narrow.kept_bits, narrow.range_bits);
  EXPECT_GT(wide.shift, 0);
  EXPECT_LE(wide.kept_bits, report.cap);
  EXPECT_EQ(wide.range_bits, ranges[wide_index].range_bits);
}

// The trials decide: a cap no set can run is never chosen, and the cap grows while the cost stays the same.
TEST(AutoRounding, TrialsRuleOutCapsAndGiveFreeBits) {
  const FloatMlp model = random_float_mlp({16, 64, 4}, 31);
  const Matrix calibration = random_features(400, 16, 32);
  const int fewest = compile_ptq(model, calibration, automatic()).rounding_threshold_bits.value();
  const auto unrounded = classes_of(compile_ptq(model, calibration, with_rounding(std::nullopt)), calibration);
  int trials = 0;
  AutoRoundingOptions settings = wide_settings();
  settings.trial = [&](const CompiledModel& candidate, const Matrix& rows) -> std::optional<RoundingTrial> {
    EXPECT_EQ(rows.rows, calibration.rows);
    ++trials;
    const int cap = candidate.rounding_threshold_bits.value();
    if (cap <= fewest) return std::nullopt;  // "no parameter set" up to fewest
    // Every other cap keeps every prediction, and costs the same up to fewest + 2.
    return RoundingTrial{unrounded, cap <= fewest + 2 ? 1.0 : 2.0, "set" + std::to_string(cap)};
  };
  const CompiledModel chosen = compile_ptq(model, calibration, automatic(settings));
  const AutoRoundingReport& report = *chosen.auto_rounding;
  ASSERT_GT(report.unrounded_bits, fewest + 2);
  EXPECT_EQ(report.cap, fewest + 2);
  EXPECT_EQ(report.parameter_set, "set" + std::to_string(report.cap));
  EXPECT_EQ(static_cast<size_t>(trials), report.steps.size());
  for (const RoundingStep& step : report.steps) EXPECT_EQ(step.agreement.has_value(), step.cap > fewest);
}

TEST(AutoRounding, ReportsTheAccuracyItCostsOnTheLabels) {
  const FloatMlp model = random_float_mlp({16, 64, 4}, 31);
  const Matrix calibration = random_features(400, 16, 32);
  AutoRoundingOptions settings = wide_settings();
  const auto unrounded = classes_of(compile_ptq(model, calibration, with_rounding(std::nullopt)), calibration);
  settings.labels.assign(unrounded.begin(), unrounded.end());  // the unrounded circuit's classes as labels
  settings.samples = 100;                                      // every 4th row
  const AutoRoundingReport report = *compile_ptq(model, calibration, automatic(settings)).auto_rounding;
  EXPECT_EQ(report.samples, 100u);
  EXPECT_DOUBLE_EQ(report.unrounded_accuracy.value(), 1.0);
  EXPECT_DOUBLE_EQ(report.rounded_accuracy.value(), report.agreement);
}

// With labels the tolerance is of the accuracy: predictions may change as long as the accuracy holds.
TEST(AutoRounding, WithLabelsTheToleranceIsOfTheAccuracy) {
  const FloatMlp model = random_float_mlp({16, 64, 4}, 31);
  const Matrix calibration = random_features(400, 16, 32);
  const auto unrounded = classes_of(compile_ptq(model, calibration, with_rounding(std::nullopt)), calibration);
  AutoRoundingOptions settings = wide_settings();
  for (size_t i = 0; i < unrounded.size(); ++i)
    settings.labels.push_back(i % 3 == 0 ? (unrounded[i] + 1) % 4 : unrounded[i]);
  const AutoRoundingReport report = *compile_ptq(model, calibration, automatic(settings)).auto_rounding;
  ASSERT_TRUE(report.of_accuracy);
  const double bound = report.unrounded_accuracy.value() - settings.tolerance;
  EXPECT_NEAR(report.unrounded_accuracy.value(), 266.0 / 400.0, 1e-12);  // every third label is wrong
  EXPECT_GE(report.rounded_accuracy.value(), bound - 1e-12);
  for (const RoundingStep& step : report.steps) {
    if (step.cap == report.cap - 1) {
      EXPECT_LT(step.accuracy.value(), bound);
    }
  }
  EXPECT_LT(report.cap, report.unrounded_bits);
}

TEST(AutoRounding, SearchRowsAreEvenlySpaced) {
  const Matrix rows = random_features(10, 2, 1);
  std::vector<size_t> picked;
  const Matrix some = search_rows(rows, 4, &picked);
  EXPECT_EQ(picked, (std::vector<size_t>{0, 2, 5, 7}));
  for (size_t i = 0; i < picked.size(); ++i) EXPECT_EQ(some.at(i, 1), rows.at(picked[i], 1));
  EXPECT_EQ(search_rows(rows, 100).rows, 10u);
}

TEST(AutoRounding, RejectsBadSettings) {
  const FloatMlp model = random_float_mlp({4, 8, 2}, 3);
  const Matrix calibration = random_features(20, 4, 4);
  AutoRoundingOptions settings;
  settings.tolerance = 1.5;
  EXPECT_THROW(compile_ptq(model, calibration, automatic(settings)), Error);
  settings = {};
  settings.labels = {0, 1};  // 2 labels for 20 samples
  EXPECT_THROW(compile_ptq(model, calibration, automatic(settings)), Error);
  settings = {};
  settings.min_bits = 9;
  EXPECT_THROW(compile_ptq(model, calibration, automatic(settings)), Error);
  PtqOptions both = automatic();
  both.rounding_threshold_bits = 5;
  EXPECT_THROW(compile_ptq(model, calibration, both), Error);
}

}  // namespace
}  // namespace fhenn::compiler
