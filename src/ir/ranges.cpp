// Worst-case and seen value ranges of circuit nodes (see ranges.hpp).
#include "fhenn/ir/ranges.hpp"

#include <algorithm>
#include <limits>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/linear_terms.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::ir {
namespace {

constexpr int64_t kMaxMagnitude = int64_t{1} << 62;

int64_t checked_mul(int64_t a, int64_t b, const Node& node) {
  int64_t r = 0;
  FHENN_CHECK(!__builtin_mul_overflow(a, b, &r) && r < kMaxMagnitude && r > -kMaxMagnitude, "node '", node.name,
              "': a worst-case value exceeds 62 bits; lower the weight or input bits");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const Node& node) {
  int64_t r = 0;
  FHENN_CHECK(!__builtin_add_overflow(a, b, &r) && r < kMaxMagnitude && r > -kMaxMagnitude, "node '", node.name,
              "': a worst-case value exceeds 62 bits; lower the weight or input bits");
  return r;
}

// (R2): each term's extremes are at its operand element's endpoints, chosen by the weight's sign; the constant
// is added last, as the evaluation does.
std::vector<Range> linear_ranges(const Node& node, const std::vector<Node>& nodes,
                                 const std::vector<std::vector<Range>>& ranges) {
  const LinearTerms terms(node, nodes);
  std::vector<Range> out(node.width);
  for (size_t i = 0; i < node.width; ++i) {
    int64_t low = 0;
    int64_t high = 0;
    const int64_t constant = terms.visit(i, [&](size_t slot, size_t j, int64_t w) {
      const Range r = ranges[node.operands[slot]][j];
      const int64_t a = checked_mul(w, r.min, node);
      const int64_t b = checked_mul(w, r.max, node);
      low = checked_add(low, std::min(a, b), node);
      high = checked_add(high, std::max(a, b), node);
    });
    out[i] = {checked_add(low, constant, node), checked_add(high, constant, node)};
  }
  return out;
}

// (R3): round_msbs is non-decreasing, so the endpoints map to the endpoints.
std::vector<Range> round_ranges(const Node& node, std::span<const Range> operand) {
  const int shift = std::get<RoundOp>(node.op).shift;
  std::vector<Range> out(node.width);
  for (size_t i = 0; i < node.width; ++i) {
    out[i] = {quant::round_msbs(operand[i].min, shift), quant::round_msbs(operand[i].max, shift)};
  }
  return out;
}

// (R4): the entries the operand's range reaches (saturating at the table's ends).
std::vector<Range> table_ranges(const Node& node, std::span<const Range> operand) {
  const auto& tables = std::get<TableLookupOp>(node.op).tables;
  std::vector<Range> out(node.width);
  for (size_t i = 0; i < node.width; ++i) {
    const LookupTable& t = tables[table_index(std::get<TableLookupOp>(node.op), node.width, i)];
    const int64_t first = std::clamp(operand[i].min, t.input_min, t.input_max()) - t.input_min;
    const int64_t last = std::clamp(operand[i].max, t.input_min, t.input_max()) - t.input_min;
    const auto [lo, hi] = std::minmax_element(t.values.begin() + first, t.values.begin() + last + 1);
    out[i] = {*lo, *hi};
    FHENN_CHECK(out[i].min > -kMaxMagnitude && out[i].max < kMaxMagnitude, "node '", node.name,
                "': a table entry exceeds 62 bits");
  }
  return out;
}

}  // namespace

int Range::bits() const {
  return range_bits(min, max);
}

Range Range::hull(const Range& other) const {
  return {std::min(min, other.min), std::max(max, other.max)};
}

std::vector<std::vector<Range>> worst_case_element_ranges(const std::vector<Node>& nodes) {
  std::vector<std::vector<Range>> ranges(nodes.size());
  for (size_t id = 0; id < nodes.size(); ++id) {
    const Node& node = nodes[id];
    const std::span<const Range> operand =
        node.operands.empty() ? std::span<const Range>() : std::span<const Range>(ranges[node.operands[0]]);
    switch (traits(node.kind()).range_rule) {
      case RangeRule::declared:
        ranges[id].assign(node.width, std::get<InputOp>(node.op).range);
        break;
      case RangeRule::linear_extremes:
        ranges[id] = linear_ranges(node, nodes, ranges);
        break;
      case RangeRule::monotone_map:
        ranges[id] = round_ranges(node, operand);
        break;
      case RangeRule::table_extremes:
        ranges[id] = table_ranges(node, operand);
        break;
      case RangeRule::same_as_operand:
        ranges[id].assign(operand.begin(), operand.end());
        break;
    }
  }
  return ranges;
}

int NodeRange::bits() const {
  return std::max(values.bits(), before_constant.bits());
}

