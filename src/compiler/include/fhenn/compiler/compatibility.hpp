// Whether a compiled model fits the engine's lookup precision, and a computed fix when it does not.
#pragma once

#include <string>
#include <vector>

#include "fhenn/compiler/compile.hpp"

namespace fhenn::compiler {

struct PrecisionLimits {
  int lookup_input_bits = 8;  // the engine's table-lookup (bootstrap) precision
  RangeMeasure measure = RangeMeasure::worst_case;
  int output_bits = 16;  // the widest output integer the client decrypts (never bootstrapped)
};

struct PrecisionProblem {
  std::string layer;  // e.g. "fc2" (a linear layer), or the lookup or output node that reads the value
  std::string node;   // e.g. "fc2.accumulator"
  int bits = 0;
  int limit = 0;
  std::string message;  // names the layer, the width, the limit and a computed fix
};

// Every table lookup must read at most limits.lookup_input_bits (its operand's widest span over the elements that
// share a table: what the bootstrap reads, docs/encrypted.md (E3)) and every output integer fit in
// limits.output_bits, measured as limits.measure. Each problem names the node, the width, the limit and the fixes
// its kind allows, cheapest first (rank_fixes). For a linear layer's accumulator (Gemm, Conv), the fixes are
// computed from its weight integers and input range (CompiledModel::linear_ops): (before a lookup)
// rounding_threshold_bits, the largest weight bits that fit with the current non-zeros, and the largest K such
// that K non-zero weights per neuron (output channel) keep the worst-case accumulator within the limit; for a
// rounding node, a lower rounding_threshold_bits; for other nodes, rounding, fewer activation bits (max pooling's
// exact comparisons) or fewer model-input bits.
std::vector<PrecisionProblem> find_precision_problems(const CompiledModel& compiled, const PrecisionLimits& limits);

// Throws fhenn::Error with every problem's message, one per line, when there is any.
void check_precision(const CompiledModel& compiled, const PrecisionLimits& limits);
void throw_precision_problems(const std::vector<PrecisionProblem>& problems);

// The largest K for which K non-zero weights per neuron, with weight integers in [weight_min, weight_max] and
// inputs (zero point removed) in [input_min, input_max], keep every accumulator within `bits`; 0 when even
// one weight does not fit.
long max_non_zero_weights_fitting(int64_t weight_min, int64_t weight_max, int64_t input_min, int64_t input_max,
                                  int bits);

}  // namespace fhenn::compiler
