// Noise as code: every variance formula of the engine in one place (docs/tfhe.md, formulas (1)-(10')).
#pragma once

#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::tfhe::noise {

// All variances are relative to the torus (integer units / 2^128).

// Hamming weights of the secret keys. The formulas average over uniform binary keys (n/2 and kN/2 ones); a
// measurement with one key conditions on that key's weights (tests/tfhe/noise_test.cpp).
struct KeyWeights {
  double lwe = 0.0;   // ones in the small LWE key s (dimension n)
  double glwe = 0.0;  // ones in the GLWE key (k polynomials of N), i.e. in the large LWE key (k*N)
};
KeyWeights average_key_weights(const ParameterSet& params);  // {n/2, kN/2}

// (1) A fresh LWE/GLWE encryption: the distribution's variance.
double encryption_variance(const NoiseDistribution& noise);

// (2) A dot product sum_i w_i c_i of independent ciphertexts of equal variance v: ||w||_2^2 * v.
double linear_variance(double input_variance, double squared_weight_norm);

// (3) Key switch from the large key (k*N, binary, h_glwe ones) to the small key (n):
//     kN * l * (B^2 + 2)/12 * var_ksk + h_glwe * 1/(12 B^(2l))   (digit noise + decomposition rounding).
double keyswitch_variance(const ParameterSet& params);
double keyswitch_variance(const ParameterSet& params, double big_key_weight);

// (4) Modulus switch of an n-dimensional LWE ciphertext (key with h ones) to 2N: (h + 1) / (12 (2N)^2).
double modulus_switch_variance(LweDimension n, PolynomialSize N);  // h = n/2
double modulus_switch_variance(PolynomialSize N, double key_weight);

// (5) One external product / CMUX with a GGSW of a bit, digit part:  l (k+1) N (B^2 + 2)/12 * var_bsk,
// (6) rounding part (when the bit is 1): (1 + h_glwe) / (12 B^(2l)),
// (7) FFT part (double-precision products, measured): kappa (log2 N - 2.55) (1 + h_glwe) l (k+1) N B^2 2^-106,
//     kappa = 0.0163 (AVX2 / AVX-512 builds; see noise.cpp).
double external_product_variance(const ParameterSet& params, bool bit_is_one);
double external_product_variance(const ParameterSet& params, bool bit_is_one, double glwe_key_weight);
double fft_variance(const ParameterSet& params);
double fft_variance(const ParameterSet& params, double glwe_key_weight);

// (8) Blind rotation: n - h_lwe CMUXes with bit 0, h_lwe with bit 1 = bootstrap output variance (large key).
double blind_rotation_variance(const ParameterSet& params);
double blind_rotation_variance(const ParameterSet& params, const KeyWeights& weights);

// (9) Error at the PBS input: a dot product of bootstrapped (or fresh) ciphertexts with squared weight norm
//     nu^2, then key switch, then modulus switch:  nu^2 * max(var_BR, var_fresh) + var_KS + var_MS.
double pbs_input_variance(const ParameterSet& params, double squared_weight_norm);
double pbs_input_variance(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights);
// Its standard deviation in torus units: what a simulator adds to m * Delta to mimic the encrypted PBS input.
double pbs_input_stddev(const ParameterSet& params, double squared_weight_norm);

// (10) Failure probability of one lookup: P(|e| >= Delta/2) = erfc(Delta / (2 sqrt(2) sigma)) with
//      Delta/2 = 2^-(p+2), e ~ N(0, pbs_input_variance).
double failure_probability(const ParameterSet& params, double squared_weight_norm);
double failure_probability(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights);
// (10) for a given PBS input variance.
double failure_probability_at(MessageBits message_bits, double pbs_input_variance);
// The inverse of (10): the largest error variance with P(|e| >= 2^-(bits + 2)) <= p_error, bits the message bits
// of a lookup or the encoding bits e of a value decrypted from a * 2^(63 - e).
double max_error_variance(int bits, double p_error);

// (10') The engine's decision itself: the modulus-switched phase is a multiple of u = 1/(2N), and the lookup is
//      right when its error lies in [-Delta/2, Delta/2 - u] (the half-box rotated table). With Y the error before
//      the body's rounding to u (variance sigma_9^2 - u^2/12), the lookup fails with probability
//      Q((Delta/2 - u/2) / sigma_Y) + Q((Delta/2 + u/2) / sigma_Y), Q the normal tail. (10) is below it by 1.6%,
//      4% and 8% at 1e-2, 1e-3, 1e-4 with 16-unit half boxes, by 5% at 2^-40 and 14% at 2^-128 with 64-128
//      (< 0.2 bits); select_parameters still inverts (10).
double switched_failure_probability(const ParameterSet& params, double squared_weight_norm, const KeyWeights& weights);
double switched_failure_probability_at(MessageBits message_bits, PolynomialSize N, double pbs_input_variance);

}  // namespace fhenn::tfhe::noise
