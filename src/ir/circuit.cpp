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
    {"input", 0, false, RangeRule::declared, true},
    {"dot_product", 1, false, RangeRule::linear_extremes, true},
    {"round", 1, true, RangeRule::monotone_map, true},
    {"table_lookup", 1, true, RangeRule::table_extremes, true},
    {"output", 1, false, RangeRule::same_as_operand, false},
}};

constexpr size_t kMaxWidth = size_t{1} << 24;

void verify_operands(const Node& node, size_t id, const std::vector<Node>& nodes) {
  const OpTraits& t = traits(node.kind());
  FHENN_CHECK(static_cast<int>(node.operands.size()) == t.arity, "node '", node.name, "' (", t.name, ") has ",
              node.operands.size(), " operands; a ", t.name, " takes ", t.arity);
  for (NodeId operand : node.operands) {
    FHENN_CHECK(operand < id, "node '", node.name, "' reads node ", operand,
                ", which does not come before it: nodes must be in topological order");
    FHENN_CHECK(nodes[operand].kind() != OpKind::output, "node '", node.name, "' reads the output node '",
                nodes[operand].name, "': read the node the output exposes instead");
  }
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
      FHENN_CHECK(tables.size() == node.width, "table lookup '", node.name, "' has ", tables.size(), " tables for ",
                  node.width, " elements: one table per element");
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
  }
}

// What a node counts towards kMaxCircuitElements: its width, weights, constants, tables and table entries.
uint64_t node_elements(const Node& node) {
  uint64_t elements = node.width;
  if (const auto* dot = std::get_if<DotProductOp>(&node.op)) elements += dot->weights.size() + dot->constants.size();
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
  verify_operands(node, id, nodes);
  verify_payload(node, nodes);
}

}  // namespace

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

NodeId CircuitBuilder::add(std::string name, std::vector<NodeId> operands, size_t width, OpPayload op) {
  nodes_.push_back(Node{std::move(name), std::move(operands), width, std::move(op)});
  return static_cast<NodeId>(nodes_.size() - 1);
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

Circuit CircuitBuilder::build() && {
  return Circuit::from_nodes(std::move(nodes_));
}

}  // namespace fhenn::ir
