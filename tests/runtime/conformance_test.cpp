// Every op on every executor: random small circuits per op and shape; clear = simulated without noise bit for
// bit on many inputs, encrypted = clear on a sample of them.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fhenn/ir/ranges.hpp"
#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"
#include "runtime_test_circuits.hpp"

namespace fhenn::runtime {
namespace {

using ir::CircuitBuilder;
using ir::NodeId;
using ir::Shape;

// Random tables over the worst-case range of `operand` (one per table group), entries in [lo, hi].
NodeId add_random_lookup(CircuitBuilder& b, const std::string& name, NodeId operand, size_t tables,
                         std::mt19937_64& rng, int64_t lo = -3, int64_t hi = 3) {
  const auto ranges = ir::worst_case_element_ranges(b.nodes())[operand];
  ir::Range all = ranges[0];
  for (const auto& r : ranges) all = all.hull(r);
  std::vector<ir::LookupTable> built(tables);
  for (auto& t : built) {
    t.input_min = all.min;
    for (int64_t x = all.min; x <= all.max; ++x) t.values.push_back(lo + static_cast<int64_t>(rng() % (hi - lo + 1)));
  }
  return b.add_table_lookup(name, operand, std::move(built));
}

std::vector<int64_t> random_values(size_t count, int64_t lo, int64_t hi, std::mt19937_64& rng) {
  std::vector<int64_t> v(count);
  for (auto& x : v) x = lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  return v;
}

ir::Conv2dOp random_conv(size_t in_channels, size_t out_channels, size_t kernel, size_t stride, size_t pad,
                         size_t groups, std::mt19937_64& rng) {
  ir::Conv2dOp op;
  op.out_channels = out_channels;
  op.kernel_h = op.kernel_w = kernel;
  op.stride_h = op.stride_w = stride;
  op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = pad;
  op.groups = groups;
  op.pad_values = {1};
  op.kernel = random_values(out_channels * in_channels / groups * kernel * kernel, -1, 1, rng);
  op.constants = random_values(out_channels, -2, 2, rng);
  return op;
}

struct OpCase {
  std::string name;
  std::function<ir::Circuit(std::mt19937_64&)> build;
};

// A max pool of 2x2 windows, stride 2, by comparisons: max(a, b) = a + relu(b - a), one lookup per comparison.
NodeId add_max_pool_2x2(CircuitBuilder& b, const std::string& name, NodeId x) {
  const Shape in = b.shape_of(x);
  const Shape out{in[0], in[1] / 2, in[2] / 2};
  const auto window = [&](size_t dy, size_t dx) {
    return b.add_slice(name + ".w" + std::to_string(dy) + std::to_string(dx), x, ir::SliceOp{{0, dy, dx}, {1, 2, 2}},
                       out);
  };
  const auto max_of = [&](const std::string& step, NodeId a, NodeId c) {
    const NodeId difference = b.add_weighted_sum(name + "." + step + ".difference", {c, a}, {1, -1});
    const auto range = ir::worst_case_element_ranges(b.nodes())[difference][0];
    ir::LookupTable relu{range.min, {}};
    for (int64_t v = range.min; v <= range.max; ++v) relu.values.push_back(std::max<int64_t>(v, 0));
    const NodeId positive = b.add_table_lookup(name + "." + step + ".relu", difference, {relu});
    return b.add_weighted_sum(name + "." + step, {a, positive}, {1, 1});
  };
  const NodeId top = max_of("top", window(0, 0), window(0, 1));
  const NodeId bottom = max_of("bottom", window(1, 0), window(1, 1));
  return max_of("max", top, bottom);
}

std::vector<OpCase> op_cases() {
  return {
      {"dot_product",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", 3, {0, 3});
         const NodeId acc = b.add_dot_product("fc", x, 4, random_values(12, -2, 2, rng), random_values(4, -3, 3, rng));
         b.add_output("out", add_random_lookup(b, "lookup", acc, 4, rng));
         return std::move(b).build();
       }},
      {"conv2d_padded_per_channel",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{2, 3, 3}, {0, 2});
         const NodeId conv = b.add_conv2d("conv", x, random_conv(2, 2, 3, 1, 1, 1, rng));
         b.add_output("out", add_random_lookup(b, "relu", conv, 2, rng));
         return std::move(b).build();
       }},
      {"conv2d_strided_depthwise_shared_table",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{2, 4, 4}, {-2, 2});
         const NodeId conv = b.add_conv2d("conv", x, random_conv(2, 2, 2, 2, 0, 2, rng));
         b.add_output("out", add_random_lookup(b, "act", conv, 1, rng));
         return std::move(b).build();
       }},
      {"round_then_lookup",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", 2, {0, 7});
         const NodeId acc = b.add_dot_product("fc", x, 2, random_values(4, -3, 3, rng), {});
         b.add_output("out", add_random_lookup(b, "lookup", b.add_round("round", acc, 2), 2, rng));
         return std::move(b).build();
       }},
      {"weighted_sum_residual",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{1, 2, 2}, {0, 3});
         const NodeId branch =
             add_random_lookup(b, "branch", b.add_conv2d("conv", x, random_conv(1, 1, 1, 1, 0, 1, rng)), 1, rng, 0, 3);
         const NodeId sum = b.add_weighted_sum("residual", {x, branch}, {1, -2}, 1);
         b.add_output("out", add_random_lookup(b, "after", sum, 1, rng));
         return std::move(b).build();
       }},
      {"reshape_then_dense",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{2, 1, 2}, {0, 3});
         const NodeId act = add_random_lookup(b, "act", x, 2, rng, 0, 3);
         const NodeId flat = b.add_reshape("flat", act, Shape{4});
         b.add_output("out", b.add_dot_product("fc", flat, 2, random_values(8, -2, 2, rng), {3, -1}));
         return std::move(b).build();
       }},
      {"concat_channels",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{1, 2, 2}, {0, 3});
         const NodeId p = add_random_lookup(b, "p", x, 1, rng);
         const NodeId q = add_random_lookup(b, "q", x, 1, rng);
         const NodeId joined = b.add_concat("joined", {p, q, x}, 0);
         b.add_output("out", add_random_lookup(b, "after", joined, 3, rng));
         return std::move(b).build();
       }},
      {"slice_max_pool",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", Shape{2, 4, 4}, {0, 7});
         const NodeId act = add_random_lookup(b, "act", x, 2, rng, 0, 7);
         b.add_output("out", add_max_pool_2x2(b, "pool", act));
         return std::move(b).build();
       }},
      {"lookup_of_lookup",
       [](std::mt19937_64& rng) {
         CircuitBuilder b;
         const NodeId x = b.add_input("x", 3, {0, 5});
         const NodeId first = add_random_lookup(b, "first", x, 3, rng, -4, 4);
         b.add_output("out", add_random_lookup(b, "second", first, 3, rng));
         return std::move(b).build();
       }},
      {"wide_output_and_narrow_lookup_of_one_accumulator",
       [](std::mt19937_64& rng) {
         // The accumulator is both an output (encoded for its 10-bit range) and a 4-bit lookup's input, which
         // multiplies it down to its own encoding first.
         CircuitBuilder b;
         const NodeId x = b.add_input("x", 2, {0, 3});
         const NodeId small = b.add_dot_product("small", x, 2, random_values(4, -2, 2, rng), {});
         const NodeId act = add_random_lookup(b, "act", small, 2, rng, -3, 3);
         const NodeId wide = b.add_dot_product("wide", act, 2, {100, 60, -90, 75}, {});
         b.add_output("scores", wide);
         b.add_output("looked_up", add_random_lookup(b, "again", b.add_dot_product("narrow", act, 1, {1, 1}), 1, rng));
         b.add_output("small_out", small);
         return std::move(b).build();
       }},
  };
}

