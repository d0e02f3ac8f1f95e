// The integer circuit: op traits, the builder and the verifier (see circuit.hpp).
#include "fhenn/ir/circuit.hpp"

#include <array>
#include <set>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/ranges.hpp"

namespace fhenn::ir {
namespace {

static_assert(std::variant_size_v<OpPayload> == kOpKindCount);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(OpKind::table_lookup), OpPayload>, TableLookupOp>);

constexpr std::array<OpTraits, kOpKindCount> kTraits = {{
    {"input", 0, false, RangeRule::declared, true, false},
    {"dot_product", 1, false, RangeRule::linear_extremes, true, true},
    {"round", 1, true, RangeRule::monotone_map, true, false},
    {"table_lookup", 1, true, RangeRule::table_extremes, true, false},
    {"output", 1, false, RangeRule::same_as_operand, false, false},
    {"conv2d", 1, false, RangeRule::linear_extremes, true, true},
    {"weighted_sum", kVariadic, false, RangeRule::linear_extremes, true, true},
    {"reshape", 1, false, RangeRule::linear_extremes, false, true},
    {"concat", kVariadic, false, RangeRule::linear_extremes, false, true},
    {"slice", 1, false, RangeRule::linear_extremes, false, true},
}};

constexpr size_t kMaxWidth = size_t{1} << 24;
constexpr size_t kMaxOperands = 1024;
constexpr size_t kMaxRank = 8;
constexpr size_t kMaxConvParameter = size_t{1} << 16;  // strides, dilations, paddings, kernel sides, groups

void verify_operands(const Node& node, size_t id, const std::vector<Node>& nodes) {
  const OpTraits& t = traits(node.kind());
  if (t.arity == kVariadic) {
    FHENN_CHECK(!node.operands.empty() && node.operands.size() <= kMaxOperands, "node '", node.name, "' (", t.name,
                ") has ", node.operands.size(), " operands; a ", t.name, " takes 1 to ", kMaxOperands);
  } else {
    FHENN_CHECK(static_cast<int>(node.operands.size()) == t.arity, "node '", node.name, "' (", t.name, ") has ",
                node.operands.size(), " operands; a ", t.name, " takes ", t.arity);
  }
  for (NodeId operand : node.operands) {
    FHENN_CHECK(operand < id, "node '", node.name, "' reads node ", operand,
                ", which does not come before it: nodes must be in topological order");
    FHENN_CHECK(nodes[operand].kind() != OpKind::output, "node '", node.name, "' reads the output node '",
                nodes[operand].name, "': read the node the output exposes instead");
  }
}

void verify_conv2d(const Node& node, const std::vector<Node>& nodes) {
  const auto& op = std::get<Conv2dOp>(node.op);
  const Shape& input = nodes[node.operands[0]].shape;
  for (size_t p : {op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.dilation_h, op.dilation_w, op.groups}) {
    FHENN_CHECK(p >= 1 && p <= kMaxConvParameter, "convolution '", node.name,
                "': kernel sides, strides, dilations and groups must be 1..", kMaxConvParameter, ", got ", p);
  }
  for (size_t p : {op.pad_top, op.pad_left, op.pad_bottom, op.pad_right}) {
    FHENN_CHECK(p <= kMaxConvParameter, "convolution '", node.name, "': a padding of ", p, " (at most ",
                kMaxConvParameter, ")");
  }
  const Shape expected = conv2d_output_shape(op, input, node.name);
  FHENN_CHECK(node.shape == expected, "convolution '", node.name, "' has shape ", shape_text(node.shape),
              "; its operand and kernel give ", shape_text(expected));
  const uint64_t kernel = checked_mul(checked_mul(op.out_channels, input[0] / op.groups, "a kernel"),
                                      checked_mul(op.kernel_h, op.kernel_w, "a kernel"), "a kernel");
  FHENN_CHECK(op.kernel.size() == kernel, "convolution '", node.name, "' has ", op.kernel.size(), " kernel weights; ",
              op.out_channels, " x ", input[0] / op.groups, " x ", op.kernel_h, " x ", op.kernel_w, " need ", kernel);
  FHENN_CHECK(op.constants.empty() || op.constants.size() == op.out_channels, "convolution '", node.name, "' has ",
              op.constants.size(), " constants for ", op.out_channels, " output channels");
  FHENN_CHECK(op.pad_values.size() == 1 || op.pad_values.size() == input[0], "convolution '", node.name, "' has ",
              op.pad_values.size(), " pad values for ", input[0], " operand channels: give one, or one per channel");
  for (int64_t pad : op.pad_values) {
    FHENN_CHECK(range_bits(pad, pad) <= 62, "convolution '", node.name, "' pads with a value wider than 62 bits");
  }
}

void verify_slice(const Node& node, const Node& operand) {
  const auto& op = std::get<SliceOp>(node.op);
  const size_t rank = operand.shape.size();
  FHENN_CHECK(node.shape.size() == rank && op.starts.size() == rank && op.steps.size() == rank, "slice '", node.name,
              "' of a rank-", rank, " operand has shape ", shape_text(node.shape), ", ", op.starts.size(),
              " starts and ", op.steps.size(), " steps: give one of each per axis");
  for (size_t a = 0; a < rank; ++a) {
    const uint64_t step = op.steps[a];
    FHENN_CHECK(step >= 1 && step <= kMaxWidth, "slice '", node.name, "': axis ", a, " has step ", step);
    const uint64_t last = checked_add(op.starts[a], checked_mul(step, node.shape[a] - 1, "a slice"), "a slice");
    FHENN_CHECK(last < operand.shape[a], "slice '", node.name, "' reads index ", last, " of axis ", a, ", which has ",
                operand.shape[a], " entries");
  }
}

void verify_shape(const Node& node) {
  FHENN_CHECK(!node.shape.empty() && node.shape.size() <= kMaxRank, "node '", node.name, "' has a rank-",
              node.shape.size(), " shape: must be 1..", kMaxRank);
  uint64_t elements = 1;
  for (size_t d : node.shape) {
    FHENN_CHECK(d >= 1 && d <= kMaxWidth, "node '", node.name, "' has shape ", shape_text(node.shape),
                ": every dimension must be 1..", kMaxWidth);
    elements = checked_mul(elements, d, "a shape");
  }
  FHENN_CHECK(elements == node.width, "node '", node.name, "' has width ", node.width, " but shape ",
              shape_text(node.shape));
}

void verify_payload(const Node& node, const std::vector<Node>& nodes) {
  const size_t operand_width = node.operands.empty() ? 0 : nodes[node.operands[0]].width;
  switch (node.kind()) {
    case OpKind::input: {
      const Range r = std::get<InputOp>(node.op).range;
      FHENN_CHECK(r.min <= r.max, "input '", node.name, "' declares the empty range [", r.min, ", ", r.max, "]");
      FHENN_CHECK(r.bits() <= 62, "input '", node.name, "' declares a range wider than 62 bits");
      break;
    }
    case OpKind::dot_product: {
      const auto& op = std::get<DotProductOp>(node.op);
      FHENN_CHECK(op.weights.size() == node.width * operand_width, "dot product '", node.name, "' has ",
                  op.weights.size(), " weights; ", node.width, " outputs x ", operand_width, " inputs need ",
                  node.width * operand_width);
      FHENN_CHECK(op.constants.empty() || op.constants.size() == node.width, "dot product '", node.name, "' has ",
                  op.constants.size(), " constants for ", node.width, " outputs");
      break;
    }
    case OpKind::round: {
      const int shift = std::get<RoundOp>(node.op).shift;
      FHENN_CHECK(shift >= 0 && shift <= 62, "round '", node.name, "' drops ", shift, " bits: must be 0..62");
      FHENN_CHECK(node.width == operand_width, "round '", node.name, "' has width ", node.width,
                  " but its operand has ", operand_width);
      break;
    }
    case OpKind::table_lookup: {
      const auto& tables = std::get<TableLookupOp>(node.op).tables;
      FHENN_CHECK(node.width == operand_width, "table lookup '", node.name, "' has width ", node.width,
                  " but its operand has ", operand_width);
      FHENN_CHECK(!tables.empty() && tables.size() <= node.width && node.width % tables.size() == 0, "table lookup '",
                  node.name, "' has ", tables.size(), " tables for ", node.width,
                  " elements: give one table per element, per channel or one for all");
      for (size_t i = 0; i < tables.size(); ++i) {
        FHENN_CHECK(!tables[i].values.empty(), "table lookup '", node.name, "': table ", i, " is empty");
        const int64_t first = tables[i].input_min;  // checked first: input_max() must not overflow
        FHENN_CHECK(range_bits(first, first) <= 62 && range_bits(first, tables[i].input_max()) <= 62, "table lookup '",
                    node.name, "': table ", i, " covers inputs outside 62 bits");
      }
      break;
    }
    case OpKind::output:
      FHENN_CHECK(node.width == operand_width, "output '", node.name, "' has width ", node.width,
                  " but its operand has ", operand_width);
      break;
    case OpKind::conv2d:
      verify_conv2d(node, nodes);
      break;
    case OpKind::weighted_sum: {
      const auto& op = std::get<WeightedSumOp>(node.op);
      FHENN_CHECK(op.multipliers.size() == node.operands.size(), "weighted sum '", node.name, "' has ",
                  op.multipliers.size(), " multipliers for ", node.operands.size(), " operands");
      for (NodeId o : node.operands) {
        FHENN_CHECK(nodes[o].shape == node.shape, "weighted sum '", node.name, "' adds '", nodes[o].name, "' of shape ",
                    shape_text(nodes[o].shape), " to a sum of shape ", shape_text(node.shape),
                    ": its operands must have one shape");
      }
      break;
    }
    case OpKind::reshape:
      FHENN_CHECK(node.width == operand_width, "reshape '", node.name, "' gives ", node.width, " elements the shape ",
                  shape_text(node.shape), " but its operand has ", operand_width);
      break;
    case OpKind::concat: {
      std::vector<Shape> shapes;
      for (NodeId o : node.operands) shapes.push_back(nodes[o].shape);
      const Shape expected = concat_output_shape(shapes, std::get<ConcatOp>(node.op).axis, node.name);
      FHENN_CHECK(node.shape == expected, "concat '", node.name, "' has shape ", shape_text(node.shape),
                  "; its operands give ", shape_text(expected));
      break;
    }
    case OpKind::slice:
      verify_slice(node, nodes[node.operands[0]]);
      break;
  }
}

// What a node counts towards kMaxCircuitElements: its width, weights, constants, tables and table entries.
uint64_t node_elements(const Node& node) {
  uint64_t elements = node.width;
  if (const auto* dot = std::get_if<DotProductOp>(&node.op)) elements += dot->weights.size() + dot->constants.size();
  if (const auto* conv = std::get_if<Conv2dOp>(&node.op)) elements += conv->kernel.size() + conv->constants.size();
  if (const auto* sum = std::get_if<WeightedSumOp>(&node.op)) elements += sum->multipliers.size();
  if (const auto* slice = std::get_if<SliceOp>(&node.op)) elements += slice->starts.size() + slice->steps.size();
  if (const auto* lookup = std::get_if<TableLookupOp>(&node.op)) {
    elements += lookup->tables.size();
    for (const LookupTable& t : lookup->tables) elements += t.values.size();
  }
  return elements;
}

void verify_node(const Node& node, size_t id, const std::vector<Node>& nodes) {
  FHENN_CHECK(!node.name.empty(), "node ", id, " has no name");
  FHENN_CHECK(node.width >= 1 && node.width <= kMaxWidth, "node '", node.name, "' has width ", node.width,
              ": must be 1..", kMaxWidth);
  verify_shape(node);
  verify_operands(node, id, nodes);
  verify_payload(node, nodes);
}

bool keeps_operand_shape(OpKind kind) {
  return kind == OpKind::round || kind == OpKind::table_lookup || kind == OpKind::output;
}

}  // namespace

