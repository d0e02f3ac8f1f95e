// Variance formulas of the engine (see noise.hpp and docs/tfhe.md; Chillotti et al. 2020, Bergerat et al. 2023).
#include "fhenn/tfhe/noise.hpp"

#include <algorithm>
#include <cmath>

namespace fhenn::tfhe::noise {
namespace {

double gadget_base(DecompositionBaseLog base_log) {
  return std::ldexp(1.0, static_cast<int>(base_log.value));
}

// Variance of a balanced digit of a uniform value: uniform on [-B/2, B/2) -> (B^2 + 2) / 12 (second moment).
double digit_variance(DecompositionBaseLog base_log) {
  const double b = gadget_base(base_log);
  return (b * b + 2.0) / 12.0;
}

// Variance of the rounding error of a decomposition keeping base_log * levels bits: 1 / (12 B^(2l)).
double rounding_variance(DecompositionBaseLog base_log, DecompositionLevelCount levels) {
  return std::ldexp(1.0, -2 * static_cast<int>(base_log.value * levels.value)) / 12.0;
}

// Formula (7), measured for this engine's AVX2 and AVX-512 builds (which give the same doubles). With a noiseless
// GGSW(1) and a one-level 2^30 (or 2^23 with inputs on the decomposition grid) decomposition, the phase error of the
// external product is the FFT error alone; its variance at coefficient 0, averaged over 16-600 keys (8 at
// N = 32768), is c_N (1 + h_glwe) l (k+1) N B^2 2^-106 with c_N = 0.105, 0.118, 0.135, 0.152, 0.172, 0.183, 0.203
// at N = 2^9 .. 2^15 (+-1% at N = 512 to +-3% at 32768; the same at B = 2^12 .. 2^30, l = 1..3, k = 1, 2, on or off
// the grid, and inside blind rotations). c_N = kappa (log2 N - 2.55), kappa = 0.0163, fits it within 3%. Each
// output coefficient carries its own rounding error; the phase B - <A, S> sums 1 + h_glwe of them, hence the
// factor. One key's value scatters by ~10% around the mean (the GLWE key and the GGSW, not only h_glwe), so
// measurements average over keys. The portable build (no FMA) is 9-16% noisier. The previous form,
// 150 l (k+1) N B^2 2^-106 log2 N, lacked the (1 + h_glwe) (it was fitted to single outputs, whose coefficients
// are correlated): 12-50x too large at N <= 2048, 3-6x at 4096-8192, 1.5x too small at N = 32768 (k = 1).
// Checked by tests/tfhe/noise_test.cpp (FftErrorOfTheExternalProduct) and failure_rate_test.cpp.
constexpr double kFftKappa = 0.0163;
constexpr double kFftLogOffset = 2.55;

}  // namespace

KeyWeights average_key_weights(const ParameterSet& params) {
  return {static_cast<double>(params.lwe_dimension.value) / 2.0,
          static_cast<double>(params.big_lwe_dimension().value) / 2.0};
}

double encryption_variance(const NoiseDistribution& noise) {
  return noise.variance();
}

double linear_variance(double input_variance, double squared_weight_norm) {
  return squared_weight_norm * input_variance;
}

double keyswitch_variance(const ParameterSet& params) {
  return keyswitch_variance(params, average_key_weights(params).glwe);
}

double keyswitch_variance(const ParameterSet& params, double big_key_weight) {
  const double big_n = static_cast<double>(params.big_lwe_dimension().value);
  const double levels = static_cast<double>(params.ks_level.value);
  return big_n * levels * digit_variance(params.ks_base_log) * params.lwe_noise.variance() +
         big_key_weight * rounding_variance(params.ks_base_log, params.ks_level);
}

double modulus_switch_variance(LweDimension n, PolynomialSize N) {
  return modulus_switch_variance(N, static_cast<double>(n.value) / 2.0);
}

double modulus_switch_variance(PolynomialSize N, double key_weight) {
  const double two_n = 2.0 * static_cast<double>(N.value);
  return (key_weight + 1.0) / (12.0 * two_n * two_n);
}

double fft_variance(const ParameterSet& params) {
  return fft_variance(params, average_key_weights(params).glwe);
}

double fft_variance(const ParameterSet& params, double glwe_key_weight) {
  const double b = gadget_base(params.pbs_base_log);
  const double n_poly = static_cast<double>(params.polynomial_size.value);
  const double rows = static_cast<double>(params.pbs_level.value * glwe_size(params.glwe_dimension));
  return kFftKappa * (std::log2(n_poly) - kFftLogOffset) * (1.0 + glwe_key_weight) * rows * n_poly * b * b * 0x1p-106;
}

double external_product_variance(const ParameterSet& params, bool bit_is_one) {
  return external_product_variance(params, bit_is_one, average_key_weights(params).glwe);
}

double external_product_variance(const ParameterSet& params, bool bit_is_one, double glwe_key_weight) {
  const double n_poly = static_cast<double>(params.polynomial_size.value);
  const double k = static_cast<double>(params.glwe_dimension.value);
  const double digits = static_cast<double>(params.pbs_level.value) * (k + 1.0) * n_poly *
                        digit_variance(params.pbs_base_log) * params.glwe_noise.variance();
  const double rounding =
      bit_is_one ? (1.0 + glwe_key_weight) * rounding_variance(params.pbs_base_log, params.pbs_level) : 0.0;
  return digits + rounding + fft_variance(params, glwe_key_weight);
}

double blind_rotation_variance(const ParameterSet& params) {
  return blind_rotation_variance(params, average_key_weights(params));
}

double blind_rotation_variance(const ParameterSet& params, const KeyWeights& weights) {
  const double zeros = static_cast<double>(params.lwe_dimension.value) - weights.lwe;
  return zeros * external_product_variance(params, false, weights.glwe) +
         weights.lwe * external_product_variance(params, true, weights.glwe);
}

double pbs_input_variance(const ParameterSet& params, double squared_weight_norm) {
  return pbs_input_variance(params, squared_weight_norm, average_key_weights(params));
}

double pbs_input_variance(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights) {
  const double input = std::max(blind_rotation_variance(params, weights), params.glwe_noise.variance());
  return linear_variance(input, squared_weight_norm) + keyswitch_variance(params, weights.glwe) +
         modulus_switch_variance(params.polynomial_size, weights.lwe);
}

double pbs_input_stddev(const ParameterSet& params, double squared_weight_norm) {
  return std::sqrt(pbs_input_variance(params, squared_weight_norm));
}

double failure_probability(const ParameterSet& params, double squared_weight_norm) {
  return failure_probability_at(params.message_bits, pbs_input_variance(params, squared_weight_norm));
}

double failure_probability(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights) {
  return failure_probability_at(params.message_bits, pbs_input_variance(params, squared_weight_norm, weights));
}

double failure_probability_at(MessageBits message_bits, double pbs_input_variance) {
  const double half_delta = std::ldexp(1.0, -static_cast<int>(message_bits.value) - 2);
  return std::erfc(half_delta / std::sqrt(2.0 * pbs_input_variance));
}

double max_error_variance(int bits, double p_error) {
  double lo = 0.0, hi = 40.0;  // z such that erfc(z) = p_error
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid) > p_error ? lo : hi) = mid;
  }
  const double sigma = std::ldexp(1.0, -bits - 2) / (std::sqrt(2.0) * hi);
  return sigma * sigma;
}

double switched_failure_probability(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights) {
  return switched_failure_probability_at(params.message_bits, params.polynomial_size,
                                         pbs_input_variance(params, squared_weight_norm, weights));
}

double switched_failure_probability_at(MessageBits message_bits, PolynomialSize N, double pbs_input_variance) {
  const double half_delta = std::ldexp(1.0, -static_cast<int>(message_bits.value) - 2);
  const double unit = 1.0 / (2.0 * static_cast<double>(N.value));
  const double sigma_y = std::sqrt(pbs_input_variance - unit * unit / 12.0);
  auto tail = [sigma_y](double threshold) { return 0.5 * std::erfc(threshold / (std::sqrt(2.0) * sigma_y)); };
  return tail(half_delta - unit / 2.0) + tail(half_delta + unit / 2.0);
}

}  // namespace fhenn::tfhe::noise
