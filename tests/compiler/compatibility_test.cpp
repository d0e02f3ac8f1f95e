// Tests of the precision check: outputs may be wider than lookups, the fixes come cheapest first, and a network
// whose output is wider than the lookup precision compiles and runs encrypted exactly.
#include "fhenn/compiler/compatibility.hpp"

#include <gtest/gtest.h>

#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/runtime/executor.hpp"
#include "model_factory.hpp"
#include "runtime/runtime_test_circuits.hpp"

namespace fhenn::compiler {
namespace {

using fhenn::testing::random_features;
using fhenn::testing::random_float_mlp;

int output_bits(const CompiledModel& compiled) {
  return compiled.report.nodes.at(compiled.circuit.find(compiled.linear_ops.back().node)).worst_case_bits;
}

TEST(Compatibility, OutputsWiderThanTheLookupsCompileUpToSixteenBits) {
  // The shape users bring: 2 -> 64 -> 32 -> 2, 4-bit activations, 5-bit weights, pruned to 16 weights per
  // neuron, rounded to 6 bits; 9-bit inputs (too many to enumerate: interval bounds).
  const CompiledModel compiled = compile_ptq(random_float_mlp({2, 64, 32, 2}, 5, 16),
                                             random_features(300, 2, 6, 0.0, 1.0), {NBits{9, 4, 5, 5}, 6});
  ASSERT_GT(output_bits(compiled), 8);
  ASSERT_LE(output_bits(compiled), 16);
  EXPECT_TRUE(find_precision_problems(compiled, {}).empty()) << find_precision_problems(compiled, {})[0].message;
  const auto narrow = find_precision_problems(compiled, {8, RangeMeasure::worst_case, 8});
  ASSERT_EQ(narrow.size(), 1u);
  EXPECT_NE(narrow[0].message.find("layer fc3: the output accumulator needs"), std::string::npos) << narrow[0].message;
}

TEST(Compatibility, FixesComeCheapestFirstAndHeavyPruningIsFlagged) {
  // 16 non-zero weights per neuron, 4 bits: fc2's accumulator exceeds a 7-bit lookup by little. Rounding drops low
  // bits only and comes first; one weight bit fewer next; pruning to a handful of weights last, flagged.
  const CompiledModel compiled = compile_ptq(random_float_mlp({2, 64, 32, 2}, 5, 16),
                                             random_features(300, 2, 6, 0.0, 1.0), {NBits::uniform(4), {}});
  const auto problems = find_precision_problems(compiled, {7, RangeMeasure::worst_case});
  const auto fc2 = std::find_if(problems.begin(), problems.end(), [](const auto& p) { return p.layer == "fc2"; });
  ASSERT_NE(fc2, problems.end());
  const std::string& m = fc2->message;
  const size_t rounding = m.find("set rounding_threshold_bits to 7");
  const size_t bits = m.find("lower the weight bits to");
  const size_t prune = m.find("prune to at most");
  ASSERT_NE(rounding, std::string::npos) << m;
  EXPECT_EQ(m.find("; set rounding_threshold_bits"), m.find(';')) << "rounding first: " << m;
  if (bits != std::string::npos) {
    EXPECT_LT(rounding, bits) << m;
  }
  if (prune != std::string::npos) {
    EXPECT_LT(rounding, prune) << m;
  }
  if (prune != std::string::npos && bits != std::string::npos) {
    EXPECT_LT(bits, prune) << m;
  }
}

TEST(Compatibility, AWideOutputRunsEncryptedExactlyAsTheClearCircuit) {
  // 2 -> 32 -> 2, 3-bit inputs and weights, 6-bit activations: the output accumulator needs more than 8 bits, no
  // lookup reads it; its encoding is wider than the lookups', and the parameters are chosen for both.
  const Matrix data = random_features(300, 2, 8, 0.0, 1.0);
  const CompiledModel compiled = compile_ptq(random_float_mlp({2, 32, 2}, 7), data, {NBits{3, 6, 3, 5}, {}});
  ASSERT_TRUE(find_precision_problems(compiled, {}).empty()) << find_precision_problems(compiled, {})[0].message;
  const runtime::EnginePlan plan = runtime::plan_for_engine(compiled.circuit, {});
  const ir::NodeId output = compiled.circuit.find("fc2.accumulator");
  EXPECT_GT(plan.encoding_bits[output], 8) << runtime::describe_plan(compiled.circuit, plan);
  EXPECT_LE(plan.predicted_failure_per_output, plan.p_error_per_lookup);
  const auto& keys = runtime::testing::shared_keys(plan.params);
  runtime::EncryptedExecutor encrypted(compiled.circuit, plan, *keys.client, *keys.server, 2,
                                       tfhe::Csprng::for_tests_only(5));
  runtime::IntMatrix inputs(4, 2);
  for (size_t row = 0; row < inputs.rows; ++row) compiled.client.quantize_into(data.row(row), inputs.row(row));
  EXPECT_EQ(encrypted.run_batch(compiled.circuit, inputs).values,
            runtime::ClearExecutor().run_batch(compiled.circuit, inputs).values)
      << runtime::describe_plan(compiled.circuit, plan);
}

}  // namespace
}  // namespace fhenn::compiler
