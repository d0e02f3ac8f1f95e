// GLWE keys and ciphertexts, GGSW ciphertexts (standard and Fourier), external product and CMUX.
#pragma once

#include <span>
#include <vector>

#include "fhenn/tfhe/csprng.hpp"
#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/lwe.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::tfhe {

// A binary GLWE secret key S = (S_0..S_(k-1)), each a polynomial of size N with 0/1 coefficients. Its
// coefficients in order form the large LWE key of dimension k*N (the key sample extraction yields).
struct GlweSecretKey {
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  std::vector<uint64_t> bits;  // k * N
  static GlweSecretKey generate(GlweDimension k, PolynomialSize N, Csprng& rng);
  LweSecretKey as_lwe_key() const { return LweSecretKey{bits}; }
  std::span<const uint64_t> polynomial(size_t i) const {
    return std::span<const uint64_t>(bits).subspan(i * polynomial_size.value, polynomial_size.value);
  }
};

// Exact <A, S> for a GLWE key (built once per key; limb FFT products, see ExactSmallProduct).
class GlweKeyProducts {
 public:
  explicit GlweKeyProducts(const GlweSecretKey& key);
  // out += sum_i masks_i * S_i (masks: k polynomials of N).
  void mask_product_add(std::span<const Torus> masks, std::span<Torus> out, std::span<double> scratch) const;
  size_t scratch_size() const { return products_.front().scratch_size(); }
  const GlweSecretKey& key() const { return *key_; }

 private:
  const GlweSecretKey* key_;
  std::vector<ExactSmallProduct> products_;
};

// A GLWE ciphertext (A_0..A_(k-1), B), B = sum A_i S_i + E + M; phase = B - sum A_i S_i. (k + 1) * N words.
struct GlweCiphertext {
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  std::vector<Torus> data;
  GlweCiphertext(GlweDimension k, PolynomialSize N)
      : glwe_dimension(k), polynomial_size(N), data(glwe_size(k) * N.value) {}
};

// Encrypts the polynomial `message` (N torus values) into `out` ((k + 1) * N words).
void encrypt_glwe(const GlweKeyProducts& key, std::span<const Torus> message, const NoiseDistribution& noise,
                  Csprng& mask_rng, Csprng& noise_rng, std::span<Torus> out);
// phase (N values) = B - sum A_i S_i.
void decrypt_glwe_phase(const GlweSecretKey& key, std::span<const Torus> ciphertext, std::span<Torus> phase);

// A GGSW ciphertext of an integer m: (k + 1) * l GLWE rows; row (i, j) (i in 0..k, level j = 1..l, index
// i * l + j - 1) has phase m * 2^(64 - j base_log) * (i == k ? 1 : -S_i), i.e. it equals an encryption of 0 plus
// m * g_j in component i. (The phase form lets the masks come from a public seed: seed-compressed keys.)
struct GgswCiphertext {
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
  std::vector<Torus> data;  // rows * (k + 1) * N
};

void encrypt_ggsw(const GlweKeyProducts& key, int64_t message, DecompositionBaseLog base_log,
                  DecompositionLevelCount levels, const NoiseDistribution& noise, Csprng& mask_rng, Csprng& noise_rng,
                  std::span<Torus> out);
size_t ggsw_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels);

// A GGSW in the Fourier domain: ggsw_size doubles, the polynomials' Fourier coefficients interleaved in the order
// the external product streams them (see kernels::fourier_ggsw_offset).
struct FourierGgswView {
  const double* data;
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
};
// Converts a standard GGSW to the Fourier domain (out: ggsw_size doubles, 64-byte aligned; N >= 8).
void ggsw_to_fourier(std::span<const Torus> ggsw, GlweDimension k, PolynomialSize N, DecompositionLevelCount levels,
                     double* out);

// External product (TFHE, Theorem 3.13): out += GGSW(m) [x] GLWE(M), an encryption of m * M.
// Decomposes each of the k+1 input polynomials, forward FFTs the l digit polynomials, accumulates in the Fourier
// domain over all rows, and makes one inverse FFT per output polynomial.
size_t external_product_scratch_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels);
void external_product_add(const FourierGgswView& ggsw, std::span<const Torus> glwe_in, std::span<Torus> glwe_out,
                          std::span<double> scratch);
// The same, fetching the GGSW at `next_ggsw` (same shape; null: none) into cache while streaming this one.
void external_product_add_prefetching(const FourierGgswView& ggsw, std::span<const Torus> glwe_in,
                                      std::span<Torus> glwe_out, std::span<double> scratch, const double* next_ggsw);
// Reference twin: exact schoolbook products with the standard-domain GGSW (tests only, O(N^2)).
void external_product_reference(std::span<const Torus> ggsw, GlweDimension k, PolynomialSize N,
                                DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                std::span<const Torus> glwe_in, std::span<Torus> glwe_out);

// CMUX: acc <- acc + GGSW(b) [x] (X^power * acc - acc): acc becomes X^(b * power) * acc.
size_t cmux_scratch_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels);
void cmux_rotate(const FourierGgswView& ggsw, size_t power, std::span<Torus> acc, std::span<double> scratch);
void cmux_rotate_prefetching(const FourierGgswView& ggsw, size_t power, std::span<Torus> acc, std::span<double> scratch,
                             const double* next_ggsw);
// General CMUX: out = ct0 + GGSW(b) [x] (ct1 - ct0), an encryption of b ? M1 : M0.
void cmux(const FourierGgswView& ggsw, std::span<const Torus> ct0, std::span<const Torus> ct1, std::span<Torus> out,
          std::span<double> scratch);

}  // namespace fhenn::tfhe