size_t shape_elements(const Shape& shape) {
  size_t elements = 1;
  for (size_t d : shape) elements *= d;
  return elements;
}

std::string shape_text(const Shape& shape) {
  std::string text;
  for (size_t a = 0; a < shape.size(); ++a) text += (a == 0 ? "" : "x") + std::to_string(shape[a]);
  return text.empty() ? "()" : text;
}

Shape conv2d_output_shape(const Conv2dOp& op, const Shape& input, std::string_view node) {
  FHENN_CHECK(input.size() == 3, "convolution '", node, "' reads a tensor of shape ", shape_text(input),
              ": a 2-D convolution takes (channels, height, width)");
  FHENN_CHECK(op.groups >= 1 && input[0] % op.groups == 0 && op.out_channels >= 1 && op.out_channels % op.groups == 0,
              "convolution '", node, "': ", op.groups, " groups must divide its ", input[0], " input and ",
              op.out_channels, " output channels");
  const auto side = [&](size_t in, size_t pad_a, size_t pad_b, size_t kernel, size_t dilation, size_t stride,
                        const char* axis) {
    const uint64_t padded = uint64_t{in} + pad_a + pad_b;
    const uint64_t span = uint64_t{dilation} * (kernel - 1) + 1;
    FHENN_CHECK(kernel >= 1 && stride >= 1 && span <= padded, "convolution '", node, "': its kernel spans ", span, " ",
                axis, " positions but the padded input has ", padded, "; use a smaller kernel or more padding");
    return static_cast<size_t>((padded - span) / stride + 1);
  };
  return {op.out_channels, side(input[1], op.pad_top, op.pad_bottom, op.kernel_h, op.dilation_h, op.stride_h, "row"),
          side(input[2], op.pad_left, op.pad_right, op.kernel_w, op.dilation_w, op.stride_w, "column")};
}

