// Measured noise after each algorithm against the variance formulas of noise.hpp (statistical tolerances).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

using testing::variance_matches;

double signed_error(Torus got, Torus expected) { return torus_to_signed_double(got - expected); }

TEST(NoiseMeasured, FreshEncryptionAndDotProduct) {
  Csprng rng = Csprng::for_tests_only(500);
  const auto key = LweSecretKey::generate(LweDimension(256), rng);
  const auto noise = NoiseDistribution::gaussian(0x1p-20);
  const std::vector<int64_t> weights = {3, -2, 0, 5, 1};
  const double squared_norm = 9 + 4 + 0 + 25 + 1;
  std::vector<double> fresh, combined;
  std::vector<Torus> cts(weights.size() * 257), out(257);
  for (int t = 0; t < 4000; ++t) {
    for (size_t i = 0; i < weights.size(); ++i) {
      encrypt_lwe(key, 0, noise, rng, rng, {cts.data() + i * 257, 257});
      if (i == 0) fresh.push_back(signed_error(decrypt_lwe_phase(key, {cts.data(), 257}), 0));
    }
    lwe_dot_product(cts, weights, out);
    combined.push_back(signed_error(decrypt_lwe_phase(key, out), 0));
  }
  EXPECT_TRUE(variance_matches(fresh, noise::encryption_variance(noise), 5, 0.0));
  EXPECT_TRUE(variance_matches(combined, noise::linear_variance(noise.variance(), squared_norm), 5, 0.0));
}

TEST(NoiseMeasured, KeySwitchAndModulusSwitch) {
  const ParameterSet& p = parameter_set("tfhe_lib_gate");
  Csprng rng = Csprng::for_tests_only(501);
  const auto client = ClientKey::generate(p, rng);
  const auto big = client.big_lwe_key();
  const auto ksk = decompress_keyswitch_key(
      generate_seeded_keyswitch_key(big, client.lwe_key, p.ks_base_log, p.ks_level, p.lwe_noise, rng));
  const int samples = testing::kSanitized ? 300 : 1000;
  std::vector<double> ks_errors, ms_errors;
  LweCiphertext small(p.lwe_dimension);
  std::vector<uint32_t> switched(lwe_size(p.lwe_dimension));
  const double two_n = 2.0 * static_cast<double>(p.polynomial_size.value);
  for (int t = 0; t < samples; ++t) {
    const auto ct = encrypt_lwe(big, rng.next_u64(), p.glwe_noise, rng);
    keyswitch_lwe(ksk, ct.data, small.data);
    const Torus phase_small = decrypt_lwe_phase(client.lwe_key, small.data);
    ks_errors.push_back(signed_error(phase_small, decrypt_lwe_phase(big, ct.data)));
    for (int r = 0; r < 20; ++r) {  // modulus switch: many fresh masks per key switch are cheap
      const auto c = encrypt_lwe(client.lwe_key, rng.next_u64(), p.lwe_noise, rng);
      modulus_switch(c.data, p.polynomial_size, switched);
      int64_t phase = switched.back();
      for (size_t i = 0; i + 1 < switched.size(); ++i) phase -= int64_t{switched[i]} * int64_t(client.lwe_key.bits[i]);
      const double switched_phase = static_cast<double>(phase) / two_n;
      const double exact_phase = static_cast<double>(decrypt_lwe_phase(client.lwe_key, c.data)) * 0x1p-64;
      ms_errors.push_back(std::remainder(switched_phase - exact_phase, 1.0));
    }
  }
  EXPECT_TRUE(variance_matches(ks_errors, noise::keyswitch_variance(p), 5, 0.05));
  // the modulus-switch term for this key's Hamming weight h: (h + 1) / (12 (2N)^2)
  const double weight = static_cast<double>(std::accumulate(client.lwe_key.bits.begin(), client.lwe_key.bits.end(), 0));
  EXPECT_TRUE(variance_matches(ms_errors, (weight + 1.0) / (12.0 * two_n * two_n), 5, 0.02));
  EXPECT_TRUE(variance_matches(ms_errors, noise::modulus_switch_variance(p.lwe_dimension, p.polynomial_size), 5, 0.15));
}