NodeRange node_range(const Node& node, std::span<const Range> element_ranges) {
  FHENN_ASSERT_EQ(element_ranges.size(), node.width);
  const auto* dot = std::get_if<DotProductOp>(&node.op);
  const bool has_constants = dot != nullptr && !dot->constants.empty();
  NodeRange out{element_ranges[0], element_ranges[0]};
  for (size_t i = 0; i < element_ranges.size(); ++i) {
    const Range r = element_ranges[i];
    out.values = out.values.hull(r);
    const Range sum = has_constants ? Range{r.min - dot->constants[i], r.max - dot->constants[i]} : r;
    out.before_constant = i == 0 ? sum : out.before_constant.hull(sum);
  }
  return out;
}

SeenRanges::SeenRanges(const Circuit& circuit)
    : circuit_(&circuit),
      ranges_(circuit.node_values_size(),
              Range{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {}

void SeenRanges::observe(std::span<const int64_t> node_values) {
  FHENN_ASSERT_EQ(node_values.size(), ranges_.size());
  for (size_t k = 0; k < ranges_.size(); ++k) {
    ranges_[k].min = std::min(ranges_[k].min, node_values[k]);
    ranges_[k].max = std::max(ranges_[k].max, node_values[k]);
  }
  ++samples_;
}

void SeenRanges::merge(const SeenRanges& other) {
  FHENN_ASSERT_EQ(other.ranges_.size(), ranges_.size());
  for (size_t k = 0; k < ranges_.size(); ++k) ranges_[k] = ranges_[k].hull(other.ranges_[k]);
  samples_ += other.samples_;
}

std::span<const Range> SeenRanges::element_ranges(NodeId id) const {
  return std::span<const Range>(ranges_).subspan(circuit_->value_offset(id), circuit_->node(id).width);
}

namespace {

// Element evaluations (weights, and one per node element) that one exhaustive_element_ranges may spend: about a
// second. The demo network over all 16 inputs needs 2 * 10^5; the same 2 -> 100 -> 100 -> 2 network over 2^16
// inputs 7 * 10^8. Beyond it the worst-case bounds are used, so that no circuit file can make a tool run for hours.
constexpr uint64_t kMaxExhaustiveWork = uint64_t{1} << 30;

// The element evaluations one evaluate_nodes performs.
uint64_t evaluation_cost(const Circuit& circuit) {
  uint64_t cost = 0;
  for (const Node& node : circuit.nodes()) {
    cost += node.width;
    if (traits(node.kind()).is_linear) cost += node.width * LinearTerms(node, circuit.nodes()).max_terms();
  }
  return cost;
}

// The number of distinct inputs (product over input elements of their range sizes), or nullopt above `limit`.
std::optional<uint64_t> input_space_size(const Circuit& circuit, uint64_t limit) {
  uint64_t count = 1;
  for (const NodeId id : circuit.inputs()) {
    const Range range = std::get<InputOp>(circuit.node(id).op).range;
    const uint64_t levels = static_cast<uint64_t>(range.max - range.min) + 1;
    for (size_t e = 0; e < circuit.node(id).width; ++e) {
      if (levels > limit || count > limit / levels) return std::nullopt;
      count *= levels;
    }
  }
  return count;
}

}  // namespace

std::optional<std::vector<std::vector<Range>>> exhaustive_element_ranges(const Circuit& circuit, uint64_t max_inputs) {
  const auto inputs = input_space_size(circuit, max_inputs);
  if (!inputs || evaluation_cost(circuit) > kMaxExhaustiveWork / *inputs) return std::nullopt;
  std::vector<Range> input_ranges;  // per input element, in input order
  for (const NodeId id : circuit.inputs()) {
    input_ranges.insert(input_ranges.end(), circuit.node(id).width, std::get<InputOp>(circuit.node(id).op).range);
  }
  std::vector<int64_t> input(input_ranges.size());
  for (size_t e = 0; e < input.size(); ++e) input[e] = input_ranges[e].min;
  std::vector<int64_t> values(circuit.node_values_size());
  SeenRanges seen(circuit);
  while (true) {
    evaluate_nodes(circuit, input, values);
    seen.observe(values);
    size_t e = 0;  // odometer: the next input, or the end
    for (; e < input.size() && input[e] == input_ranges[e].max; ++e) input[e] = input_ranges[e].min;
    if (e == input.size()) break;
    ++input[e];
  }
  std::vector<std::vector<Range>> ranges(circuit.nodes().size());
  for (NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const auto observed = seen.element_ranges(id);
    ranges[id].assign(observed.begin(), observed.end());
  }
  return ranges;
}

std::vector<std::vector<Range>> guaranteed_element_ranges(const Circuit& circuit) {
  if (auto exact = exhaustive_element_ranges(circuit)) return *std::move(exact);
  return worst_case_element_ranges(circuit.nodes());
}

}  // namespace fhenn::ir
