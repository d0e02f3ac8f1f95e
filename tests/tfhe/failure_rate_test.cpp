// Failure probability per lookup, measured: weak sets failing at 1e-2, 1e-3, 1e-4 and a large weight norm.
//
// A lookup fails when the phase after key switch and modulus switch leaves its half box (the PBS reads the box the
// switched phase lies in), so most samples are cheap phase measurements; a smaller number of real bootstraps must
// fail exactly when the phase test says so. Rates are compared with formula (10) by the exact binomial interval
// (Clopper & Pearson 1934) at 99%, variances with exact chi-square bounds at 99.9% (statistics.hpp).
//
// The formulas average over keys; one key's noise differs by a few percent (Hamming weights, the key-switching
// key's realised noise energy), which moves a 1e-4 rate by ~25%. So the samples are spread over several keys, the
// formula's average is checked against the pooled count, and the key-conditioned prediction (the same formulas
// with each key's weights and key-switching-key noise) against the pooled count and the chi-square bounds.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "statistics.hpp"
#include "test_support.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

using testing::kSanitized;

constexpr double kRateLevel = 0.99;
constexpr double kVarianceLevel = 0.999;

// test_weak with a one-level key switch (2^-24 rounding, like its 3 x 4, for a third of the time) whose noise is
// chosen by bisection so that formula (10) at nu^2 = 1 gives `target`.
ParameterSet weak_set_failing_at(double target) {
  ParameterSet p = parameter_set("test_weak");
  p.ks_level = DecompositionLevelCount(1);
  p.ks_base_log = DecompositionBaseLog(12);
  double low = 0.0, high = 1e-4;
  for (int i = 0; i < 200; ++i) {
    const double mid = (low + high) / 2;
    p.lwe_noise = NoiseDistribution::gaussian(mid);
    (noise::failure_probability(p, 1.0) < target ? low : high) = mid;
  }
  p.lwe_noise = NoiseDistribution::gaussian(low);
  return p;
}

// The PBS input of a ciphertext (phase m Delta + e under the large key): key switch, then modulus switch; the
// lookup is right when the switched phase lies in [m box - box/2, m box + box/2) (the half-box rotated table).
class PbsInputMeter {
 public:
  struct Sample {
    double keyswitch_error = 0.0;       // torus
    double modulus_switch_error = 0.0;  // torus, continuous phase after KS -> switched phase / 2N
    int64_t switched_error = 0;         // units of 1/(2N), relative to m * box
    bool ok = false;
  };

  PbsInputMeter(const ParameterSet& p, const ClientKey& client, const LweKeyswitchKey& ksk)
      : p_(p),
        client_(client),
        big_(client.big_lwe_key()),
        ksk_(ksk),
        small_(p.lwe_dimension),
        switched_(lwe_size(p.lwe_dimension)) {}

  Sample measure(std::span<const Torus> ct, uint64_t m) {
    const uint64_t two_n = 2 * p_.polynomial_size.value, box = p_.polynomial_size.value >> p_.message_bits.value;
    keyswitch_lwe(ksk_, ct, small_.data);
    modulus_switch(small_.data, p_.polynomial_size, switched_);
    uint64_t phase = switched_.back();
    for (size_t i = 0; i + 1 < switched_.size(); ++i) phase -= uint64_t{switched_[i]} * client_.lwe_key.bits[i];
    Sample s;
    const Torus small_phase = decrypt_lwe_phase(client_.lwe_key, small_.data);
    s.keyswitch_error = torus_to_signed_double(small_phase - decrypt_lwe_phase(big_, ct));
    s.switched_error =
        static_cast<int64_t>(((phase - m * box) % two_n + two_n + two_n / 2) % two_n) - static_cast<int64_t>(two_n / 2);
    const double exact = torus_to_signed_double(small_phase - m * p_.delta());
    s.modulus_switch_error =
        std::remainder(static_cast<double>(s.switched_error) / static_cast<double>(two_n) - exact, 1.0);
    s.ok = s.switched_error >= -static_cast<int64_t>(box / 2) && s.switched_error < static_cast<int64_t>(box / 2);
    return s;
  }

 private:
  const ParameterSet& p_;
  const ClientKey& client_;
  LweSecretKey big_;
  const LweKeyswitchKey& ksk_;
  LweCiphertext small_;
  std::vector<uint32_t> switched_;
};