IntMatrix random_inputs(const ir::Circuit& circuit, size_t rows, std::mt19937_64& rng) {
  IntMatrix inputs(rows, circuit.input_width());
  for (size_t r = 0; r < rows; ++r) {
    size_t k = 0;
    for (NodeId id : circuit.inputs()) {
      const auto range = std::get<ir::InputOp>(circuit.node(id).op).range;
      for (size_t e = 0; e < circuit.node(id).width; ++e) {
        inputs.row(r)[k++] = random_values(1, range.min, range.max, rng)[0];
      }
    }
  }
  return inputs;
}

TEST(Conformance, EveryOpSimulatedWithoutNoiseEqualsClearBitForBit) {
  for (const OpCase& c : op_cases()) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      std::mt19937_64 rng(seed);
      const ir::Circuit circuit = c.build(rng);
      SimulatedExecutor simulated(circuit, plan_for_engine(circuit, {}), seed, 2, /*noise_scale=*/0.0);
      ClearExecutor clear;
      const IntMatrix inputs = random_inputs(circuit, 200, rng);
      EXPECT_EQ(simulated.run_batch(circuit, inputs).values, clear.run_batch(circuit, inputs).values)
          << c.name << " seed " << seed;
    }
  }
}

TEST(Conformance, EveryOpEncryptedEqualsClearOnSampledInputs) {
  for (const OpCase& c : op_cases()) {
    std::mt19937_64 rng(11);
    const ir::Circuit circuit = c.build(rng);
    const EnginePlan plan = plan_for_engine(circuit, {});
    const auto& keys = testing::shared_keys(plan.params);
    EncryptedExecutor encrypted(circuit, plan, *keys.client, *keys.server, 2, tfhe::Csprng::for_tests_only(3));
    const IntMatrix inputs = random_inputs(circuit, 2, rng);
    EXPECT_EQ(encrypted.run_batch(circuit, inputs).values, ClearExecutor().run_batch(circuit, inputs).values)
        << c.name << "\n"
        << describe_plan(circuit, plan);
  }
}

TEST(Conformance, ANarrowConsumerScalesAWiderEncoding) {
  std::mt19937_64 rng(11);
  const ir::Circuit circuit = op_cases().back().build(rng);
  const EnginePlan plan = plan_for_engine(circuit, {});
  const LookupPlan* again = plan.lookup_for(circuit.find("again"));
  const LookupPlan* act = plan.lookup_for(circuit.find("act"));
  ASSERT_NE(again, nullptr);
  ASSERT_NE(act, nullptr);
  // "small" is decrypted directly and read by a lookup: it is encoded for the wider of the two needs.
  EXPECT_GE(plan.encoding_bits[circuit.find("small")], act->lookup_bits());
  // The outputs are wider than any lookup reads.
  EXPECT_GT(plan.encoding_bits[circuit.find("wide")], 8);
  EXPECT_EQ(act->input_scale_shift, plan.encoding_bits[circuit.find("small")] - act->lookup_bits());
  EXPECT_GT(plan.predicted_failure_per_output, 0.0);
  EXPECT_LT(plan.predicted_failure_per_output, plan.p_error_per_lookup);
}

}  // namespace
}  // namespace fhenn::runtime