Shape concat_output_shape(const std::vector<Shape>& inputs, size_t axis, std::string_view node) {
  FHENN_CHECK(!inputs.empty(), "concat '", node, "' has no operand");
  Shape out = inputs[0];
  FHENN_CHECK(axis < out.size(), "concat '", node, "' joins along axis ", axis, " tensors of rank ", out.size());
  for (size_t k = 1; k < inputs.size(); ++k) {
    bool same = inputs[k].size() == out.size();
    for (size_t a = 0; same && a < out.size(); ++a) same = a == axis || inputs[k][a] == out[a];
    FHENN_CHECK(same, "concat '", node, "': operand ", k, " has shape ", shape_text(inputs[k]), ", operand 0 ",
                shape_text(inputs[0]), "; they may differ along axis ", axis, " only");
    out[axis] += inputs[k][axis];
  }
  return out;
}

void fill_shapes(std::vector<Node>& nodes) {
  for (size_t id = 0; id < nodes.size(); ++id) {
    Node& node = nodes[id];
    if (!node.shape.empty()) continue;
    const bool inherit = keeps_operand_shape(node.kind()) && node.operands.size() == 1 && node.operands[0] < id;
    node.shape = inherit ? nodes[node.operands[0]].shape : Shape{node.width};
  }
}

