// Automatic rounding: the fewest accumulator bits each lookup reads that keep the calibration set's accuracy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"

namespace fhenn::compiler {

struct CompiledModel;

// What one candidate circuit does on the search samples, as the caller measures it (the engine's simulator, say):
// the predicted class of each sample, the cost of a sample (the engine's cost model; 0 when unknown) and the
// parameter set it would run on.
struct RoundingTrial {
  std::vector<int> classes;
  double cost = 0.0;
  std::string parameter_set;
};

// Runs a candidate on the search samples; nullopt when it cannot run (no parameter set can bootstrap it).
using RoundingTrialFunction = std::function<std::optional<RoundingTrial>(const CompiledModel&, const Matrix&)>;

// The search (docs/workflow.md, "Automatic rounding"). Every accumulator a lookup reads keeps at most c bits (the
// rounding of rounding_threshold_bits = c); c is the smallest in [min_bits, max_bits] for which the rounded circuit
// costs at most `tolerance` on the search samples: of their accuracy, when labels are given (the accuracy of the
// unrounded circuit minus the rounded one's), else of the unrounded circuit's predictions (the share whose class
// changes). One parameter set serves the whole circuit and its widest lookup sets its cost, so one cap for all
// layers is the cheapest choice: a layer narrower than c keeps all its bits. Then, when the trials report a cost,
// c grows while the cost stays that of the fewest bits (bits the parameter set gives for free).
struct AutoRoundingOptions {
  double tolerance = 0.01;  // the accuracy (with labels) or the share of predictions (without) the rounding may cost
  size_t samples = 2000;    // search samples: the calibration rows, evenly spaced when there are more
  int min_bits = 2;
  int max_bits = 8;  // the widest lookup the engine runs
  // Measures each candidate (the unrounded reference always runs in the clear); none: the clear circuit, no cost.
  RoundingTrialFunction trial;
  // The calibration rows' labels (optional): the tolerance is then of the accuracy on them.
  std::vector<int64_t> labels;
};

// One accumulator read by lookups: its range's bits (the range measure of the rounding) and the bits it keeps.
struct RoundedAccumulator {
  std::string tensor;
  int range_bits = 0;
  int kept_bits = 0;
  int shift = 0;
};

// One candidate tried: its cap, the fraction of the search samples whose prediction it keeps, their accuracy (with
// labels), its set and cost.
struct RoundingStep {
  int cap = 0;
  std::optional<double> agreement;  // none: it could not run
  std::optional<double> accuracy;
  double cost = 0.0;
  std::string parameter_set;
};

struct AutoRoundingReport {
  int cap = 0;               // the bits chosen (rounding_threshold_bits)
  int unrounded_bits = 0;    // the widest accumulator a lookup reads, unrounded (worst case)
  double agreement = 1.0;    // of the chosen circuit with the unrounded one, on the search samples
  bool meets_target = true;  // within the tolerance (false: even max_bits costs more)
  double tolerance = 0.0;
  bool of_accuracy = false;  // the tolerance is of the accuracy on labels (else of the predictions)
  size_t samples = 0;        // search samples
  std::optional<double> unrounded_accuracy, rounded_accuracy;  // on the search samples, with labels
  std::string parameter_set;                                   // of the chosen circuit, as the trials measured it
  std::vector<RoundedAccumulator> accumulators;                // in circuit order
  std::vector<RoundingStep> steps;                             // in the order tried
};

// The rows the search evaluates: all of `rows`, or `count` of them evenly spaced (their indices in `picked`).
Matrix search_rows(const Matrix& rows, size_t count, std::vector<size_t>* picked = nullptr);

// The fraction of `classes` equal to `reference` (same length, not empty).
double class_agreement(std::span<const int> classes, std::span<const int> reference);

}  // namespace fhenn::compiler