// A key's share of the noise at the PBS input (formula (9) with this key's weights and key-switching-key noise).
struct ConditionedNoise {
  double input = 0.0;  // nu^2 * (bootstrap or fresh variance)
  double keyswitch = 0.0;
  double modulus_switch = 0.0;
  double total() const { return input + keyswitch + modulus_switch; }
};

ConditionedNoise condition_on_key(const ParameterSet& p, const ClientKey& client, const LweKeyswitchKey& ksk,
                                  double input_variance) {
  const noise::KeyWeights w = testing::key_weights(client);
  const auto ksk_noise = testing::measure_keyswitch_key_noise(ksk, client.big_lwe_key(), client.lwe_key);
  return {input_variance, testing::conditioned_keyswitch_variance(p, ksk_noise, w.glwe),
          noise::modulus_switch_variance(p.polynomial_size, w.lwe)};
}

// Pooled PBS-input measurements over keys: failures, and each error divided by its key's predicted standard
// deviation (so that the pooled sum of squares is chi-square with one degree per sample).
struct Tally {
  size_t trials = 0, failures = 0;
  double conditioned_rate_sum = 0.0;           // sum over trials of the key's rate, formula (10)
  double conditioned_switched_rate_sum = 0.0;  // the same with formula (10'), the engine's discrete decision
  std::vector<double> keyswitch, modulus_switch, total;

  void add(const PbsInputMeter::Sample& s, const ConditionedNoise& c, const ParameterSet& p) {
    const uint64_t two_n = 2 * p.polynomial_size.value;
    ++trials;
    failures += s.ok ? 0 : 1;
    conditioned_rate_sum += noise::failure_probability_at(p.message_bits, c.total());
    conditioned_switched_rate_sum +=
        noise::switched_failure_probability_at(p.message_bits, p.polynomial_size, c.total());
    keyswitch.push_back(s.keyswitch_error / std::sqrt(c.keyswitch));
    modulus_switch.push_back(s.modulus_switch_error / std::sqrt(c.modulus_switch));
    total.push_back(static_cast<double>(s.switched_error) / static_cast<double>(two_n) / std::sqrt(c.total()));
  }
  double conditioned_rate() const { return conditioned_rate_sum / static_cast<double>(trials); }
  double conditioned_switched_rate() const { return conditioned_switched_rate_sum / static_cast<double>(trials); }
};

// The PBS-input variance at which formula (10) gives `rate` (inverse of noise::failure_probability_at).
double variance_for_rate(const ParameterSet& p, double rate) {
  double low = 0.0, high = 1.0;  // variance, in torus units
  for (int i = 0; i < 200; ++i) {
    const double mid = (low + high) / 2;
    (noise::failure_probability_at(p.message_bits, mid) < rate ? low : high) = mid;
  }
  return low;
}

// The pooled count against the formula (10) rate of the set p at nu^2 (the average key), the key-conditioned rates
// of (10) and (10'), and the pooled errors against the key-conditioned variances (3), (4), (9). A `precise` run
// (ten times the samples, make test-long) resolves what (10) leaves out, the discrete window (+8% at 1e-4) and the
// spread of the rate over keys (+5%): there only the key-conditioned (10') is asserted.
void expect_tally_matches(const Tally& t, const ParameterSet& p, double squared_norm, const char* label, bool precise) {
  const double formula_rate = noise::failure_probability(p, squared_norm);
  const double formula_variance = noise::pbs_input_variance(p, squared_norm);
  const testing::Interval ci = testing::clopper_pearson(t.failures, t.trials, kRateLevel);
  std::printf(
      "%s: formula (10) %.4e, key-conditioned (10) %.4e, (10') %.4e; measured %zu / %zu = %.4e, 99%% "
      "interval [%.4e, %.4e] (PBS-input variance [%.3f, %.3f] x the formula's)\n",
      label, formula_rate, t.conditioned_rate(), t.conditioned_switched_rate(), t.failures, t.trials,
      static_cast<double>(t.failures) / static_cast<double>(t.trials), ci.low, ci.high,
      variance_for_rate(p, ci.low) / formula_variance, variance_for_rate(p, ci.high) / formula_variance);
  if (!precise) {
    EXPECT_TRUE(testing::rate_within_clopper_pearson(t.failures, t.trials, formula_rate, kRateLevel)) << label;
    EXPECT_TRUE(testing::rate_within_clopper_pearson(t.failures, t.trials, t.conditioned_rate(), kRateLevel)) << label;
  }
  EXPECT_TRUE(testing::rate_within_clopper_pearson(t.failures, t.trials, t.conditioned_switched_rate(), kRateLevel))
      << label;
  const std::pair<const char*, const std::vector<double>*> parts[] = {
      {"key switch (3)", &t.keyswitch}, {"modulus switch (4)", &t.modulus_switch}, {"PBS input (9)", &t.total}};
  for (const auto& [name, xs] : parts) {
    const auto v = testing::chi_square_variance_test(*xs, 1.0, kVarianceLevel);
    std::printf("  %s: measured / key-conditioned variance %.4f, 99.9%% band [%.4f, %.4f]\n", name, v.ratio, v.band.low,
                v.band.high);
    EXPECT_TRUE(testing::variance_within_chi_square(*xs, 1.0, kVarianceLevel)) << label << " " << name;
  }
}

