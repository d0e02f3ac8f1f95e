// Variance formulas of the engine (see noise.hpp and docs/tfhe.md; Chillotti et al. 2020, Bergerat et al. 2023).
#include "fhenn/tfhe/noise.hpp"

#include <algorithm>
#include <cmath>

namespace fhenn::tfhe::noise {
namespace {

double gadget_base(DecompositionBaseLog base_log) { return std::ldexp(1.0, static_cast<int>(base_log.value)); }

// Variance of a balanced digit of a uniform value: uniform on [-B/2, B/2) -> (B^2 + 2) / 12.
double digit_variance(DecompositionBaseLog base_log) {
  const double b = gadget_base(base_log);
  return (b * b + 2.0) / 12.0;
}

// Variance of the rounding error of a decomposition keeping base_log * levels bits: 1 / (12 B^(2l)).
double rounding_variance(DecompositionBaseLog base_log, DecompositionLevelCount levels) {
  return std::ldexp(1.0, -2 * static_cast<int>(base_log.value * levels.value)) / 12.0;
}

// kappa of formula (7) for this engine's FFT path, fitted on measured external products (phase error minus the
// rounding term): kappa_eff ~ 40 at N=4096, ~90 at N=16384, ~100 at N=32768 (B=2^23..2^24), far smaller at
// N <= 2048; tests/tfhe/noise_test.cpp (ExternalProductWithTheFftTerm) checks it.
constexpr double kFftKappa = 150.0;

}  // namespace

double encryption_variance(const NoiseDistribution& noise) { return noise.variance(); }

double linear_variance(double input_variance, double squared_weight_norm) {
  return squared_weight_norm * input_variance;
}

double keyswitch_variance(const ParameterSet& params) {
  const double big_n = static_cast<double>(params.big_lwe_dimension().value);
  const double levels = static_cast<double>(params.ks_level.value);
  return big_n * levels * digit_variance(params.ks_base_log) * params.lwe_noise.variance() +
         big_n / 2.0 * rounding_variance(params.ks_base_log, params.ks_level);
}

double modulus_switch_variance(LweDimension n, PolynomialSize N) {
  const double two_n = 2.0 * static_cast<double>(N.value);
  return (static_cast<double>(n.value) / 2.0 + 1.0) / (12.0 * two_n * two_n);
}

double fft_variance(const ParameterSet& params) {
  const double b = gadget_base(params.pbs_base_log);
  const double n_poly = static_cast<double>(params.polynomial_size.value);
  return kFftKappa * static_cast<double>(params.pbs_level.value * glwe_size(params.glwe_dimension)) * n_poly * b * b *
         0x1p-106 * std::log2(n_poly);
}

double external_product_variance(const ParameterSet& params, bool bit_is_one) {
  const double n_poly = static_cast<double>(params.polynomial_size.value);
  const double k = static_cast<double>(params.glwe_dimension.value);
  const double digits = static_cast<double>(params.pbs_level.value) * (k + 1.0) * n_poly *
                        digit_variance(params.pbs_base_log) * params.glwe_noise.variance();
  const double rounding = bit_is_one ? (1.0 + k * n_poly / 2.0) * rounding_variance(params.pbs_base_log, params.pbs_level)
                                     : 0.0;
  return digits + rounding + fft_variance(params);
}

double blind_rotation_variance(const ParameterSet& params) {
  const double n = static_cast<double>(params.lwe_dimension.value);
  return n / 2.0 * external_product_variance(params, false) + n / 2.0 * external_product_variance(params, true);
}

double pbs_input_variance(const ParameterSet& params, double squared_weight_norm) {
  const double input = std::max(blind_rotation_variance(params), params.glwe_noise.variance());
  return linear_variance(input, squared_weight_norm) + keyswitch_variance(params) +
         modulus_switch_variance(params.lwe_dimension, params.polynomial_size);
}

double pbs_input_stddev(const ParameterSet& params, double squared_weight_norm) {
  return std::sqrt(pbs_input_variance(params, squared_weight_norm));
}

double failure_probability(const ParameterSet& params, double squared_weight_norm) {
  const double half_delta = std::ldexp(1.0, -static_cast<int>(params.message_bits.value) - 2);
  return std::erfc(half_delta / (std::sqrt(2.0) * pbs_input_stddev(params, squared_weight_norm)));
}

}  // namespace fhenn::tfhe::noise
