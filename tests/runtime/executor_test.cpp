// Tests of the clear executor: exact evaluation, input checks, batches on several threads, observed ranges.
#include "fhenn/runtime/executor.hpp"

#include <gtest/gtest.h>

#include "compiler/model_factory.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/ir/bit_widths.hpp"

namespace fhenn::runtime {
namespace {

ir::Circuit affine_circuit() {
  ir::CircuitBuilder b;
  const auto in = b.add_input("x", 3, ir::Range{-4, 3});
  const auto acc = b.add_dot_product("acc", in, 2, {1, 2, 3, -1, 0, 1}, {10, 0});
  b.add_output("y", acc);
  return std::move(b).build();
}

TEST(ClearExecutor, ComputesDotProductsExactly) {
  const auto c = affine_circuit();
  EXPECT_EQ(run_clear(c, std::vector<int64_t>{1, -2, 3}), (std::vector<int64_t>{1 - 4 + 9 + 10, -1 + 3}));
  EXPECT_EQ(ClearExecutor{}.name(), "clear");
}

TEST(ClearExecutor, RejectsInputsOutsideTheirRangeOrOfTheWrongCount) {
  const auto c = affine_circuit();
  try {
    run_clear(c, std::vector<int64_t>{0, 4, 0});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'x' element 1 is 4, outside its declared range [-4, 3]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(run_clear(c, std::vector<int64_t>{0, 0}), Error);
  IntMatrix batch(3, 3);
  batch.row(2)[0] = -9;
  try {
    ClearExecutor{2}.run_batch(c, batch);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ClearExecutor{}.run_batch(c, IntMatrix(2, 4)), Error);
}

TEST(ClearExecutor, BatchesOnThreadsEqualSingleRunsAndRecordRanges) {
  const Matrix data = testing::random_features(1000, 5, 3);
  const auto compiled = compiler::compile_ptq(testing::random_float_mlp({5, 8, 6, 4, 3}, 2), data, {});
  IntMatrix inputs(data.rows, 5);
  inputs.values = compiled.client.quantize_rows(data);
  ir::SeenRanges seen(compiled.circuit);
  const IntMatrix batch = ClearExecutor{2}.run_batch_observed(compiled.circuit, inputs, seen);
  const IntMatrix serial = ClearExecutor{1}.run_batch(compiled.circuit, inputs);
  EXPECT_EQ(batch.values, serial.values);
  for (size_t row = 0; row < data.rows; row += 37) {
    const auto single = run_clear(compiled.circuit, inputs.row(row));
    EXPECT_TRUE(std::equal(single.begin(), single.end(), batch.row(row).begin()));
  }
  EXPECT_EQ(seen.samples(), data.rows);
  // The same ranges as the compiler measured on the same set.
  EXPECT_EQ(ir::bit_width_report(compiled.circuit, seen), compiled.report);
}

// The base class's batch runs sample by sample through run().
class CountingExecutor final : public Executor {
 public:
  std::vector<int64_t> run(const ir::Circuit& circuit, std::span<const int64_t> inputs) override {
    ++calls;
    return run_clear(circuit, inputs);
  }
  std::string name() const override { return "counting"; }
  int calls = 0;
};

TEST(Executor, DefaultBatchRunsEverySample) {
  CountingExecutor executor;
  IntMatrix inputs(4, 3);
  const IntMatrix out = executor.run_batch(affine_circuit(), inputs);
  EXPECT_EQ(executor.calls, 4);
  EXPECT_EQ(out.row(3)[0], 10);
}

}  // namespace
}  // namespace fhenn::runtime