// Real bootstraps of fresh inputs with a full key: each fails exactly when its switched phase leaves the box.
void expect_bootstraps_follow_the_phase(const ParameterSet& p, size_t count, uint64_t seed) {
  const auto keys = testing::make_keys(p, seed);
  Csprng rng = Csprng::for_tests_only(seed + 1);
  PbsInputMeter meter(p, keys.client, keys.server.keyswitch_key);
  std::vector<LweCiphertext> cts;
  std::vector<uint64_t> messages;
  std::vector<bool> phase_ok;
  for (size_t i = 0; i < count; ++i) {
    messages.push_back(rng.next_u64() % 16);
    cts.push_back(encrypt_integer(keys.client, static_cast<int64_t>(messages.back()), rng));
    phase_ok.push_back(meter.measure(cts.back().data, messages.back()).ok);
  }
  const auto identity = LookupTable::identity(4);
  const LookupTable* tables[] = {&identity};
  const auto outputs = keyswitch_bootstrap_batch(cts, tables, keys.server, 2);
  size_t failures = 0;
  for (size_t i = 0; i < count; ++i) {
    const bool correct = decrypt_integer(keys.client, outputs[i]) == messages[i];
    failures += correct ? 0 : 1;
    EXPECT_EQ(correct, phase_ok[i]) << "bootstrap " << i;
  }
  std::printf("  real bootstraps: %zu failures / %zu, each one where the phase test predicted it\n", failures, count);
}

struct FreshRun {
  size_t samples;     // phase measurements, spread over the keys
  size_t keys;        // client key + key-switching key each (no bootstrap key: cheap)
  size_t bootstraps;  // real bootstraps with one full key
  uint64_t seed;
  bool precise = false;  // make test-long: ten times the samples
};

// Fresh inputs (nu^2 = 1) on the set p: the pooled phase measurements against formula (10), then real bootstraps.
void measure_fresh_inputs(const ParameterSet& p, const FreshRun& run, const char* label) {
  // Fresh inputs carry sigma_glwe^2 where formula (9) counts max(var_BR, sigma_glwe^2): both negligible here.
  ASSERT_LT(noise::blind_rotation_variance(p), 1e-3 * noise::pbs_input_variance(p, 1.0));
  Tally tally;
  for (size_t k = 0; k < run.keys; ++k) {
    Csprng key_rng = Csprng::for_tests_only(run.seed + 2 * k);
    const ClientKey client = ClientKey::generate(p, key_rng, KeySecurity::allow_insecure);
    const auto ksk = decompress_keyswitch_key(generate_seeded_keyswitch_key(
        client.big_lwe_key(), client.lwe_key, p.ks_base_log, p.ks_level, p.lwe_noise, key_rng));
    const ConditionedNoise c = condition_on_key(p, client, ksk, p.glwe_noise.variance());
    PbsInputMeter meter(p, client, ksk);
    Csprng rng = Csprng::for_tests_only(run.seed + 2 * k + 1);
    for (size_t i = 0; i < run.samples / run.keys; ++i) {
      const uint64_t m = rng.next_u64() % 16;
      tally.add(meter.measure(encrypt_integer(client, static_cast<int64_t>(m), rng).data, m), c, p);
    }
  }
  expect_tally_matches(tally, p, 1.0, label, run.precise);
  expect_bootstraps_follow_the_phase(p, run.bootstraps, run.seed + 1000);
}