const OpTraits& traits(OpKind kind) {
  return kTraits[static_cast<size_t>(kind)];
}

OpKind op_kind_from_name(std::string_view name) {
  for (size_t k = 0; k < kTraits.size(); ++k) {
    if (kTraits[k].name == name) return static_cast<OpKind>(k);
  }
  fail("unknown circuit op '", name, "'");
}

void verify_circuit(const std::vector<Node>& nodes) {
  std::set<std::string> names;
  bool has_input = false;
  bool has_output = false;
  SizeBudget elements(kMaxCircuitElements, "the circuit (widths, weights, constants and table entries)");
  SizeBudget values(kMaxCircuitValues, "the circuit (the sum of its node widths)");
  for (size_t id = 0; id < nodes.size(); ++id) {
    verify_node(nodes[id], id, nodes);
    elements.charge(node_elements(nodes[id]));
    values.charge(nodes[id].width);
    FHENN_CHECK(names.insert(nodes[id].name).second, "two nodes are named '", nodes[id].name, "'");
    has_input = has_input || nodes[id].kind() == OpKind::input;
    has_output = has_output || nodes[id].kind() == OpKind::output;
  }
  FHENN_CHECK(has_input, "the circuit has no input node");
  FHENN_CHECK(has_output, "the circuit has no output node");
  worst_case_element_ranges(nodes);  // throws when a worst-case value could leave 62 bits
}

