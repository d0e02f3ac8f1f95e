// (De)serialization of circuits (see serialize.hpp).
#include "fhenn/ir/serialize.hpp"

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::ir {
namespace {

constexpr uint64_t kMaxNodes = 1 << 20;
constexpr uint64_t kMaxElements = uint64_t{1} << 28;

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

OpPayload read_payload(ByteReader& in, OpKind kind) {
  switch (kind) {
    case OpKind::input: {
      const int64_t min = in.i64();
      return InputOp{Range{min, in.i64()}};
    }
    case OpKind::dot_product: {
      auto weights = in.vec<int64_t>(kMaxElements);
      return DotProductOp{std::move(weights), in.vec<int64_t>(kMaxElements)};
    }
    case OpKind::round: {
      const int64_t shift = in.i64();
      FHENN_CHECK(shift >= 0 && shift <= 62, in.what(), " is corrupted: a rounding shift of ", shift);
      return RoundOp{static_cast<int>(shift)};
    }
    case OpKind::table_lookup: {
      TableLookupOp op;
      op.tables.resize(in.count(kMaxElements, 16));
      for (LookupTable& t : op.tables) {
        t.input_min = in.i64();
        t.values = in.vec<int64_t>(kMaxElements);
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
  std::vector<Node> nodes(in.count(kMaxNodes, 1));
  for (Node& node : nodes) {
    const uint8_t kind = in.u8();
    FHENN_CHECK(kind < kOpKindCount, in.what(), " is corrupted: op code ", int{kind}, " is not an op");
    node.name = in.str(4096);
    node.operands = in.vec<NodeId>(4);
    node.width = in.u64();
    node.op = read_payload(in, static_cast<OpKind>(kind));
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
