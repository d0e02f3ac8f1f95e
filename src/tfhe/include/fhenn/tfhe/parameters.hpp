// TFHE parameter sets (p = 1..8 message bits, the original library's gate set, a weak test set) and their choice.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fhenn/tfhe/types.hpp"

namespace fhenn::tfhe {

// The noise distribution a cited set assumes for a key's encryptions.
struct NoiseDistribution {
  enum class Kind { kGaussian, kTUniform };
  Kind kind = Kind::kGaussian;
  double gaussian_stddev = 0.0;  // relative to the torus
  int tuniform_bound_log2 = 0;   // TUniform(b): integers in [-2^b, 2^b] on the 2^64 torus

  static NoiseDistribution gaussian(double stddev) { return {Kind::kGaussian, stddev, 0}; }
  static NoiseDistribution tuniform(int bound_log2) { return {Kind::kTUniform, 0.0, bound_log2}; }
  // Variance relative to the torus: sigma^2, or (2^(2b+1) + 1) / 6 / 2^128 for TUniform(b).
  double variance() const;
  NoiseStdDev stddev() const;
  std::string describe() const;  // "tu(46)" or "gauss(2.05e-06)"
  bool operator==(const NoiseDistribution&) const = default;
};

// Everything that defines a KS-then-PBS pipeline: LWE key n (small), GLWE key (k, N) whose flattening is the
// large LWE key of dimension k*N, bootstrap decomposition (pbs_base_log, pbs_level), key-switch decomposition
// (ks_base_log, ks_level), and the noise of each key's encryptions.
struct ParameterSet {
  std::string name;
  MessageBits message_bits;
  LweDimension lwe_dimension;
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  DecompositionBaseLog pbs_base_log;
  DecompositionLevelCount pbs_level;
  DecompositionBaseLog ks_base_log;
  DecompositionLevelCount ks_level;
  NoiseDistribution lwe_noise;   // key-switching key (small key n)
  NoiseDistribution glwe_noise;  // bootstrap key, fresh encryptions under the large key
  bool secure = true;            // passes the 128-bit floor (security.hpp: check_security), never read from files
  std::string source;            // public source of (n, noise) and (k, N, noise)

  // The large LWE key's dimension k*N (ciphertexts after a bootstrap, fresh inputs).
  LweDimension big_lwe_dimension() const { return LweDimension(glwe_dimension.value * polynomial_size.value); }
  // Delta = 2^(63-p): the torus value of message 1.
  Torus delta() const { return Torus{1} << (63 - message_bits.value); }
  // Throws fhenn::Error when the combination is unusable (sizes, decomposition precision, box size).
  void validate() const;
  // Same cryptographic parameters (everything but the name, source and message bits).
  bool same_keys_as(const ParameterSet& other) const;
  bool operator==(const ParameterSet& other) const;
};

// The named sets: "fhenn_p1".."fhenn_p8" (>= 128-bit, p_error <= 2^-40 at squared weight norm 1, derived from
// cited sets, see parameters.cpp), "tfhers_1_1", "tfhers_2_2", "tfhers_3_3" (TFHE-rs published sets),
// "tfhe_lib_gate" (original TFHE library, comparison) and "test_weak" (INSECURE, visible failure rate).
const std::vector<ParameterSet>& named_parameter_sets();
// Throws fhenn::Error listing the known names when `name` is unknown.
const ParameterSet& parameter_set(std::string_view name);
// "fhenn_p<bits>" for bits in 1..8; throws otherwise.
const ParameterSet& default_parameter_set(size_t message_bits);

// Estimated cost of one KS + PBS in FLOP-equivalents (the cost model of Bergerat et al., J. Cryptology 2023; the
// memory-bound key switch counted as the FLOPs a 42 GFLOP/s core could do while it streams its key at 24 GB/s).
double keyswitch_bootstrap_cost(const ParameterSet& params);

// The cheapest set (by keyswitch_bootstrap_cost) among the named secure sets and their decomposition variants
// whose failure probability per lookup, for a PBS fed by a dot product of bootstrapped ciphertexts with weights
// of squared 2-norm max_squared_weight_norm, is at most p_error. The returned set has message_bits set.
// max_bootstrap_output_variance bounds max(blind rotation variance (8), fresh GLWE variance): what decrypting
// wide outputs needs (their error is a weighted sum of bootstrap outputs, with no key or modulus switch after).
// Throws fhenn::Error explaining the best reachable failure probability when none qualifies.
ParameterSet select_parameters(size_t message_bits, double max_squared_weight_norm, double p_error = 0x1p-40,
                               double max_bootstrap_output_variance = std::numeric_limits<double>::infinity());

}  // namespace fhenn::tfhe
