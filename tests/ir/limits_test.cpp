// Tests of the circuit's size limits: small crafted files and node lists are refused before they can make the
// verifier, the range analysis or an executor allocate or compute without bound.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/ir/ranges.hpp"
#include "fhenn/ir/serialize.hpp"
#include "test_support.hpp"

namespace fhenn::ir {
namespace {

using testing::expect_error_containing;

void write_node_header(ByteWriter& out, OpKind kind, const std::string& name, std::vector<NodeId> operands,
                       uint64_t width) {
  out.u8(static_cast<uint8_t>(kind));
  out.str(name);
  out.vec(operands);
  out.u64(width);
  out.vec(std::vector<uint64_t>{width});  // the shape: (width)
}

// `count` input nodes of width 2^24 each (32 bytes of payload per node, no data behind the width), then an output.
std::vector<uint8_t> wide_inputs_circuit(uint64_t count) {
  ByteWriter out;
  out.u64(count + 1);
  for (uint64_t k = 0; k < count; ++k) {
    write_node_header(out, OpKind::input, "in" + std::to_string(k), {}, uint64_t{1} << 24);
    out.i64(0);
    out.i64(1);
  }
  write_node_header(out, OpKind::output, "out", {0}, uint64_t{1} << 24);
  return seal_artifact(kCircuitArtifactKind, kCircuitFormatVersion, out.bytes());
}

TEST(CircuitLimits, AFewKilobytesOfWideNodesAreRefusedBeforeTheRangeAnalysisAllocates) {
  // 1000 nodes in 60 kB would need 1000 x 2^24 worst-case ranges (256 GiB) without a total budget.
  const auto bytes = wide_inputs_circuit(1000);
  ASSERT_LT(bytes.size(), 70'000u);
  expect_error_containing([&] { deserialize_circuit(bytes, "crafted.fhc"); }, "crafted.fhc");
  expect_error_containing([&] { deserialize_circuit(bytes, "crafted.fhc"); }, "too large");
  // The same budget holds for circuits built in memory.
  std::vector<Node> nodes;
  for (int k = 0; k < 2; ++k) {
    nodes.push_back(Node{"in" + std::to_string(k), {}, size_t{1} << 24, InputOp{Range{0, 1}}, {}});
  }
  nodes.push_back(Node{"out", {0}, size_t{1} << 24, OutputOp{}, {}});
  expect_error_containing([&] { Circuit::from_nodes(nodes); }, "the sum of its node widths");
}

TEST(CircuitLimits, ConstantsAndTablesOutside62BitsAreRefused) {
  // A dot product whose weights are all zero keeps its constant as its value: it must fit in 62 bits too, or
  // the round after it overflows.
  CircuitBuilder b;
  const NodeId in = b.add_input("x", 1, Range{0, 3});
  const NodeId acc = b.add_dot_product("acc", in, 1, {0}, {std::numeric_limits<int64_t>::max()});
  b.add_output("y", b.add_round("r", acc, 4));
  expect_error_containing([&] { std::move(b).build(); }, "node 'acc'");
  // A table starting at the top of int64 would overflow its own input_max().
  CircuitBuilder t;
  const NodeId x = t.add_input("x", 1, Range{0, 3});
  t.add_output("y", t.add_table_lookup("lookup", x, {LookupTable{std::numeric_limits<int64_t>::max(), {1, 2}}}));
  expect_error_containing([&] { std::move(t).build(); }, "covers inputs outside 62 bits");
}

// 2 inputs of 256 levels each (2^16 inputs) into a dot product of `width` outputs.
Circuit wide_exhaustive_circuit(size_t width) {
  CircuitBuilder b;
  const NodeId in = b.add_input("x", 2, Range{0, 255});
  b.add_output("y", b.add_dot_product("acc", in, width, std::vector<int64_t>(2 * width, 1)));
  return std::move(b).build();
}

TEST(CircuitLimits, ExhaustiveRangesStayWithinAboutASecondOfWork) {
  // 2^16 inputs x 2^16 weights and elements per evaluation: more than 2^30, so interval bounds instead.
  EXPECT_FALSE(exhaustive_element_ranges(wide_exhaustive_circuit(size_t{1} << 14)).has_value());
  // The same input space over a narrow circuit is still enumerated.
  const auto exact = exhaustive_element_ranges(wide_exhaustive_circuit(4));
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ((*exact)[1][0], (Range{0, 510}));
}

}  // namespace
}  // namespace fhenn::ir
