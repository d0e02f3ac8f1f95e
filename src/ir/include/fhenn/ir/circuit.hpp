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
  // Width as the reference measures it (Concrete ML documentation): unsigned width of max when min >= 0, else signed
  // width.
  int bits() const;
  Range hull(const Range& other) const;
  bool operator==(const Range&) const = default;
};

// A node's shape, without the batch: (F) for features, (C, H, W) for feature maps (row-major, channel first).
using Shape = std::vector<size_t>;

// The number of elements of a shape (1 for the empty shape).
size_t shape_elements(const Shape& shape);
std::string shape_text(const Shape& shape);  // "2x28x28"

// Every node holds a tensor of `width` integers with a shape. Ops, with the value of element i (formulas
// (C1)-(C10) of docs/circuit.md):
//   input         x[i], a client-encrypted integer in the declared range
//   dot_product   sum_j W[i][j] * operand[j] + c[i]          clear integer weights W (operand flattened), constants c
//   round         round_msbs(operand[i], shift)              keep the most significant bits (quant/rounding.hpp)
//   table_lookup  T_t[clamp(operand[i], lo_t, hi_t) - lo_t]  t = i / (width / tables): one table per element,
//                                                            per channel (a block of H*W elements) or shared
//   output        operand[i], returned to the client
//   conv2d        sum over the kernel window of K[co][ci][ky][kx] * operand[ci][iy][ix] + c[co], positions outside
//                 the operand reading their channel's pad value (stride, dilation, padding, groups)
//   weighted_sum  sum_k m_k * operand_k[i] + c                  operands of one shape, clear integer multipliers
//   reshape       operand[i] under another shape (flatten)
//   concat        the operands laid end to end along `axis`
//   slice         operand[start + step * index] per axis (strided windows, e.g. for max pooling)
// dot_product, conv2d, weighted_sum, reshape, concat and slice are linear: every element is a sum of clear
// integer multiples of operand elements plus a clear constant (linear_terms.hpp enumerates them), so that one
// rule gives their ranges, and ciphertexts need no bootstrap for them.
enum class OpKind : uint8_t {
  input = 0,
  dot_product = 1,
  round = 2,
  table_lookup = 3,
  output = 4,
  conv2d = 5,
  weighted_sum = 6,
  reshape = 7,
  concat = 8,
  slice = 9,
};
inline constexpr int kOpKindCount = 10;

// How a node's output range follows from its operands' ranges.
enum class RangeRule : uint8_t {
  declared,         // input: the range the client promises
  linear_extremes,  // linear ops: per element, sum of each term's extreme products plus the constant
  monotone_map,     // round: the endpoints mapped (round_msbs is non-decreasing)
  table_extremes,   // table lookup: min and max of the entries the operand range can reach
  same_as_operand,  // output
};

inline constexpr int kVariadic = -1;  // arity of ops that take one or more operands