TEST(NoiseMeasured, BlindRotationOfTheGateSet) {
  const ParameterSet& p = parameter_set("tfhe_lib_gate");
  const auto keys = testing::make_keys(p, 502);
  Csprng rng = Csprng::for_tests_only(503);
  const size_t N = p.polynomial_size.value;
  const int rotations = testing::kSanitized ? 2 : 8;
  std::vector<double> errors;
  std::vector<uint32_t> mask(p.lwe_dimension.value);
  FourierBuffer scratch(blind_rotate_scratch_size(keys.server.bootstrap_key));
  for (int r = 0; r < rotations; ++r) {
    uint64_t rotation = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
      mask[i] = static_cast<uint32_t>(rng.next_u64() % (2 * N));
      rotation += mask[i] * keys.client.lwe_key.bits[i];
    }
    // trivial encryption of a random polynomial v; the result must be X^rotation v plus noise
    std::vector<Torus> acc(2 * N, 0), phase(N), v(N), expected(N);
    rng.fill_uniform(v);
    std::copy(v.begin(), v.end(), acc.begin() + static_cast<std::ptrdiff_t>(N));
    blind_rotate(keys.server.bootstrap_key, mask, acc, scratch);
    decrypt_glwe_phase(keys.client.glwe_key, acc, phase);
    multiply_by_monomial(v, rotation % (2 * N), expected);
    for (size_t j = 0; j < N; ++j) errors.push_back(signed_error(phase[j], expected[j]));
  }
  // the formula for this key's number of 1 bits h: (n - h) CMUX with bit 0 + h with bit 1
  const double ones = static_cast<double>(
      std::accumulate(keys.client.lwe_key.bits.begin(), keys.client.lwe_key.bits.end(), 0));
  const double n = static_cast<double>(p.lwe_dimension.value);
  const double predicted = (n - ones) * noise::external_product_variance(p, false) +
                           ones * noise::external_product_variance(p, true);
  // coefficients of one rotation share the key's noise, so count ~N / 8 effective samples per rotation
  EXPECT_TRUE(variance_matches(errors, predicted, 5.0 * std::sqrt(8.0), 0.1));
  EXPECT_TRUE(variance_matches(errors, noise::blind_rotation_variance(p), 5.0 * std::sqrt(8.0), 0.2));
}

TEST(NoiseMeasured, ExternalProductWithTheFftTerm) {
  // A precision-bound external product (N = 4096, one level of base 2^23): the phase error of GGSW(1) [x] GLWE
  // against formulas (5)-(7); the FFT term is what makes the difference here.
  Csprng rng = Csprng::for_tests_only(504);
  ParameterSet p = parameter_set("fhenn_p5");
  p.pbs_base_log = DecompositionBaseLog(23);
  p.pbs_level = DecompositionLevelCount(1);
  const size_t N = p.polynomial_size.value;
  const auto key = GlweSecretKey::generate(p.glwe_dimension, p.polynomial_size, rng);
  const GlweKeyProducts products(key);
  std::vector<Torus> ggsw(ggsw_size(p.glwe_dimension, p.polynomial_size, p.pbs_level));
  encrypt_ggsw(products, 1, p.pbs_base_log, p.pbs_level, p.glwe_noise, rng, rng, ggsw);
  FourierBuffer fourier(ggsw.size()), scratch(external_product_scratch_size(p.glwe_dimension, p.polynomial_size,
                                                                            p.pbs_level));
  ggsw_to_fourier(ggsw, p.glwe_dimension, p.polynomial_size, p.pbs_level, fourier.data());
  const FourierGgswView view{fourier.data(), p.glwe_dimension, p.polynomial_size, p.pbs_base_log, p.pbs_level};
  std::vector<double> errors;
  std::vector<Torus> message(N), in(2 * N), out(2 * N, 0), phase_in(N), phase_out(N);
  rng.fill_uniform(message);
  encrypt_glwe(products, message, p.glwe_noise, rng, rng, in);
  external_product_add(view, in, out, scratch);
  decrypt_glwe_phase(key, in, phase_in);
  decrypt_glwe_phase(key, out, phase_out);
  for (size_t j = 0; j < N; ++j) errors.push_back(signed_error(phase_out[j], phase_in[j]));
  const double measured = testing::mean_square(errors);
  const double formula = noise::external_product_variance(p, true);
  std::printf("external product error variance: measured %.3e, formula %.3e (FFT term %.3e)\n", measured, formula,
              noise::fft_variance(p));
  EXPECT_LE(measured, formula);
  EXPECT_GE(measured, formula / 20);  // the formula is not vacuous
}

}  // namespace
}  // namespace fhenn::tfhe
