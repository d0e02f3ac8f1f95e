// Tests of the encrypted and simulated executors against the clear one, and of approximate rounding's statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "runtime_test_circuits.hpp"

namespace fhenn::runtime {
namespace {

// Every input of the small circuit, `repeats` times each.
IntMatrix all_inputs(int64_t input_max, int repeats) {
  IntMatrix inputs(0, 2);
  for (int r = 0; r < repeats; ++r) {
    for (int64_t a = 0; a <= input_max; ++a) {
      for (int64_t b = 0; b <= input_max; ++b) {
        inputs.values.push_back(a);
        inputs.values.push_back(b);
        ++inputs.rows;
      }
    }
  }
  return inputs;
}

TEST(EncryptedExecutor, AgreesWithTheClearCircuitOnEveryInput) {
  const auto circuit = testing::small_mlp_circuit(0, 3);
  const auto plan = plan_for_engine(circuit, {});
  ASSERT_EQ(plan.max_index_bits, 4);
  const auto& keys = testing::shared_keys(plan.params);
  EncryptedExecutor encrypted(circuit, plan, *keys.client, *keys.server, 2, tfhe::Csprng::for_tests_only(7));
  ClearExecutor clear;
  const auto inputs = all_inputs(3, 2);
  const auto expected = clear.run_batch(circuit, inputs);
  const auto actual = encrypted.run_batch(circuit, inputs);
  EXPECT_EQ(actual.values, expected.values);
  EXPECT_EQ(encrypted.run(circuit, inputs.row(5)), clear.run(circuit, inputs.row(5)));
}

TEST(SimulatedExecutor, WithoutNoiseEqualsTheClearCircuitBitForBit) {
  for (int shift : {0, 2}) {
    const auto circuit = testing::small_mlp_circuit(shift, 7);
    SimulatedExecutor simulated(circuit, plan_for_engine(circuit, {}), 1, 2, /*noise_scale=*/0.0);
    ClearExecutor clear;
    const auto inputs = all_inputs(7, 1);
    EXPECT_EQ(simulated.run_batch(circuit, inputs).values, clear.run_batch(circuit, inputs).values) << shift;
  }
}

TEST(SimulatedExecutor, WithTheRealNoiseAgreesWithTheClearCircuitWhenNothingIsRounded) {
  const auto circuit = testing::small_mlp_circuit(0, 7);
  SimulatedExecutor simulated(circuit, plan_for_engine(circuit, {}), 3, 2);
  ClearExecutor clear;
  const auto inputs = all_inputs(7, 20);
  EXPECT_EQ(simulated.run_batch(circuit, inputs).values, clear.run_batch(circuit, inputs).values);
}

TEST(SimulatedExecutor, LargeNoiseMakesLookupsFail) {
  const auto circuit = testing::small_mlp_circuit(0, 7);
  SimulatedExecutor simulated(circuit, plan_for_engine(circuit, {}), 3, 2, /*noise_scale=*/1e4);
  ClearExecutor clear;
  const auto inputs = all_inputs(7, 2);
  EXPECT_NE(simulated.run_batch(circuit, inputs).values, clear.run_batch(circuit, inputs).values);
}

// P(read != round_msbs(x, s)) when the bootstrap reads the phase x + 1/2 + e, e ~ N(0, sigma^2) (the runtime's
// half-unit offset (E2)), as read = floor((x + 1/2 + e) / 2^s + 1/2): the read differs when the phase leaves the box
// [(q - 1/2) 2^s, (q + 1/2) 2^s) of the exact q = round_msbs(x, s).
double off_by_one_probability(int64_t x, int shift, double sigma) {
  const double box = std::ldexp(1.0, shift);
  const double q = std::floor(static_cast<double>(x) / box + 0.5);
  const double phase = static_cast<double>(x) + 0.5;
  const double low = (q - 0.5) * box - phase;   // < 0
  const double high = (q + 0.5) * box - phase;  // > 0
  const auto normal_cdf = [&](double t) { return 0.5 * std::erfc(-t / (sigma * std::sqrt(2.0))); };
  return normal_cdf(low) + (1.0 - normal_cdf(high));
}

// The approximate rounding of a bootstrap that reads the top bits of a wider accumulator: on inputs around every
// rounding boundary, the off-by-one counts of the encrypted executor and of the simulator both match the noise
// model's expectation, and nothing is ever off by more than one.
TEST(ApproximateRounding, EncryptedAndSimulatedOffByOneRatesMatchTheNoiseModel) {
  constexpr int kShift = 6;  // a 10-bit accumulator read through a 4-bit table: noise spans a few units
  constexpr int kRepeats = 2;
  const auto circuit = testing::rounding_probe_circuit(kShift);
  const auto plan = plan_for_engine(circuit, {});
  ASSERT_EQ(plan.max_index_bits, 4);
  const double sigma = tfhe::noise::pbs_input_stddev(plan.params, 1.0) *
                       std::ldexp(1.0, plan.encoding_bits[circuit.find("probe.accumulator")] + 1);
  IntMatrix inputs(0, 1);
  double expected = 0.0;
  double variance = 0.0;
  for (int r = 0; r < kRepeats; ++r) {
    for (int64_t boundary = 32; boundary < testing::rounding_probe_max(kShift); boundary += 64) {
      for (int64_t x = boundary - 4; x < boundary + 4; ++x) {
        inputs.values.push_back(x);
        ++inputs.rows;
        const double p = off_by_one_probability(x, kShift, sigma);
        expected += p;
        variance += p * (1 - p);
      }
    }
  }
  const auto exact = ClearExecutor().run_batch(circuit, inputs);
  const auto count_off = [&](const IntMatrix& got) {
    int off = 0;
    for (size_t i = 0; i < got.values.size(); ++i) {
      EXPECT_LE(std::abs(got.values[i] - exact.values[i]), 1) << "input " << inputs.values[i];
      off += got.values[i] != exact.values[i];
    }
    return off;
  };
  const auto& keys = testing::shared_keys(plan.params);
  EncryptedExecutor encrypted(circuit, plan, *keys.client, *keys.server, 2, tfhe::Csprng::for_tests_only(11));
  SimulatedExecutor simulated(circuit, plan, 5, 2);
  const int encrypted_off = count_off(encrypted.run_batch(circuit, inputs));
  const int simulated_off = count_off(simulated.run_batch(circuit, inputs));
  const double tolerance = 5.0 * std::sqrt(variance) + 3.0;
  EXPECT_NEAR(encrypted_off, expected, tolerance) << "sigma " << sigma << " (accumulator units)";
  EXPECT_NEAR(simulated_off, expected, tolerance) << "sigma " << sigma;
  // The probe is informative: the model predicts clearly visible flips near the boundaries.
  EXPECT_GT(expected, 10.0) << "sigma " << sigma;
}

TEST(ApproximateRounding, WithoutNoiseTiesRoundUpLikeTheClearCircuit) {
  const auto circuit = testing::rounding_probe_circuit(2);
  SimulatedExecutor simulated(circuit, plan_for_engine(circuit, {}), 1, 1, /*noise_scale=*/0.0);
  IntMatrix inputs(0, 1);
  for (int64_t x = 0; x <= testing::rounding_probe_max(2); ++x) {
    inputs.values.push_back(x);
    ++inputs.rows;
  }
  EXPECT_EQ(simulated.run_batch(circuit, inputs).values, ClearExecutor().run_batch(circuit, inputs).values);
}

// Scores decoded approximately (output_bits): encrypted and simulated, they differ from the clear circuit only below
// their 8 most significant bits, by errors of the planned size.
TEST(ApproximateOutputs, EncryptedAndSimulatedScoresKeepTheirMostSignificantBits) {
  const auto circuit = testing::wide_output_circuit(4000);
  PlanOptions options;
  options.output_bits = 8;
  const auto plan = plan_for_engine(circuit, options);
  const double sigma = plan.output_error_stddev[0];
  const double bound = std::ldexp(1.0, plan.encoding_bits[circuit.find("scores")] - 8 - 1);
  IntMatrix inputs(48, 1);
  for (size_t r = 0; r < inputs.rows; ++r) inputs.values[r] = static_cast<int64_t>(r % 8);
  IntMatrix first(8, 1);
  std::copy_n(inputs.values.begin(), 8, first.values.begin());
  const auto& keys = testing::shared_keys(plan.params);
  EncryptedExecutor encrypted(circuit, plan, *keys.client, *keys.server, 2, tfhe::Csprng::for_tests_only(5));
  SimulatedExecutor simulated(circuit, plan, 3, 2);
  const auto clear = ClearExecutor().run_batch(circuit, inputs).values;
  for (const auto& actual : {encrypted.run_batch(circuit, first).values, simulated.run_batch(circuit, inputs).values}) {
    double squares = 0.0;
    for (size_t k = 0; k < actual.size(); ++k) {
      const double error = static_cast<double>(actual[k] - clear[k]);
      EXPECT_LT(std::abs(error), bound) << k;
      squares += error * error;
    }
    const double measured = std::sqrt(squares / static_cast<double>(actual.size()));
    EXPECT_GT(measured, 0.3 * sigma);
    EXPECT_LT(measured, 3.0 * sigma);
  }
}

}  // namespace
}  // namespace fhenn::runtime
