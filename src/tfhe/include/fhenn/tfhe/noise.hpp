// Noise as code: every variance formula of the engine in one place (docs/tfhe.md, formulas (1)-(9)).
#pragma once

#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::tfhe::noise {

// All variances are relative to the torus (integer units / 2^128).

// (1) A fresh LWE/GLWE encryption: the distribution's variance.
double encryption_variance(const NoiseDistribution& noise);

// (2) A dot product sum_i w_i c_i of independent ciphertexts of equal variance v: ||w||_2^2 * v.
double linear_variance(double input_variance, double squared_weight_norm);

// (3) Key switch from the large key (k*N, binary) to the small key (n):
//     kN * l * (B^2 + 2)/12 * var_ksk + kN/2 * 1/(12 B^(2l))   (digit noise + decomposition rounding).
double keyswitch_variance(const ParameterSet& params);

// (4) Modulus switch of an n-dimensional LWE ciphertext to 2N: (n/2 + 1) / (48 N^2).
double modulus_switch_variance(LweDimension n, PolynomialSize N);

// (5) One external product / CMUX with a GGSW of a bit, digit part:  l (k+1) N (B^2 + 2)/12 * var_bsk,
// (6) rounding part (when the bit is 1): (1 + kN/2) / (12 B^(2l)),
// (7) FFT part: kappa * l (k+1) N B^2 * 2^-106 * log2(N)  (kappa fitted, see noise.cpp).
double external_product_variance(const ParameterSet& params, bool bit_is_one);
double fft_variance(const ParameterSet& params);

// (8) Blind rotation (n CMUXes, half the key bits 1 on average) = bootstrap output variance (under the large key).
double blind_rotation_variance(const ParameterSet& params);

// (9) Error at the PBS input: a dot product of bootstrapped (or fresh) ciphertexts with squared weight norm
//     nu^2, then key switch, then modulus switch:  nu^2 * max(var_BR, var_fresh) + var_KS + var_MS.
double pbs_input_variance(const ParameterSet& params, double squared_weight_norm);
// Its standard deviation in torus units: what a simulator adds to m * Delta to mimic the encrypted PBS input.
double pbs_input_stddev(const ParameterSet& params, double squared_weight_norm);

// (10) Failure probability of one lookup: P(|e| >= Delta/2) = erfc(Delta / (2 sqrt(2) sigma)) with
//      Delta/2 = 2^-(p+2), e ~ N(0, pbs_input_variance).
double failure_probability(const ParameterSet& params, double squared_weight_norm);

}  // namespace fhenn::tfhe::noise
