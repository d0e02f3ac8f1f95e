// (De)serialization of circuits (see serialize.hpp).
#include "fhenn/ir/serialize.hpp"

#include <cstring>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::ir {
namespace {

constexpr uint64_t kMaxNodes = 1 << 20;
// The fewest bytes a node takes: op code, name length, operand count, width, shape rank (an output node has no
// payload).
constexpr size_t kMinNodeBytes = 1 + 8 + 8 + 8 + 8;
// The fewest bytes a lookup table takes: its input_min and its entry count.
constexpr size_t kMinTableBytes = 8 + 8;
constexpr uint64_t kMaxRank = 8;
constexpr uint64_t kMaxStoredSize = uint64_t{1} << 32;

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
    case OpKind::reshape:
      break;
    case OpKind::conv2d: {
      const auto& op = std::get<Conv2dOp>(node.op);
      for (size_t v : {op.out_channels, op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.dilation_h,
                       op.dilation_w, op.pad_top, op.pad_left, op.pad_bottom, op.pad_right, op.groups}) {
        out.u64(v);
      }
      out.vec(op.pad_values);
      out.vec(op.kernel);
      out.vec(op.constants);
      break;
    }
    case OpKind::weighted_sum: {
      const auto& op = std::get<WeightedSumOp>(node.op);
      out.vec(op.multipliers);
      out.i64(op.constant);
      break;
    }
    case OpKind::concat:
      out.u64(std::get<ConcatOp>(node.op).axis);
      break;
    case OpKind::slice: {
      const auto& op = std::get<SliceOp>(node.op);
      out.vec(std::vector<uint64_t>(op.starts.begin(), op.starts.end()));
      out.vec(std::vector<uint64_t>(op.steps.begin(), op.steps.end()));
      break;
    }
  }
}

// Sizes and indices stored as u64 (the verifier bounds them; a value above size_t is refused here).
std::vector<size_t> read_sizes(ByteReader& in, uint64_t max_count) {
  const auto values = in.vec<uint64_t>(max_count);
  std::vector<size_t> sizes;
  for (uint64_t v : values) {
    FHENN_CHECK(v <= kMaxStoredSize, in.what(), " is corrupted: a size of ", v);
    sizes.push_back(static_cast<size_t>(v));
  }
  return sizes;
}

size_t read_size(ByteReader& in) {
  const uint64_t v = in.u64();
  FHENN_CHECK(v <= kMaxStoredSize, in.what(), " is corrupted: a size of ", v);
  return static_cast<size_t>(v);
}

Conv2dOp read_conv2d(ByteReader& in, SizeBudget& budget) {
  Conv2dOp op;
  for (size_t* v : {&op.out_channels, &op.kernel_h, &op.kernel_w, &op.stride_h, &op.stride_w, &op.dilation_h,
                    &op.dilation_w, &op.pad_top, &op.pad_left, &op.pad_bottom, &op.pad_right, &op.groups}) {
    *v = read_size(in);
  }
  op.pad_values = in.vec<int64_t>(kMaxCircuitElements, budget);
  op.kernel = in.vec<int64_t>(kMaxCircuitElements, budget);
  op.constants = in.vec<int64_t>(kMaxCircuitElements, budget);
  return op;
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
    case OpKind::conv2d:
      return read_conv2d(in, budget);
    case OpKind::weighted_sum: {
      auto multipliers = in.vec<int64_t>(kMaxCircuitElements, budget);
      return WeightedSumOp{std::move(multipliers), in.i64()};
    }
    case OpKind::reshape:
      return ReshapeOp{};
    case OpKind::concat:
      return ConcatOp{read_size(in)};
    case OpKind::slice: {
      auto starts = read_sizes(in, kMaxRank);
      return SliceOp{std::move(starts), read_sizes(in, kMaxRank)};
    }
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
    out.vec(std::vector<uint64_t>(node.shape.begin(), node.shape.end()));
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
    node.operands = in.vec<NodeId>(1024);  // verify_circuit bounds variadic ops to 1024 operands
    node.width = in.u64();
    values.charge(node.width);
    budget.charge(node.width);
    node.shape = read_sizes(in, kMaxRank);
    FHENN_CHECK(!node.shape.empty(), in.what(), " is corrupted: node '", node.name, "' has no shape");
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
