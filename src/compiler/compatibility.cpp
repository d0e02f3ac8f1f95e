// Precision compatibility of a compiled model with the engine (see compatibility.hpp).
#include "fhenn/compiler/compatibility.hpp"

#include <algorithm>
#include <cmath>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::compiler {
namespace {

// Extreme products w * u over the corners of the two ranges.
ir::Range product_range(int64_t weight_min, int64_t weight_max, int64_t input_min, int64_t input_max) {
  const int64_t corners[] = {weight_min * input_min, weight_min * input_max, weight_max * input_min,
                             weight_max * input_max};
  return {std::min({int64_t{0}, corners[0], corners[1], corners[2], corners[3]}),
          std::max({int64_t{0}, corners[0], corners[1], corners[2], corners[3]})};
}

long max_non_zero_per_neuron(const QuantizedLayer& layer) {
  long most = 0;
  for (int i = 0; i < layer.out_features; ++i) {
    const auto row = layer.weights.begin() + static_cast<long>(i) * layer.in_features;
    most = std::max<long>(most, std::count_if(row, row + layer.in_features, [](int64_t w) { return w != 0; }));
  }
  return most;
}

// The largest signed weight bits b (< current) with which `non_zero` weights per neuron fit, or 0.
int weight_bits_fitting(const QuantizedLayer& layer, long non_zero, int64_t input_min, int64_t input_max, int bits) {
  for (int b = layer.weight_quantizer.bits - 1; b >= 2; --b) {
    const int64_t half = int64_t{1} << (b - 1);
    if (max_non_zero_weights_fitting(-half, half - 1, input_min, input_max, bits) >= non_zero) return b;
  }
  return 0;
}

// A fix and what it costs the user, in bits of information a neuron loses: rounding drops only the accumulator's
// low bits (cost 0.5: the cheapest, and trainable with rounding-aware QAT); each weight bit fewer costs 1 per bit;
// pruning from `now` to K non-zero weights per neuron costs log2(now / K), so that pruning a quarter costs less than
// a weight bit and pruning to 1 of 16 weights costs 4. Listed cheapest first.
struct Fix {
  double cost = 0.0;
  std::string text;
};

std::string rank_fixes(std::vector<Fix> fixes) {
  std::stable_sort(fixes.begin(), fixes.end(), [](const Fix& a, const Fix& b) { return a.cost < b.cost; });
  std::string text = fixes[0].text;
  for (size_t k = 1; k < fixes.size(); ++k) text += (k + 1 == fixes.size() ? ", or " : ", ") + fixes[k].text;
  return text;
}

std::string accumulator_fix(const QuantizedLayer& layer, int limit, bool before_lookup) {
  const int64_t input_min = layer.input_quantizer.qmin() - layer.input_quantizer.zero_point;
  const int64_t input_max = layer.input_quantizer.qmax() - layer.input_quantizer.zero_point;
  const auto [weight_min, weight_max] = std::minmax_element(layer.weights.begin(), layer.weights.end());
  const long k = max_non_zero_weights_fitting(*weight_min, *weight_max, input_min, input_max, limit);
  const long now = max_non_zero_per_neuron(layer);
  std::vector<Fix> fixes;
  if (before_lookup) fixes.push_back({0.5, concat("set rounding_threshold_bits to ", limit, " or less")});
  const int weight_bits = weight_bits_fitting(layer, now, input_min, input_max, limit);
  if (weight_bits > 0) {
    fixes.push_back({static_cast<double>(layer.weight_quantizer.bits - weight_bits),
                     concat("lower the weight bits to ", weight_bits, " (now ", layer.weight_quantizer.bits, ")")});
  } else {
    fixes.push_back({8.0, "lower the weight or input bits"});
  }
  if (k >= 1 && k < now) {
    const bool heavy = 4 * k < now;
    fixes.push_back({std::log2(static_cast<double>(now) / static_cast<double>(k)),
                     concat("prune to at most ", k, " non-zero weight", k == 1 ? "" : "s", " per neuron (now up to ",
                            now, ")", heavy ? ": this removes most of the layer's weights" : "")});
  }
  return rank_fixes(std::move(fixes));
}

int measured_bits(const ir::NodeBitWidth& node, RangeMeasure measure) {
  return measure == RangeMeasure::seen ? node.seen.bits() : node.worst_case.bits();
}

}  // namespace

long max_non_zero_weights_fitting(int64_t weight_min, int64_t weight_max, int64_t input_min, int64_t input_max,
                                  int bits) {
  const ir::Range p = product_range(weight_min, weight_max, input_min, input_max);
  if (p.min == 0 && p.max == 0) return 1L << 30;
  long low = 0;  // fits (vacuously)
  long high = 1L << 30;
  while (low < high) {  // the accumulator's width grows with k: binary search for the last k that fits
    const long mid = low + (high - low + 1) / 2;
    if (range_bits(mid * p.min, mid * p.max) <= bits)
      low = mid;
    else
      high = mid - 1;
  }
  return low;
}

std::vector<PrecisionProblem> find_precision_problems(const CompiledModel& compiled, const PrecisionLimits& limits) {
  std::vector<PrecisionProblem> problems;
  const char* measure = limits.measure == RangeMeasure::seen ? "seen on the input set" : "worst case";
  for (size_t l = 0; l < compiled.quantized.layers.size(); ++l) {
    const QuantizedLayer& layer = compiled.quantized.layers[l];
    const bool rounded = layer.rounding_shift > 0;
    const std::string node_name = layer.name + (rounded ? ".round" : ".accumulator");
    const ir::NodeBitWidth& node = compiled.report.nodes.at(compiled.circuit.find(node_name));
    const int bits = measured_bits(node, limits.measure);
    const bool before_lookup = layer.output_quantizer.has_value();
    // A lookup reads its input through a bootstrap; an output is only decrypted, so it may be wider.
    const int limit = before_lookup ? limits.lookup_input_bits : limits.output_bits;
    if (bits <= limit) continue;
    const std::string what =
        rounded ? "the rounded accumulator" : (before_lookup ? "the accumulator" : "the output accumulator");
    const std::string fix =
        rounded ? concat("set rounding_threshold_bits to ", limit, " or less (the rounding keeps ", bits, " bits)")
                : accumulator_fix(layer, limit, before_lookup);
    problems.push_back({layer.name, node_name, bits, limit,
                        concat("layer ", layer.name, ": ", what, " needs ", bits, " bits (", measure,
                               "), the limit is ", limit, "; ", fix)});
  }
  return problems;
}

void check_precision(const CompiledModel& compiled, const PrecisionLimits& limits) {
  throw_precision_problems(find_precision_problems(compiled, limits));
}

void throw_precision_problems(const std::vector<PrecisionProblem>& problems) {
  if (problems.empty()) return;
  std::string message = problems[0].message;
  for (size_t k = 1; k < problems.size(); ++k) message += "\n" + problems[k].message;
  throw Error(message);
}

}  // namespace fhenn::compiler
