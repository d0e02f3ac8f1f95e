// Tests of the circuit: op traits, builder, verifier, evaluation, ranges, bit widths, printer, serialization.
#include "fhenn/ir/circuit.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/bit_widths.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/printer.hpp"
#include "fhenn/ir/ranges.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::ir {
namespace {

// input[2] in [0, 7] -> dot product 2x2 (+ constants) -> round 1 bit -> lookup -> output.
Circuit small_circuit() {
  CircuitBuilder b;
  const NodeId in = b.add_input("input", 2, Range{0, 7});
  const NodeId acc = b.add_dot_product("fc1.accumulator", in, 2, {3, -2, 1, 1}, {5, -4});
  const NodeId rounded = b.add_round("fc1.round", acc, 1);
  // Element 0: identity-like table on [-4, 12]; element 1: table on [-2, 5] of x*x.
  LookupTable t0{-4, {}};
  for (int64_t x = -4; x <= 12; ++x) t0.values.push_back(x / 2);
  LookupTable t1{-2, {}};
  for (int64_t x = -2; x <= 5; ++x) t1.values.push_back(x * x);
  const NodeId lookup = b.add_table_lookup("fc1.lookup", rounded, {t0, t1});
  b.add_output("output", lookup);
  return std::move(b).build();
}

std::vector<int64_t> run(const Circuit& c, std::vector<int64_t> inputs) {
  std::vector<int64_t> values(c.node_values_size());
  evaluate_nodes(c, inputs, values);
  std::vector<int64_t> out(c.output_width());
  gather_outputs(c, values, out);
  return out;
}

TEST(OpTraits, ClosedSetWithNamesArityAndBootstraps) {
  EXPECT_EQ(traits(OpKind::input).arity, 0);
  EXPECT_EQ(traits(OpKind::dot_product).name, "dot_product");
  EXPECT_FALSE(traits(OpKind::dot_product).needs_bootstrap);
  EXPECT_TRUE(traits(OpKind::table_lookup).needs_bootstrap);
  EXPECT_FALSE(traits(OpKind::output).is_integer_node);
  for (int k = 0; k < kOpKindCount; ++k) {
    EXPECT_EQ(op_kind_from_name(traits(static_cast<OpKind>(k)).name), static_cast<OpKind>(k));
  }
  EXPECT_THROW(op_kind_from_name("conv"), Error);
}

TEST(Circuit, EvaluatesDotProductRoundAndLookup) {
  const Circuit c = small_circuit();
  EXPECT_EQ(c.input_width(), 2u);
  EXPECT_EQ(c.output_width(), 2u);
  for (int64_t a = 0; a <= 7; ++a) {
    for (int64_t b = 0; b <= 7; ++b) {
      const int64_t acc0 = 3 * a - 2 * b + 5;
      const int64_t acc1 = a + b - 4;
      const int64_t r0 = quant::round_msbs(acc0, 1);
      const int64_t r1 = quant::round_msbs(acc1, 1);
      // Saturating tables: outside their domain they read their end entries.
      const int64_t e0 = std::clamp<int64_t>(r0, -4, 12) / 2;
      const int64_t c1 = std::clamp<int64_t>(r1, -2, 5);
      EXPECT_EQ(run(c, {a, b}), (std::vector<int64_t>{e0, c1 * c1})) << a << "," << b;
    }
  }
}

TEST(RoundNode, KeepsMostSignificantBitsWithTiesUp) {
  CircuitBuilder b;
  const NodeId in = b.add_input("x", 1, Range{-64, 63});
  b.add_output("y", b.add_round("r", in, 3));
  const Circuit c = std::move(b).build();
  EXPECT_EQ(run(c, {12}), std::vector<int64_t>{2});    // 1.5 -> 2
  EXPECT_EQ(run(c, {-12}), std::vector<int64_t>{-1});  // -1.5 -> -1
  EXPECT_EQ(run(c, {11}), std::vector<int64_t>{1});
  EXPECT_EQ(run(c, {63}), std::vector<int64_t>{8});  // may reach the next power of two
  const auto ranges = worst_case_element_ranges(c.nodes());
  EXPECT_EQ(ranges[1][0], (Range{-8, 8}));
}

TEST(WorstCaseRanges, FollowWeightsSignsAndConstants) {
  const Circuit c = small_circuit();
  const auto r = worst_case_element_ranges(c.nodes());
  EXPECT_EQ(r[1][0], (Range{3 * 0 - 2 * 7 + 5, 3 * 7 + 5}));
  EXPECT_EQ(r[1][1], (Range{-4, 10}));
  EXPECT_EQ(r[2][0], (Range{quant::round_msbs(-9, 1), quant::round_msbs(26, 1)}));
  // Lookup: the entries reachable from the rounded range, saturating at the table ends.
  EXPECT_EQ(r[3][0], (Range{-4 / 2, 12 / 2}));
  EXPECT_EQ(r[3][1], (Range{0, 25}));
  const NodeRange acc = node_range(c.node(1), r[1]);
  EXPECT_EQ(acc.values, (Range{-9, 26}));
  EXPECT_EQ(acc.before_constant, (Range{-14, 21}));
}

TEST(BitWidthReport, SeenRangesUseTheReferenceDefinitionAndNeverExceedWorstCase) {
  const Circuit c = small_circuit();
  SeenRanges seen(c);
  std::vector<int64_t> values(c.node_values_size());
  for (std::vector<int64_t> in : {std::vector<int64_t>{1, 1}, std::vector<int64_t>{7, 0}, std::vector<int64_t>{2, 3}}) {
    evaluate_nodes(c, in, values);
    seen.observe(values);
  }
  const BitWidthReport report = bit_width_report(c, seen);
  EXPECT_EQ(report.samples, 3u);
  ASSERT_EQ(report.nodes.size(), 5u);
  // accumulator values: (1,1): 6, -2; (7,0): 26, 3; (2,3): 5, 1 -> seen [-2, 26]: signed, 6 bits;
  // before the constants: 1, 2; 21, 7; 0, 5 -> [0, 21]: 5 bits unsigned.
  EXPECT_EQ(report.nodes[1].seen, (Range{-2, 26}));
  EXPECT_EQ(report.nodes[1].seen_bits, 6);
  EXPECT_EQ(report.nodes[0].seen, (Range{0, 7}));
  EXPECT_EQ(report.nodes[0].seen_bits, 3);
  EXPECT_TRUE(report.nodes[2].feeds_table_lookup);
  EXPECT_FALSE(report.nodes[4].is_integer_node);
  int largest = 0;
  for (const auto& n : report.nodes) {
    EXPECT_LE(n.seen_bits, n.worst_case_bits) << n.name;
    EXPECT_LE(n.worst_case.min, n.seen.min) << n.name;
    EXPECT_GE(n.worst_case.max, n.seen.max) << n.name;
    if (n.is_integer_node) largest = std::max(largest, n.seen_bits);
  }
  EXPECT_EQ(report.accumulator_bits, largest);
  EXPECT_EQ(report.accumulator_bits, 6);
  EXPECT_EQ(report.worst_case_accumulator_bits, 6);  // [-9, 26] and [-14, 21]
  EXPECT_EQ(report.max_lookup_input_bits, report.nodes[2].seen.bits());
  const std::string text = format_bit_width_report(report);
  EXPECT_NE(text.find("fc1.accumulator"), std::string::npos);
  EXPECT_NE(text.find("accumulator size"), std::string::npos);
  EXPECT_THROW(bit_width_report(c, SeenRanges(c)), Error);
}

TEST(BitWidthReport, LookupIndexBitsAreTheWidestElementSpanNotTheNodeWideWidth) {
  // Two neurons of one layer: x in [0, 3] and x + 10 in [10, 13]. Node-wide the lookup operand spans [0, 13]
  // (4 bits); each element's table starts at its own minimum, so the bootstraps read 2 bits.
  CircuitBuilder b;
  const NodeId in = b.add_input("input", 1, Range{0, 3});
  const NodeId acc = b.add_dot_product("fc1.accumulator", in, 2, {1, 1}, {0, 10});
  LookupTable t0{0, {0, 1, 2, 3}};
  LookupTable t1{10, {3, 2, 1, 0}};
  b.add_output("output", b.add_table_lookup("fc1.lookup", acc, {t0, t1}));
  const Circuit c = std::move(b).build();
  SeenRanges seen(c);
  std::vector<int64_t> values(c.node_values_size());
  for (int64_t x : {1, 2}) {
    evaluate_nodes(c, std::vector<int64_t>{x}, values);
    seen.observe(values);
  }
  const BitWidthReport report = bit_width_report(c, seen);
  EXPECT_EQ(report.worst_case_max_lookup_input_bits, 4);
  EXPECT_EQ(report.worst_case_max_lookup_index_bits, 2);
  EXPECT_EQ(report.max_lookup_input_bits, 4);  // seen [1, 12]
  EXPECT_EQ(report.max_lookup_index_bits, 1);  // seen [1, 2] and [11, 12]
  EXPECT_EQ(report.nodes[1].worst_case_index_bits, 2);
  EXPECT_EQ(report.nodes[0].worst_case_index_bits, 0);  // not a lookup operand
  EXPECT_NE(format_bit_width_report(report).find("table index read per element"), std::string::npos);
}

TEST(Ranges, ExhaustiveRangesAreExactWhereIntervalBoundsAreLoose) {
  // y = T(x) - T(x) is always 0; interval bounds see two independent values in [0, 3].
  CircuitBuilder b;
  const NodeId in = b.add_input("input", 1, Range{0, 3});
  const NodeId acc = b.add_dot_product("fc1.accumulator", in, 2, {1, 1}, {});
  const LookupTable identity{0, {0, 1, 2, 3}};
  const NodeId lookup = b.add_table_lookup("fc1.lookup", acc, {identity, identity});
  const NodeId y = b.add_dot_product("fc2.accumulator", lookup, 1, {1, -1}, {});
  b.add_output("output", y);
  const Circuit c = std::move(b).build();
  EXPECT_EQ(worst_case_element_ranges(c.nodes())[y][0], (Range{-3, 3}));
  const auto exact = exhaustive_element_ranges(c);
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ((*exact)[y][0], (Range{0, 0}));
  EXPECT_EQ((*exact)[acc][1], (Range{0, 3}));
  EXPECT_EQ(guaranteed_element_ranges(c)[y][0], (Range{0, 0}));
  EXPECT_FALSE(exhaustive_element_ranges(c, 3).has_value());  // 4 possible inputs
  EXPECT_EQ(bit_width_report(c,
                             [&] {
                               SeenRanges seen(c);
                               std::vector<int64_t> values(c.node_values_size());
                               evaluate_nodes(c, std::vector<int64_t>{1}, values);
                               seen.observe(values);
                               return seen;
                             }())
                .worst_case_accumulator_bits,
            2);  // [0, 3]: the exact worst case, not [-3, 3]
}

TEST(Range, BitsFollowTheReferenceDefinition) {
  EXPECT_EQ((Range{0, 7}).bits(), 3);
  EXPECT_EQ((Range{0, 8}).bits(), 4);
  EXPECT_EQ((Range{-4, 3}).bits(), 3);
  EXPECT_EQ((Range{-5, 3}).bits(), 4);
  EXPECT_EQ((Range{-1, 4}).bits(), 4);
}

std::vector<Node> valid_nodes() {
  return small_circuit().nodes();
}

TEST(Verifier, RejectsBrokenCircuitsNamingTheNode) {
  auto expect_error = [](std::vector<Node> nodes, const std::string& fragment) {
    try {
      Circuit::from_nodes(std::move(nodes));
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  auto nodes = valid_nodes();
  std::get<DotProductOp>(nodes[1].op).weights.pop_back();
  expect_error(nodes, "fc1.accumulator");
  nodes = valid_nodes();
  std::get<DotProductOp>(nodes[1].op).constants = {1};
  expect_error(nodes, "constants");
  nodes = valid_nodes();
  nodes[2].operands = {3};
  expect_error(nodes, "topological");
  nodes = valid_nodes();
  nodes[3].name = "fc1.round";
  expect_error(nodes, "two nodes are named");
  nodes = valid_nodes();
  std::get<RoundOp>(nodes[2].op).shift = 63;
  expect_error(nodes, "fc1.round");
  nodes = valid_nodes();
  std::get<TableLookupOp>(nodes[3].op).tables[1].values.clear();
  expect_error(nodes, "empty");
  nodes = valid_nodes();
  auto& tables = std::get<TableLookupOp>(nodes[3].op).tables;
  tables.push_back(tables[0]);  // 3 tables for 2 elements
  expect_error(nodes, "one table per element, per channel or one for all");
  nodes = valid_nodes();
  nodes.pop_back();
  expect_error(nodes, "no output");
  nodes = valid_nodes();
  std::get<InputOp>(nodes[0].op).range = Range{5, 4};
  expect_error(nodes, "empty range");
  nodes = valid_nodes();
  nodes[1].operands.push_back(0);
  expect_error(nodes, "operands");
  nodes = valid_nodes();
  std::get<InputOp>(nodes[0].op).range = Range{0, int64_t{1} << 40};
  std::get<DotProductOp>(nodes[1].op).weights[0] = int64_t{1} << 30;
  expect_error(nodes, "62 bits");
}

TEST(Printer, ListsEveryNodeWithItsPayloadSummary) {
  const std::string text = print_circuit(small_circuit());
  for (const char* fragment :
       {"input", "fc1.accumulator", "dot_product", "weights 2x2", "drops 1 low bits", "2 tables", "output"}) {
    EXPECT_NE(text.find(fragment), std::string::npos) << fragment << "\n" << text;
  }
  const std::string detailed = print_circuit(small_circuit(), {.weights = true, .tables = true});
  EXPECT_NE(detailed.find("row 0: [3 -2] + 5"), std::string::npos) << detailed;
  EXPECT_NE(detailed.find("table 1 on [-2, 5]: [4 1 0 1 4 9 16 25]"), std::string::npos) << detailed;
}

TEST(Serialization, RoundTripsExactly) {
  const Circuit c = small_circuit();
  const auto bytes = serialize_circuit(c);
  const Circuit back = deserialize_circuit(bytes, "test circuit");
  EXPECT_EQ(back, c);
  EXPECT_EQ(back.node_values_size(), c.node_values_size());
  EXPECT_EQ(run(back, {3, 4}), run(c, {3, 4}));
}

TEST(Serialization, RejectsTruncatedCorruptedAndForeignBytes) {
  const auto bytes = serialize_circuit(small_circuit());
  for (size_t keep : {size_t{0}, size_t{4}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(deserialize_circuit(std::span(bytes).first(keep), "cut"), Error) << keep;
  }
  auto corrupted = bytes;
  corrupted[corrupted.size() / 2] ^= 0x40;
  EXPECT_THROW(deserialize_circuit(corrupted, "corrupted"), Error);
  ByteWriter other;
  other.u64(1);
  const auto foreign = seal_artifact("fhenn-ciphertext", 1, other.bytes());
  try {
    deserialize_circuit(foreign, "foreign");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fhenn-ciphertext"), std::string::npos) << e.what();
  }
  const auto other_version = seal_artifact(kCircuitArtifactKind, kCircuitFormatVersion + 1, other.bytes());
  EXPECT_THROW(deserialize_circuit(other_version, "v2"), Error);
}

TEST(Serialization, RejectsWellSealedButInvalidCircuits) {
  // A payload that is sealed correctly but describes a broken circuit (weights missing) must be refused.
  ByteWriter out;
  write_circuit(out, small_circuit());
  auto payload = out.take();
  // Rewrite the op code of node 0 (input) to an invalid value: first node's kind byte follows the count.
  payload[8] = 9;
  EXPECT_THROW(deserialize_circuit(seal_artifact(kCircuitArtifactKind, kCircuitFormatVersion, payload), "bad op"),
               Error);
  payload[8] = static_cast<uint8_t>(OpKind::output);  // an output node with no operand
  try {
    deserialize_circuit(seal_artifact(kCircuitArtifactKind, kCircuitFormatVersion, payload), "bad node");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad node"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fhenn::ir