// A weak set failing at `target` (formula (10)), measured with fresh inputs.
void measure_fresh_point(double target, const FreshRun& run) {
  const ParameterSet p = weak_set_failing_at(target);
  ASSERT_NEAR(noise::failure_probability(p, 1.0) / target, 1.0, 1e-6);
  char label[96];
  std::snprintf(label, sizeof label, "weak set at %.0e (KS 1x12, sigma_lwe %.3e)", target, p.lwe_noise.gaussian_stddev);
  measure_fresh_inputs(p, run, label);
}

size_t scaled(size_t n, bool long_run) {
  return long_run ? 10 * n : (kSanitized ? n / 10 : n);
}

TEST(WeakSet, MeasuredFailureRateMatchesTheFormula) {
  // The named set as it is (key switch 3 x 4): the formula gives 1.37e-3.
  measure_fresh_inputs(parameter_set("test_weak"), {kSanitized ? 3000 : 24000, 4, kSanitized ? 100 : 400, 400},
                       "test_weak (KS 3x4)");
}

TEST(FailureRate, WeakSetAtOnePercent) {
  measure_fresh_point(1e-2, {scaled(30000, false), 6, kSanitized ? 200 : 1500, 410});
}

TEST(FailureRate, WeakSetAtOnePerMille) {
  measure_fresh_point(1e-3, {scaled(100000, false), 8, kSanitized ? 100 : 500, 420});
}

TEST(FailureRate, WeakSetAtOnePerTenThousand) {
  measure_fresh_point(1e-4, {scaled(250000, false), 8, kSanitized ? 50 : 300, 430});
}

// The large-norm set: test_weak with a one-level 2^30 bootstrap decomposition and TUniform(15) GLWE noise, so
// that each CMUX's error is mostly the FFT term (7) (and digits (5)); the PBS inputs are 11 c_1 - 5 c_2 of
// bootstrapped ciphertexts (nu^2 = 146), whose blind-rotation noise is then ~45% of the PBS input variance.
ParameterSet large_norm_set() {
  ParameterSet p = parameter_set("test_weak");
  p.pbs_base_log = DecompositionBaseLog(30);
  p.pbs_level = DecompositionLevelCount(1);
  p.glwe_noise = NoiseDistribution::tuniform(15);
  return p;
}

constexpr std::array<int64_t, 2> kLargeWeights = {11, -5};
constexpr double kLargeSquaredNorm = 11.0 * 11.0 + 5.0 * 5.0;

// What a correct identity lookup returns for a (padded) index r in [0, 2^(p+1)): r below 2^p, -(r - 2^p) above.
uint64_t identity_lookup(uint64_t r) {
  return r < 16 ? r : (32 - (r - 16)) % 32;
}

struct LargeNormTally {
  Tally inputs;                             // PBS inputs (dot products)
  std::vector<double> blind_rotation;       // bootstrap output errors / key-conditioned stddev
  double blind_rotation_formula_sum = 0.0;  // sum of squared errors / formula (8) (average key)
  size_t bootstraps_checked = 0, bootstrap_failures = 0;
};