struct OpTraits {
  std::string_view name;
  int arity;             // number of operands, or kVariadic (at least one)
  bool needs_bootstrap;  // encrypted cost: a programmable bootstrap per element
  RangeRule range_rule;
  bool is_integer_node;  // counts for the accumulator size (output, reshape, concat, slice re-expose values)
  bool is_linear;        // every element a clear linear combination of operand elements (linear_terms.hpp)
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
// tables.size() divides the node's width; element i reads tables[i / (width / tables.size())].
struct TableLookupOp {
  std::vector<LookupTable> tables;
  bool operator==(const TableLookupOp&) const = default;
};
struct OutputOp {
  bool operator==(const OutputOp&) const = default;
};
// A 2-D convolution of a (C_in, H, W) operand into (out_channels, H_out, W_out), ONNX Conv semantics:
//   H_out = (H + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1   (likewise W_out)
//   out[co][oy][ox] = c[co] + sum_{ci in co's group, ky, kx} K[co][ci][ky][kx] * in[g*C_in/groups + ci][iy][ix],
//   iy = oy * stride_h - pad_top + ky * dilation_h, positions outside the operand reading pad_value(channel).
// The kernel is stored, never a dense matrix: memory grows with the kernel, not with the image.
struct Conv2dOp {
  size_t out_channels = 1;
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t groups = 1;
  // What the border holds (each input quantizer's zero point, so that it stands for zero): one value for every
  // operand channel, or one per operand channel.
  std::vector<int64_t> pad_values{0};
  std::vector<int64_t> kernel;     // out_channels x (C_in / groups) x kernel_h x kernel_w, row-major
  std::vector<int64_t> constants;  // out_channels entries, or empty for none
  int64_t pad_value(size_t channel) const { return pad_values.size() == 1 ? pad_values[0] : pad_values[channel]; }
  bool operator==(const Conv2dOp&) const = default;
};
struct WeightedSumOp {
  std::vector<int64_t> multipliers;  // one per operand
  int64_t constant = 0;
  bool operator==(const WeightedSumOp&) const = default;
};
struct ReshapeOp {  // the new shape is the node's
  bool operator==(const ReshapeOp&) const = default;
};
struct ConcatOp {
  size_t axis = 0;
  bool operator==(const ConcatOp&) const = default;
};
// Along each axis a: index k of the node reads operand index starts[a] + steps[a] * k (k < shape[a]).
struct SliceOp {
  std::vector<size_t> starts;
  std::vector<size_t> steps;
  bool operator==(const SliceOp&) const = default;
};

// Alternatives in the order of OpKind.
using OpPayload = std::variant<InputOp, DotProductOp, RoundOp, TableLookupOp, OutputOp, Conv2dOp, WeightedSumOp,
                               ReshapeOp, ConcatOp, SliceOp>;

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
  // Empty when built: Circuit::from_nodes fills in the operand's shape (round, table lookup, output) or (width).
  Shape shape;

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

// Throws fhenn::Error naming the node for: a bad operand count or a forward reference, widths or shapes that
// disagree (weights vs operand, constants, tables, a kernel larger than its padded input, operands of a sum or
// a concatenation), a round shift outside 0..62, empty tables, duplicate or empty names, no input or no output,
// an inverted input range, a worst-case value wider than 62 bits, or a circuit above kMaxCircuitElements or
// kMaxCircuitValues. Expects the shapes filled in (fill_shapes).
void verify_circuit(const std::vector<Node>& nodes);
// Gives every node with an empty shape its natural one: its operand's for round, table lookup and output, (width)
// otherwise. Throws fhenn::Error for an operand that does not come first.
void fill_shapes(std::vector<Node>& nodes);

// The output shape of a convolution of an `input`-shaped operand; throws fhenn::Error naming `node` for an operand
// that is not (C, H, W), channels or groups that do not divide, or a kernel larger than the padded input.
Shape conv2d_output_shape(const Conv2dOp& op, const Shape& input, std::string_view node);
// The output shape of concatenating `inputs` along `axis`; throws fhenn::Error naming `node` on a mismatch.
Shape concat_output_shape(const std::vector<Shape>& inputs, size_t axis, std::string_view node);

// Element i of a table lookup node reads this table.
inline size_t table_index(const TableLookupOp& op, size_t width, size_t element) {
  return element / (width / op.tables.size());
}

// Builds a circuit node by node; build() verifies it.
class CircuitBuilder {
 public:
  NodeId add_input(std::string name, size_t width, Range range);
  NodeId add_dot_product(std::string name, NodeId operand, size_t width, std::vector<int64_t> weights,
                         std::vector<int64_t> constants = {});
  NodeId add_round(std::string name, NodeId operand, int shift);
  NodeId add_table_lookup(std::string name, NodeId operand, std::vector<LookupTable> tables);
  NodeId add_output(std::string name, NodeId operand);
  NodeId add_input(std::string name, Shape shape, Range range);
  NodeId add_conv2d(std::string name, NodeId operand, Conv2dOp op);
  NodeId add_weighted_sum(std::string name, std::vector<NodeId> operands, std::vector<int64_t> multipliers,
                          int64_t constant = 0);
  NodeId add_reshape(std::string name, NodeId operand, Shape shape);
  NodeId add_concat(std::string name, std::vector<NodeId> operands, size_t axis);
  // shape: the count along each axis; op: the start and step along each axis.
  NodeId add_slice(std::string name, NodeId operand, SliceOp op, Shape shape);
  const Shape& shape_of(NodeId id) const;
  Circuit build() &&;
  // The nodes added so far (e.g. to compute worst-case ranges while building).
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  NodeId add(std::string name, std::vector<NodeId> operands, size_t width, OpPayload op, Shape shape = {});
  size_t width_of(NodeId id) const;
  std::vector<Node> nodes_;
};

}  // namespace fhenn::ir
