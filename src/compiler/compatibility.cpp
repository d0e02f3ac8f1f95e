// Precision compatibility of a compiled model with the engine (see compatibility.hpp).
#include "fhenn/compiler/compatibility.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <variant>

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

// The weights of linear node `node` (dot_product, conv2d) as rows, one per output neuron or channel.
struct WeightRows {
  std::span<const int64_t> weights;
  size_t rows = 0;
  const char* unit = "neuron";
};

WeightRows weight_rows(const ir::Node& node) {
  if (const auto* dot = std::get_if<ir::DotProductOp>(&node.op)) return {dot->weights, node.width, "neuron"};
  const auto& conv = std::get<ir::Conv2dOp>(node.op);
  return {conv.kernel, conv.out_channels, "output channel"};
}

long max_non_zero_per_row(const WeightRows& w) {
  const size_t length = w.weights.size() / w.rows;
  long most = 0;
  for (size_t i = 0; i < w.rows; ++i) {
    const auto row = w.weights.subspan(i * length, length);
    most = std::max<long>(most, std::count_if(row.begin(), row.end(), [](int64_t v) { return v != 0; }));
  }
  return most;
}

// The largest signed weight bits b (< current) with which `non_zero` weights per row fit, or 0.
int weight_bits_fitting(const LinearOpFacts& op, long non_zero, int bits) {
  for (int b = op.weight_bits - 1; b >= 2; --b) {
    const int64_t half = int64_t{1} << (b - 1);
    if (max_non_zero_weights_fitting(-half, half - 1, op.input_min, op.input_max, bits) >= non_zero) return b;
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

std::string accumulator_fix(const ir::Node& node, const LinearOpFacts& op, int limit, bool before_lookup) {
  const WeightRows w = weight_rows(node);
  const auto [weight_min, weight_max] = std::minmax_element(w.weights.begin(), w.weights.end());
  const long k = max_non_zero_weights_fitting(*weight_min, *weight_max, op.input_min, op.input_max, limit);
  const long now = max_non_zero_per_row(w);
  std::vector<Fix> fixes;
  if (before_lookup) fixes.push_back({0.5, concat("set rounding_threshold_bits to ", limit, " or less")});
  const int weight_bits = weight_bits_fitting(op, now, limit);
  if (weight_bits > 0) {
    fixes.push_back({static_cast<double>(op.weight_bits - weight_bits),
                     concat("lower the weight bits to ", weight_bits, " (now ", op.weight_bits, ")")});
  } else {
    fixes.push_back({8.0, "lower the weight or input bits"});
  }
  if (k >= 1 && k < now) {
    const bool heavy = 4 * k < now;
    fixes.push_back({std::log2(static_cast<double>(now) / static_cast<double>(k)),
                     concat("prune to at most ", k, " non-zero weight", k == 1 ? "" : "s", " per ", w.unit,
                            " (now up to ", now, ")", heavy ? ": this removes most of the layer's weights" : "")});
  }
  return rank_fixes(std::move(fixes));
}

const char* measure_text(RangeMeasure measure) {
  return measure == RangeMeasure::seen ? "seen on the input set" : "worst case";
}

// The fixes for a lookup operand of kind `kind` (not a linear layer's accumulator) that reads `bits` > `limit`,
// cheapest first (rounding drops only low bits of an accumulator; fewer bits coarsen every value).
std::string lookup_fix(ir::OpKind kind, int bits, int limit, bool rounded_by_the_lowering) {
  switch (kind) {
    case ir::OpKind::round:
      return concat("set rounding_threshold_bits to ", limit, " or less (the rounding keeps ", bits, " bits)");
    case ir::OpKind::input:
      return concat("lower the model-input bits to ", limit, " or less");
    case ir::OpKind::table_lookup:
      return concat("lower the activation (op-input) bits to ", limit, " or less");
    default:
      // weighted_sum (Add, Sub, pooling sums), and moves of accumulators: the lowering rounds accumulators before
      // a lookup (max pooling's comparisons it never rounds: they must stay exact).
      return rounded_by_the_lowering
                 ? concat("set rounding_threshold_bits to ", limit, " or less, or lower the weight or activation bits")
                 : std::string("lower the activation (op-input) bits by ") + std::to_string(bits - limit);
  }
}

// The facts of the linear op whose accumulator `id` is, or whose accumulator `id` rounds; nullptr for another node.
const LinearOpFacts* linear_op_of(const CompiledModel& compiled, ir::NodeId id) {
  const ir::Node* node = &compiled.circuit.node(id);
  if (node->kind() == ir::OpKind::round) node = &compiled.circuit.node(node->operands.at(0));
  for (const LinearOpFacts& op : compiled.linear_ops) {
    if (op.node == node->name) return &op;
  }
  return nullptr;
}

std::string layer_name(const std::string& accumulator) {
  const std::string suffix = ".accumulator";
  return accumulator.ends_with(suffix) ? accumulator.substr(0, accumulator.size() - suffix.size()) : accumulator;
}

// A linear layer's accumulator (or its rounding) read by `reader` is `bits` wide, over `limit`.
PrecisionProblem linear_problem(const CompiledModel& compiled, const ir::Node& reader, ir::NodeId id,
                                const LinearOpFacts& op, int bits, int limit, RangeMeasure measure) {
  const ir::Node& node = compiled.circuit.node(id);
  const bool rounded = node.kind() == ir::OpKind::round;
  const bool before_lookup = reader.kind() == ir::OpKind::table_lookup;
  const std::string what =
      rounded ? "the rounded accumulator" : (before_lookup ? "the accumulator" : "the output accumulator");
  const ir::Node& linear = rounded ? compiled.circuit.node(node.operands.at(0)) : node;
  const std::string fix =
      rounded ? concat("set rounding_threshold_bits to ", limit, " or less (the rounding keeps ", bits, " bits)")
              : accumulator_fix(linear, op, limit, before_lookup);
  const std::string layer = layer_name(op.node);
  return {layer, node.name, bits, limit,
          concat("layer ", layer, ": ", what, " needs ", bits, " bits (", measure_text(measure), "), the limit is ",
                 limit, "; ", fix)};
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
  const ir::Circuit& circuit = compiled.circuit;
  const bool seen = limits.measure == RangeMeasure::seen;
  std::vector<PrecisionProblem> problems;
  for (ir::NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const ir::Node& reader = circuit.node(id);
    const bool lookup = reader.kind() == ir::OpKind::table_lookup;
    if (!lookup && reader.kind() != ir::OpKind::output) continue;
    const ir::NodeId operand_id = reader.operands.at(0);
    const ir::Node& operand = circuit.node(operand_id);
    const ir::NodeBitWidth& width = compiled.report.nodes.at(operand_id);
    // A lookup reads its operand's span through a bootstrap; an output is only decrypted, so it may be wider.
    const int bits = lookup ? (seen ? width.seen_index_bits : width.worst_case_index_bits)
                            : (seen ? width.seen_bits : width.worst_case_bits);
    const int limit = lookup ? limits.lookup_input_bits : limits.output_bits;
    if (bits <= limit) continue;
    if (const LinearOpFacts* op = linear_op_of(compiled, operand_id)) {
      problems.push_back(linear_problem(compiled, reader, operand_id, *op, bits, limit, limits.measure));
    } else if (lookup) {
      // Max pooling's comparisons (its ".difference" sums) stay exact: the lowering never rounds them.
      const bool comparison = operand.name.ends_with(".difference");
      problems.push_back({reader.name, operand.name, bits, limit,
                          concat("node '", operand.name, "' (read by lookup '", reader.name, "') needs ", bits,
                                 " bits (", measure_text(limits.measure), "), the lookup limit is ", limit, "; ",
                                 lookup_fix(operand.kind(), bits, limit, !comparison))});
    } else {
      problems.push_back({reader.name, operand.name, bits, limit,
                          concat("output '", reader.name, "' ('", operand.name, "') needs ", bits, " bits (",
                                 measure_text(limits.measure), "), the limit is ", limit,
                                 "; lower the weight or activation bits of the layer before it")});
    }
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