Circuit Circuit::from_nodes(std::vector<Node> nodes) {
  fill_shapes(nodes);
  verify_circuit(nodes);
  Circuit c;
  c.nodes_ = std::move(nodes);
  for (NodeId id = 0; id < c.nodes_.size(); ++id) {
    const Node& node = c.nodes_[id];
    c.offsets_.push_back(c.total_values_);
    c.total_values_ += node.width;
    if (node.kind() == OpKind::input) {
      c.inputs_.push_back(id);
      c.input_width_ += node.width;
    } else if (node.kind() == OpKind::output) {
      c.outputs_.push_back(id);
      c.output_width_ += node.width;
    }
  }
  return c;
}

NodeId Circuit::find(std::string_view name) const {
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].name == name) return id;
  }
  fail("the circuit has no node named '", name, "'");
}

NodeId CircuitBuilder::add(std::string name, std::vector<NodeId> operands, size_t width, OpPayload op, Shape shape) {
  nodes_.push_back(Node{std::move(name), std::move(operands), width, std::move(op), std::move(shape)});
  fill_shapes(nodes_);
  return static_cast<NodeId>(nodes_.size() - 1);
}

const Shape& CircuitBuilder::shape_of(NodeId id) const {
  width_of(id);
  return nodes_[id].shape;
}

size_t CircuitBuilder::width_of(NodeId id) const {
  FHENN_CHECK(id < nodes_.size(), "node ", id, " does not exist yet");
  return nodes_[id].width;
}

NodeId CircuitBuilder::add_input(std::string name, size_t width, Range range) {
  return add(std::move(name), {}, width, InputOp{range});
}

NodeId CircuitBuilder::add_dot_product(std::string name, NodeId operand, size_t width, std::vector<int64_t> weights,
                                       std::vector<int64_t> constants) {
  width_of(operand);
  return add(std::move(name), {operand}, width, DotProductOp{std::move(weights), std::move(constants)});
}

NodeId CircuitBuilder::add_round(std::string name, NodeId operand, int shift) {
  return add(std::move(name), {operand}, width_of(operand), RoundOp{shift});
}

NodeId CircuitBuilder::add_table_lookup(std::string name, NodeId operand, std::vector<LookupTable> tables) {
  return add(std::move(name), {operand}, width_of(operand), TableLookupOp{std::move(tables)});
}

NodeId CircuitBuilder::add_output(std::string name, NodeId operand) {
  return add(std::move(name), {operand}, width_of(operand), OutputOp{});
}

NodeId CircuitBuilder::add_input(std::string name, Shape shape, Range range) {
  const size_t width = shape_elements(shape);
  return add(std::move(name), {}, width, InputOp{range}, std::move(shape));
}

NodeId CircuitBuilder::add_conv2d(std::string name, NodeId operand, Conv2dOp op) {
  Shape shape = conv2d_output_shape(op, shape_of(operand), name);
  const size_t width = shape_elements(shape);
  return add(std::move(name), {operand}, width, std::move(op), std::move(shape));
}

NodeId CircuitBuilder::add_weighted_sum(std::string name, std::vector<NodeId> operands,
                                        std::vector<int64_t> multipliers, int64_t constant) {
  FHENN_CHECK(!operands.empty(), "weighted sum '", name, "' has no operand");
  Shape shape = shape_of(operands[0]);
  const size_t width = shape_elements(shape);
  return add(std::move(name), std::move(operands), width, WeightedSumOp{std::move(multipliers), constant},
             std::move(shape));
}

NodeId CircuitBuilder::add_reshape(std::string name, NodeId operand, Shape shape) {
  width_of(operand);
  const size_t width = shape_elements(shape);
  return add(std::move(name), {operand}, width, ReshapeOp{}, std::move(shape));
}

NodeId CircuitBuilder::add_concat(std::string name, std::vector<NodeId> operands, size_t axis) {
  std::vector<Shape> shapes;
  for (NodeId o : operands) shapes.push_back(shape_of(o));
  Shape shape = concat_output_shape(shapes, axis, name);
  const size_t width = shape_elements(shape);
  return add(std::move(name), std::move(operands), width, ConcatOp{axis}, std::move(shape));
}

NodeId CircuitBuilder::add_slice(std::string name, NodeId operand, SliceOp op, Shape shape) {
  width_of(operand);
  const size_t width = shape_elements(shape);
  return add(std::move(name), {operand}, width, std::move(op), std::move(shape));
}

Circuit CircuitBuilder::build() && {
  return Circuit::from_nodes(std::move(nodes_));
}

}  // namespace fhenn::ir