// One key's share: bootstraps fresh inputs, measures their output noise, feeds 11 c_1 - 5 c_2 to the phase test
// and, for the first `real` pairs, to a real bootstrap.
void measure_large_norm_key(const ParameterSet& p, size_t pairs, size_t real, uint64_t seed, LargeNormTally& t) {
  const auto keys = testing::make_keys(p, seed);
  const noise::KeyWeights w = testing::key_weights(keys.client);
  const double br = noise::blind_rotation_variance(p, w);
  const ConditionedNoise c = condition_on_key(p, keys.client, keys.server.keyswitch_key, kLargeSquaredNorm * br);
  Csprng rng = Csprng::for_tests_only(seed + 1);
  std::vector<LweCiphertext> fresh;
  for (size_t i = 0; i < 2 * pairs; ++i) fresh.push_back(encrypt_integer(keys.client, rng.next_u64() % 16, rng));
  const auto identity = LookupTable::identity(4);
  const LookupTable* tables[] = {&identity};
  const auto boots = keyswitch_bootstrap_batch(fresh, tables, keys.server, 2);
  std::vector<uint64_t> read(boots.size());  // the value each bootstrap returned (a fresh input may fail too)
  for (size_t i = 0; i < boots.size(); ++i) {
    read[i] = decrypt_integer(keys.client, boots[i]);
    const double e =
        torus_to_signed_double(decrypt_lwe_phase(keys.client.big_lwe_key(), boots[i].data) - read[i] * p.delta());
    t.blind_rotation.push_back(e / std::sqrt(br));
    t.blind_rotation_formula_sum += e * e / noise::blind_rotation_variance(p);
  }
  PbsInputMeter meter(p, keys.client, keys.server.keyswitch_key);
  std::vector<LweCiphertext> sums;
  std::vector<uint64_t> expected;
  std::vector<bool> phase_ok;
  for (size_t i = 0; i < pairs; ++i) {
    std::vector<Torus> packed(boots[2 * i].data);
    packed.insert(packed.end(), boots[2 * i + 1].data.begin(), boots[2 * i + 1].data.end());
    LweCiphertext sum(p.big_lwe_dimension());
    lwe_dot_product(packed, kLargeWeights, sum.data);
    const uint64_t m = static_cast<uint64_t>(kLargeWeights[0] * static_cast<int64_t>(read[2 * i]) +
                                             kLargeWeights[1] * static_cast<int64_t>(read[2 * i + 1])) %
                       32;
    const auto s = meter.measure(sum.data, m);
    t.inputs.add(s, c, p);
    if (i < real) {
      sums.push_back(std::move(sum));
      expected.push_back(identity_lookup(m));
      phase_ok.push_back(s.ok);
    }
  }
  const auto outputs = keyswitch_bootstrap_batch(sums, tables, keys.server, 2);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool correct = decrypt_integer(keys.client, outputs[i]) == expected[i];
    t.bootstrap_failures += correct ? 0 : 1;
    EXPECT_EQ(correct, phase_ok[i]) << "bootstrap of dot product " << i;
  }
  t.bootstraps_checked += outputs.size();
}

void measure_large_norm(size_t pairs, size_t keys, size_t real, uint64_t seed, bool precise) {
  const ParameterSet p = large_norm_set();
  const double br = noise::blind_rotation_variance(p);
  const double fft = static_cast<double>(p.lwe_dimension.value) * noise::fft_variance(p);
  const double total = noise::pbs_input_variance(p, kLargeSquaredNorm);
  std::printf("large norm: var_BR %.3e (FFT term %.0f%%), nu^2 var_BR = %.0f%% of the PBS input variance %.3e\n", br,
              100 * fft / br, 100 * kLargeSquaredNorm * br / total, total);
  ASSERT_GE(kLargeSquaredNorm * br, 0.3 * total);  // blind rotation and weights count ...
  ASSERT_GE(fft, 0.5 * br);                        // ... and the FFT term is most of the blind rotation
  LargeNormTally t;
  for (size_t k = 0; k < keys; ++k) measure_large_norm_key(p, pairs / keys, real / keys, seed + 10 * k, t);
  const auto v = testing::chi_square_variance_test(t.blind_rotation, 1.0, kVarianceLevel);
  std::printf(
      "  blind rotation (8) with FFT (7): measured / key-conditioned variance %.4f, 99.9%% band [%.4f, %.4f]; "
      "/ formula (8) %.4f\n",
      v.ratio, v.band.low, v.band.high, t.blind_rotation_formula_sum / static_cast<double>(t.blind_rotation.size()));
  // Formula (7) models the AVX2/AVX-512 builds; the portable one's FFT is 9-16% noisier (noise.cpp).
  if (std::string(kernel_build()) != "portable") {
    EXPECT_TRUE(testing::variance_within_chi_square(t.blind_rotation, 1.0, kVarianceLevel));
  }
  expect_tally_matches(t.inputs, p, kLargeSquaredNorm, "large norm (nu^2 = 146)", precise);
  std::printf("  real bootstraps of dot products: %zu failures / %zu, each one where the phase test predicted it\n",
              t.bootstrap_failures, t.bootstraps_checked);
}

TEST(FailureRate, LargeWeightNormOfBootstrappedInputs) {
  measure_large_norm(kSanitized ? 320 : 4000, 16, kSanitized ? 32 : 400, 470, false);
}

TEST(FailureRate, LongWeakSetsWithTenTimesTheSamples) {
  FHENN_SKIP_UNLESS_LONG_TESTS();
  measure_fresh_point(1e-2, {scaled(30000, true), 12, 3000, 440, true});
  measure_fresh_point(1e-3, {scaled(100000, true), 16, 1000, 450, true});
  measure_fresh_point(1e-4, {scaled(250000, true), 16, 1000, 460, true});
  measure_large_norm(40000, 32, 2000, 480, true);
}

}  // namespace
}  // namespace fhenn::tfhe
