// Helpers for the TFHE engine tests: sanitizer detection, keys for a named set, key-conditioned noise.
#pragma once

#include <cmath>
#include <numeric>
#include <vector>

#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/noise.hpp"

namespace fhenn::tfhe::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct Keys {
  ClientKey client;
  ServerKey server;
};

inline Keys make_keys(const ParameterSet& params, uint64_t seed) {
  Csprng rng = Csprng::for_tests_only(seed);
  // Tests exercise the weak sets on purpose (failure rates, the original library's set).
  ClientKey client = ClientKey::generate(params, rng, KeySecurity::allow_insecure);
  ServerKey server = ServerKey::generate(client, rng, 2);
  return {std::move(client), std::move(server)};
}

// Number of ones in a binary key.
inline double hamming_weight(const std::vector<uint64_t>& bits) {
  return static_cast<double>(std::accumulate(bits.begin(), bits.end(), uint64_t{0}));
}

// The Hamming weights of a client key's two keys: what a measurement with this key conditions formulas on.
inline noise::KeyWeights key_weights(const ClientKey& key) {
  return {hamming_weight(key.lwe_key.bits), hamming_weight(key.glwe_key.bits)};
}

// The noise e_ij of a key-switching key's rows KSK_ij = LWE_out(s_in[i] 2^(64 - j beta)) + e_ij, summarised by
// its energy sum e^2 and its sum.
struct KeyswitchKeyNoise {
  double sum_of_squares = 0.0;
  double sum = 0.0;
};

inline KeyswitchKeyNoise measure_keyswitch_key_noise(const LweKeyswitchKey& ksk, const LweSecretKey& in,
                                                     const LweSecretKey& out) {
  const size_t levels = ksk.levels.value, row = lwe_size(ksk.output_dimension), beta = ksk.base_log.value;
  KeyswitchKeyNoise noise;
  for (size_t i = 0; i < in.bits.size(); ++i) {
    for (size_t j = 0; j < levels; ++j) {
      const std::span<const Torus> r(ksk.data.data() + (i * levels + j) * row, row);
      const double e = torus_to_signed_double(decrypt_lwe_phase(out, r) - (in.bits[i] << (64 - (j + 1) * beta)));
      noise.sum_of_squares += e * e;
      noise.sum += e;
    }
  }
  return noise;
}

// Formula (3) for one realised key: the key switch subtracts sum_ij d_ij e_ij with digits d_ij independent and
// uniform on [-B/2, B/2) (mean -1/2, variance (B^2 - 1)/12), so its second moment given the key is
// (B^2 - 1)/12 sum e^2 + (sum e)^2 / 4; the rounding term counts the input key's h ones. Averaged over keys this is
// formula (3) (E[e^2] = var_ksk, E[(sum e)^2] = kN l var_ksk).
inline double conditioned_keyswitch_variance(const ParameterSet& p, const KeyswitchKeyNoise& noise,
                                             double big_key_weight) {
  const double base = std::ldexp(1.0, static_cast<int>(p.ks_base_log.value));
  const double rounding = std::ldexp(1.0, -2 * static_cast<int>(p.ks_base_log.value * p.ks_level.value)) / 12.0;
  return (base * base - 1.0) / 12.0 * noise.sum_of_squares + noise.sum * noise.sum / 4.0 + big_key_weight * rounding;
}

inline double mean(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

}  // namespace fhenn::tfhe::testing
