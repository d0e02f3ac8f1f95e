// Failure targets of 2^-64 and 2^-128 per lookup beside the default 2^-40: the planner finds (costlier) sets.
#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "runtime_test_circuits.hpp"

namespace fhenn::runtime {
namespace {

TEST(FailureTargets, PlansMeetTwoToTheMinus64And128AtAHigherCost) {
  for (int shift : {0, 3}) {
    const auto circuit = testing::small_mlp_circuit(shift);
    double previous_cost = 0.0;
    for (double target : {0x1p-40, 0x1p-64, 0x1p-128}) {
      PlanOptions options;
      options.p_error = target;
      const EnginePlan plan = plan_for_engine(circuit, options);
      EXPECT_EQ(plan.p_error_per_lookup, target);
      EXPECT_LE(plan.predicted_failure_per_lookup, target) << plan.params.name;
      EXPECT_EQ(plan.predicted_failure_per_lookup,
                tfhe::noise::failure_probability(plan.params, plan.max_squared_weight_norm));
      EXPECT_TRUE(plan.params.secure) << plan.params.name;
      const double cost = tfhe::keyswitch_bootstrap_cost(plan.params);
      EXPECT_GE(cost, previous_cost) << plan.params.name;  // a stricter target never makes the set cheaper
      previous_cost = cost;
    }
  }
}

// The demo networks' lookups read 4-bit indices from dot products of bootstrapped values with squared weight norms
// up to a few hundred (2-bit weights, docs/encrypted.md): both targets are reachable there, and for every width
// up to 7 bits at the norms the compiler produces; 8-bit lookups stop at ~1e-19 with the cited 128-bit halves.
TEST(FailureTargets, SetsExistForTheDemoShapesAndEveryWidthBelowEightBits) {
  for (double target : {0x1p-64, 0x1p-128}) {
    for (double norm : {1.0, 64.0, 400.0}) {
      const auto s = tfhe::select_parameters(4, norm, target);
      EXPECT_LE(tfhe::noise::failure_probability(s, norm), target) << s.name;
    }
    for (size_t bits = 1; bits <= 7; ++bits) {
      const auto s = tfhe::select_parameters(bits, 16.0, target);
      EXPECT_LE(tfhe::noise::failure_probability(s, 16.0), target) << s.name;
    }
    EXPECT_THROW(tfhe::select_parameters(8, 1.0, target), Error);
  }
}

}  // namespace
}  // namespace fhenn::runtime
