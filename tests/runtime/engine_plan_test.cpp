// Tests of lowering a circuit to the engine: encodings, lookup plans, folding, parameter choice, refusals.
#include "fhenn/runtime/engine_plan.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/runtime/engine_plan_io.hpp"
#include "runtime_test_circuits.hpp"
#include "test_support.hpp"

namespace fhenn::runtime {
namespace {

TEST(EnginePlan, LookupReadsTheIndexRangeAndItsAccumulatorSharesTheInputsEncoding) {
  const auto circuit = testing::small_mlp_circuit(0);
  const auto plan = plan_for_engine(circuit, {});
  ASSERT_EQ(plan.lookups.size(), 1u);
  const auto& lookup = plan.lookups[0];
  // fc1 worst case: neuron 0 in [0 - 7 + 1, 14 + 1] = [-6, 15], neuron 1 all-zero (constant 0),
  // neuron 2 in [-21 + 4, 14 + 4] = [-17, 18].
  EXPECT_EQ(lookup.index_min, (std::vector<int64_t>{-6, 0, -17}));
  EXPECT_EQ(lookup.index_bits, 6);  // the widest span, 35, needs 6 bits
  EXPECT_EQ(lookup.shift, 0);
  EXPECT_EQ(lookup.constant, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(plan.bootstraps_per_sample, 2u);
  EXPECT_DOUBLE_EQ(plan.max_squared_weight_norm, 13.0);  // (-3)^2 + 2^2
  const auto input = circuit.find("input");
  EXPECT_EQ(plan.encoding_bits[input], 6);  // shares fc1's encoding
  EXPECT_EQ(plan.encoding_bits[circuit.find("fc1.accumulator")], 6);
  // The lookup's outputs feed fc2, whose signed range sets their encoding.
  EXPECT_EQ(plan.encoding_bits[circuit.find("fc1.lookup")], plan.encoding_bits[circuit.find("fc2.accumulator")]);
  EXPECT_GE(plan.params.message_bits.value, 6u);
  EXPECT_LE(plan.predicted_failure_per_lookup, 0x1p-40);
}

TEST(EnginePlan, RoundingNarrowsTheLookupAndWidensTheEncodingByTheShift) {
  const auto circuit = testing::small_mlp_circuit(3);
  const auto plan = plan_for_engine(circuit, {});
  const auto& lookup = plan.lookups[0];
  EXPECT_EQ(lookup.shift, 3);
  // round_msbs(., 3) maps [-6, 15] to [-1, 2] and [-17, 18] to [-2, 2]: spans 3 and 4 -> 3 bits.
  EXPECT_EQ(lookup.index_min, (std::vector<int64_t>{-1, 0, -2}));
  EXPECT_EQ(lookup.index_bits, 3);
  EXPECT_EQ(plan.encoding_bits[circuit.find("fc1.accumulator")], 6);
  EXPECT_EQ(plan.max_index_bits, 3);
}

TEST(EnginePlan, TooWideALookupIsRefusedNamingItAndTheFix) {
  ir::CircuitBuilder b;
  const auto x = b.add_input("input", 4, {0, 255});
  const auto acc = b.add_dot_product("wide.accumulator", x, 1, {3, 3, 3, 3});
  ir::LookupTable t{0, std::vector<int64_t>(4000, 1)};
  const auto lookup = b.add_table_lookup("wide.lookup", acc, {t});
  b.add_output("output", lookup);
  const auto circuit = std::move(b).build();
  try {
    plan_for_engine(circuit, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("wide.lookup"), std::string::npos) << message;
    EXPECT_NE(message.find("12-bit"), std::string::npos) << message;
    EXPECT_NE(message.find("rounding_threshold_bits"), std::string::npos) << message;
  }
}

TEST(EnginePlan, GlobalFailureProbabilityIsSplitOverTheBootstraps) {
  const auto circuit = testing::small_mlp_circuit(3);
  PlanOptions options;
  options.global_p_error = 0.01;
  const auto plan = plan_for_engine(circuit, options);
  EXPECT_NEAR(plan.p_error_per_lookup, 1 - std::pow(0.99, 0.5), 1e-12);
}

TEST(EnginePlan, SeenRangesNeedAnInputSet) {
  PlanOptions options;
  options.ranges = RangeSource::seen;
  EXPECT_THROW(plan_for_engine(testing::small_mlp_circuit(0), options), Error);
}

TEST(EnginePlan, RoundTripsThroughBytesAndRefusesAnotherCircuit) {
  const auto circuit = testing::small_mlp_circuit(3);
  const auto plan = plan_for_engine(circuit, {});
  ByteWriter out;
  write_plan(out, plan);
  const auto bytes = out.take();
  ByteReader in(bytes, "plan");
  const auto back = read_plan(in, circuit);
  EXPECT_EQ(back.encoding_bits, plan.encoding_bits);
  EXPECT_EQ(back.params, plan.params);
  EXPECT_EQ(back.lookups[0].index_min, plan.lookups[0].index_min);
  ByteReader other(bytes, "plan");
  EXPECT_THROW(read_plan(other, testing::rounding_probe_circuit(2)), Error);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    ByteReader cut(std::span<const uint8_t>(bytes).first(n), "plan");
    EXPECT_THROW(read_plan(cut, circuit), Error) << n;
  }
}

TEST(EnginePlan, WideScoresDecodeApproximatelyToTheirMostSignificantBits) {
  const auto circuit = testing::wide_output_circuit(4000);
  ::fhenn::testing::expect_error_containing([&] { plan_for_engine(circuit, {}); }, "--output-bits 8");
  PlanOptions options;
  options.output_bits = 8;
  const auto plan = plan_for_engine(circuit, options);
  const int e = plan.encoding_bits[circuit.find("scores")];
  ASSERT_GT(e, 8);
  ASSERT_EQ(plan.output_error_stddev.size(), 2U);
  for (double sigma : plan.output_error_stddev) {
    EXPECT_GT(sigma, 0.0);
    // The 8 most significant bits decrypt exactly within the target: the error stays below half of 2^(e - 8)
    // integers by the target's z-score (about 7 standard deviations at 2^-40).
    EXPECT_LT(7.0 * sigma, std::ldexp(1.0, e - 8 - 1));
  }
  EXPECT_LE(plan.predicted_failure_per_output, plan.p_error_per_lookup);
  EXPECT_NE(describe_plan(circuit, plan).find("decrypt exactly to their 8 most significant bits"), std::string::npos);
  // The decoding survives the server part's serialization.
  ByteWriter out;
  write_plan(out, plan);
  ByteReader in(out.bytes(), "plan");
  const EnginePlan read = read_plan(in, circuit);
  EXPECT_EQ(read.output_bits, 8);
  EXPECT_EQ(read.output_error_stddev, plan.output_error_stddev);
  // Narrow outputs decode exactly whatever output_bits says.
  EXPECT_TRUE(plan_for_engine(testing::small_mlp_circuit(0), options).output_error_stddev.empty());
}

}  // namespace
}  // namespace fhenn::runtime
