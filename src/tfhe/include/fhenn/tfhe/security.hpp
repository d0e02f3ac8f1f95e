// The 128-bit security floor: every key is generated for a parameter set whose LWE and GLWE halves pass it.
#pragma once

#include <cstddef>
#include <string>

#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::tfhe {

// Whether keys may be generated for a set below the floor: never in production; tests of the failure rate and
// the comparison with the original TFHE library need weak sets, and say so with allow_insecure.
enum class KeySecurity { require_128_bit, allow_insecure };

// One half of a set (the small LWE key, or the flattened GLWE key of dimension k*N) against the curve.
struct SecurityHalf {
  size_t dimension = 0;
  double log2_stddev = 0.0;      // of its encryptions' noise, relative to the torus
  double min_log2_stddev = 0.0;  // what the curve asks for at this dimension
  bool secure = false;
  std::string describe() const;  // "n=866: noise 2^-18.9, the curve asks >= 2^-20.8: secure"
};

struct SecurityReport {
  SecurityHalf lwe;
  SecurityHalf glwe;
  bool secure() const { return lwe.secure && glwe.secure; }
  std::string describe() const;
};

// The smallest noise standard deviation (log2, relative to the torus) for 128-bit security of LWE with a binary
// key in dimension `dimension` at q = 2^64, by Concrete's security curve (Bergerat et al., "Parameter
// Optimization and Larger Precision for (T)FHE", J. Cryptology 2023; the curve's constants as published in
// zama-ai/concrete's compiler, V0Curves, SECURITY_LEVEL_128, fitted with the lattice estimator of Albrecht et al.):
//   log2(sigma) >= max(-0.026374888765705498 * dimension + 2.012143923330495, 2 - 64), dimension >= 256.
// Below 256 the curve does not apply and no noise is secure: returns +infinity.
double min_secure_log2_stddev(size_t dimension);

// Both halves of `params` against the curve (TUniform noise compared by its standard deviation, as TFHE-rs
// estimates its TUniform sets).
SecurityReport check_security(const ParameterSet& params);

// Throws fhenn::Error naming the set, the failing half and the fix when `params` is below the floor and
// `policy` does not allow it.
void require_secure(const ParameterSet& params, KeySecurity policy);

}  // namespace fhenn::tfhe
