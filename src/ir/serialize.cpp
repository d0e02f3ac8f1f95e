// (De)serialization of circuits (see serialize.hpp).
#include "fhenn/ir/serialize.hpp"

#include <cstring>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::ir {
namespace {

constexpr uint64_t kMaxNodes = 1 << 20;
// The fewest bytes a node takes: op code, name length, operand count, width (an output node has no payload).
constexpr size_t kMinNodeBytes = 1 + 8 + 8 + 8;
// The fewest bytes a lookup table takes: its input_min and its entry count.
constexpr size_t kMinTableBytes = 8 + 8;

void write_payload(ByteWriter& out, const Node& node) {
  switch (node.kind()) {
    case OpKind::input: {
      const Range r = std::get<InputOp>(node.op).range;
      out.i64(r.min);
      out.i64(r.max);
      break;
    }
    case OpKind::dot_product: {
      const auto& op = std::get<DotProductOp>(node.op);
      out.vec(op.weights);
      out.vec(op.constants);
      break;
    }
    case OpKind::round:
      out.i64(std::get<RoundOp>(node.op).shift);
      break;
    case OpKind::table_lookup: {
      const auto& tables = std::get<TableLookupOp>(node.op).tables;
      out.u64(tables.size());
      for (const LookupTable& t : tables) {
        out.i64(t.input_min);
        out.vec(t.values);
      }
      break;
    }
    case OpKind::output:
      break;
  }
}

OpPayload read_payload(ByteReader& in, OpKind kind, SizeBudget& budget) {
  switch (kind) {
    case OpKind::input: {
      const int64_t min = in.i64();
      return InputOp{Range{min, in.i64()}};
    }
    case OpKind::dot_product: {
      auto weights = in.vec<int64_t>(kMaxCircuitElements, budget);
      return DotProductOp{std::move(weights), in.vec<int64_t>(kMaxCircuitElements, budget)};
    }
    case OpKind::round: {
      const int64_t shift = in.i64();
      FHENN_CHECK(shift >= 0 && shift <= 62, in.what(), " is corrupted: a rounding shift of ", shift);
      return RoundOp{static_cast<int>(shift)};
    }
    case OpKind::table_lookup: {
      TableLookupOp op;
      const uint64_t tables = in.count(kMaxCircuitElements, kMinTableBytes);
      budget.charge(tables);
      op.tables.resize(tables);
      for (LookupTable& t : op.tables) {
        t.input_min = in.i64();
        t.values = in.vec<int64_t>(kMaxCircuitElements, budget);
      }
      return op;
    }
    case OpKind::output:
      return OutputOp{};
  }
  fail(in.what(), " is corrupted: unknown op");
}

}  // namespace

void write_circuit(ByteWriter& out, const Circuit& circuit) {
  out.u64(circuit.nodes().size());
  for (const Node& node : circuit.nodes()) {
    out.u8(static_cast<uint8_t>(node.kind()));
    out.str(node.name);
    out.vec(node.operands);
    out.u64(node.width);
    write_payload(out, node);
  }
}

Circuit read_circuit(ByteReader& in) {
  // Charged while reading, before anything is allocated: widths (what the range analysis and the executors
  // allocate per node) and the weights, constants, tables and entries that follow.
  SizeBudget budget(kMaxCircuitElements, concat("the circuit in ", in.what()));
  SizeBudget values(kMaxCircuitValues, concat("the circuit in ", in.what(), " (the sum of its node widths)"));
  std::vector<Node> nodes(in.count(kMaxNodes, kMinNodeBytes));
  for (Node& node : nodes) {
    const uint8_t kind = in.u8();
    FHENN_CHECK(kind < kOpKindCount, in.what(), " is corrupted: op code ", int{kind}, " is not an op");
    node.name = in.str(4096);
    node.operands = in.vec<NodeId>(4);
    node.width = in.u64();
    values.charge(node.width);
    budget.charge(node.width);
    node.op = read_payload(in, static_cast<OpKind>(kind), budget);
  }
  try {
    return Circuit::from_nodes(std::move(nodes));
  } catch (const Error& e) {
    fail(in.what(), " holds an invalid circuit: ", e.what());
  }
}

std::vector<uint8_t> serialize_circuit(const Circuit& circuit) {
  ByteWriter out;
  write_circuit(out, circuit);
  return seal_artifact(kCircuitArtifactKind, kCircuitFormatVersion, out.bytes());
}

Circuit deserialize_circuit(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kCircuitArtifactKind, kCircuitFormatVersion, what);
  ByteReader in(payload, what);
  Circuit circuit = read_circuit(in);
  in.expect_end();
  return circuit;
}

}  // namespace fhenn::ir
