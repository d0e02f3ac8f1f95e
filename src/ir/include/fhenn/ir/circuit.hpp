// The integer circuit: a closed op set, nodes in topological order, and a builder that verifies what it builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fhenn::ir {

// An inclusive integer range [min, max].
struct Range {
  int64_t min = 0;
  int64_t max = 0;

  bool contains(int64_t v) const { return min <= v && v <= max; }
  // Width as the reference measures it (Concrete ML documentation): unsigned width of max when min >= 0, else signed width.
  int bits() const;
  Range hull(const Range& other) const;
  bool operator==(const Range&) const = default;
};

// Every node holds a vector of `width` integers (a layer of neurons, or the model's features).
// Ops, with the value of element i (formulas (C1)-(C5) of docs/circuit.md):
//   input         x[i], a client-encrypted integer in the declared range
//   dot_product   sum_j W[i][j] * operand[j] + c[i]          clear integer weights W and constants c
//   round         round_msbs(operand[i], shift)              keep the most significant bits (quant/rounding.hpp)
//   table_lookup  T_i[clamp(operand[i], lo_i, hi_i) - lo_i]   one explicit table per element
//   output        operand[i], returned to the client
enum class OpKind : uint8_t { input = 0, dot_product = 1, round = 2, table_lookup = 3, output = 4 };
inline constexpr int kOpKindCount = 5;

// How a node's output range follows from its operand's range.
enum class RangeRule : uint8_t {
  declared,         // input: the range the client promises
  linear_extremes,  // dot product: per element, sum of the extreme products plus the constant
  monotone_map,     // round: the endpoints mapped (round_msbs is non-decreasing)
  table_extremes,   // table lookup: min and max of the entries the operand range can reach
  same_as_operand,  // output
};

struct OpTraits {
  std::string_view name;
  int arity;             // number of operands
  bool needs_bootstrap;  // encrypted cost: a programmable bootstrap per element
  RangeRule range_rule;
  bool is_integer_node;  // counts for the accumulator size (output only re-exposes its operand)
};

const OpTraits& traits(OpKind kind);
// The kind whose traits name is `name`; throws fhenn::Error for an unknown name.
OpKind op_kind_from_name(std::string_view name);

// A lookup table over [input_min, input_min + size - 1], saturating outside it: inputs below read the first
// entry, inputs above the last. The compiler trims constant ends of monotone functions this way, so that a
// table stays small while it is still exact for every integer input.
struct LookupTable {
  int64_t input_min = 0;
  std::vector<int64_t> values;

  int64_t input_max() const { return input_min + static_cast<int64_t>(values.size()) - 1; }
  int64_t at(int64_t x) const {
    if (x <= input_min) return values.front();
    const int64_t index = x - input_min;
    return index >= static_cast<int64_t>(values.size()) ? values.back() : values[static_cast<size_t>(index)];
  }
  bool operator==(const LookupTable&) const = default;
};

struct InputOp {
  Range range;  // every element lies in it
  bool operator==(const InputOp&) const = default;
};
struct DotProductOp {
  std::vector<int64_t> weights;    // width x operand width, row-major
  std::vector<int64_t> constants;  // width entries, or empty for none
  bool operator==(const DotProductOp&) const = default;
};
struct RoundOp {
  int shift = 0;  // low bits dropped, 0..62
  bool operator==(const RoundOp&) const = default;
};
struct TableLookupOp {
  std::vector<LookupTable> tables;  // one per element
  bool operator==(const TableLookupOp&) const = default;
};
struct OutputOp {
  bool operator==(const OutputOp&) const = default;
};

// Alternatives in the order of OpKind.
using OpPayload = std::variant<InputOp, DotProductOp, RoundOp, TableLookupOp, OutputOp>;

using NodeId = uint32_t;

// Size limits of a circuit, far above every real one (the demo's 2 -> 100 -> 100 -> 2 network holds about 10^4
// elements, a CNN on 28x28 images lowered to dense layers a few 10^7), so that a small file can never make the
// range analysis or an executor allocate without bound. verify_circuit checks them, read_circuit while reading.
//   kMaxCircuitElements: widths, weights, constants, tables and table entries, summed over the nodes;
//   kMaxCircuitValues: the node widths summed: the integers one sample computes (the executors' buffers and the
//   range analysis hold one value or one range per integer).
inline constexpr uint64_t kMaxCircuitElements = uint64_t{1} << 26;
inline constexpr uint64_t kMaxCircuitValues = uint64_t{1} << 24;

struct Node {
  std::string name;  // e.g. "fc1.accumulator": unique, used in every message about the node
  std::vector<NodeId> operands;
  size_t width = 0;
  OpPayload op;

  OpKind kind() const { return static_cast<OpKind>(op.index()); }
  bool operator==(const Node&) const = default;
};

// Nodes in topological order (operands before users). Inputs are consumed in the order of the input nodes,
// outputs produced in the order of the output nodes. Construct with CircuitBuilder or deserialize().
class Circuit {
 public:
  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(NodeId id) const { return nodes_[id]; }
  const std::vector<NodeId>& inputs() const { return inputs_; }
  const std::vector<NodeId>& outputs() const { return outputs_; }
  size_t input_width() const { return input_width_; }
  size_t output_width() const { return output_width_; }
  // Each node's first element in a flat buffer of all node values (node_values_size() in all).
  size_t value_offset(NodeId id) const { return offsets_[id]; }
  size_t node_values_size() const { return total_values_; }
  // The node named `name`, or throws fhenn::Error.
  NodeId find(std::string_view name) const;
  bool operator==(const Circuit& other) const { return nodes_ == other.nodes_; }

  // Checks the structure and the ranges (verify_circuit) and indexes the nodes; throws fhenn::Error.
  static Circuit from_nodes(std::vector<Node> nodes);

 private:
  std::vector<Node> nodes_;
  std::vector<NodeId> inputs_;
  std::vector<NodeId> outputs_;
  std::vector<size_t> offsets_;
  size_t total_values_ = 0;
  size_t input_width_ = 0;
  size_t output_width_ = 0;
};

// Throws fhenn::Error naming the node for: a bad operand count or a forward reference, widths that
// disagree (weights vs operand, constants, tables), a round shift outside 0..62, empty tables, duplicate or
// empty names, no input or no output, an inverted input range, a worst-case value wider than 62 bits, or a
// circuit above kMaxCircuitElements or kMaxCircuitValues.
void verify_circuit(const std::vector<Node>& nodes);

// Builds a circuit node by node; build() verifies it.
class CircuitBuilder {
 public:
  NodeId add_input(std::string name, size_t width, Range range);
  NodeId add_dot_product(std::string name, NodeId operand, size_t width, std::vector<int64_t> weights,
                         std::vector<int64_t> constants = {});
  NodeId add_round(std::string name, NodeId operand, int shift);
  NodeId add_table_lookup(std::string name, NodeId operand, std::vector<LookupTable> tables);
  NodeId add_output(std::string name, NodeId operand);
  Circuit build() &&;
  // The nodes added so far (e.g. to compute worst-case ranges while building).
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  NodeId add(std::string name, std::vector<NodeId> operands, size_t width, OpPayload op);
  size_t width_of(NodeId id) const;
  std::vector<Node> nodes_;
};

}  // namespace fhenn::ir
