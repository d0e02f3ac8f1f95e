// LWE keys and ciphertexts, the gadget decomposition, linear operations and key switching.
#pragma once

#include <span>
#include <vector>

#include "fhenn/tfhe/csprng.hpp"
#include "fhenn/tfhe/parameters.hpp"
#include "fhenn/tfhe/types.hpp"

namespace fhenn::tfhe {

// A binary LWE secret key s in {0,1}^n (one word per bit for fast inner products).
struct LweSecretKey {
  std::vector<uint64_t> bits;
  LweDimension dimension() const { return LweDimension(bits.size()); }
  static LweSecretKey generate(LweDimension n, Csprng& rng);
};

// An LWE ciphertext (a_1..a_n, b) with b = <a, s> + e + plaintext; phase = b - <a, s> = plaintext + e.
struct LweCiphertext {
  std::vector<Torus> data;  // n mask words then the body
  LweCiphertext() = default;
  explicit LweCiphertext(LweDimension n) : data(lwe_size(n), 0) {}
  LweDimension dimension() const { return LweDimension(data.size() - 1); }
  Torus& body() { return data.back(); }
  Torus body() const { return data.back(); }
};

// One noise sample of the distribution, on the 2^64 torus.
Torus sample_noise(const NoiseDistribution& noise, Csprng& rng);

// Encrypts `plaintext` (a torus value, e.g. encode_message(m, p)) into `out` (n + 1 words). Masks come from
// mask_rng (a public seeded generator for compressed keys, or the same generator as noise_rng).
void encrypt_lwe(const LweSecretKey& key, Torus plaintext, const NoiseDistribution& noise, Csprng& mask_rng,
                 Csprng& noise_rng, std::span<Torus> out);
LweCiphertext encrypt_lwe(const LweSecretKey& key, Torus plaintext, const NoiseDistribution& noise, Csprng& rng);
// The phase b - <a, s> (plaintext + noise).
Torus decrypt_lwe_phase(const LweSecretKey& key, std::span<const Torus> ciphertext);

// Linear operations (phases combine the same way; noise per noise::linear_variance).
void add_lwe(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out);
void subtract_lwe(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out);
void negate_lwe(std::span<const Torus> a, std::span<Torus> out);
void multiply_lwe_by_integer(std::span<const Torus> a, int64_t factor, std::span<Torus> out);
void add_plaintext_to_lwe(std::span<Torus> ciphertext, Torus plaintext);
// out += factor * a, the factor taken modulo 2^64 (a clear weight, possibly times a power of two).
void add_scaled_lwe(std::span<Torus> out, std::span<const Torus> a, Torus factor);
// out = sum_i weights[i] * ciphertexts[i], with `ciphertexts` = count contiguous ciphertexts of `size` words.
void lwe_dot_product(std::span<const Torus> ciphertexts, std::span<const int64_t> weights, std::span<Torus> out);
// A whole layer: outputs[o] = sum_i weights[o * inputs + i] * ciphertexts[i] (contiguous ciphertexts).
void lwe_matrix_product(std::span<const Torus> ciphertexts, size_t input_count, std::span<const int64_t> weights,
                        std::span<Torus> outputs);

// Gadget decomposition with rounding and balanced signed digits (TFHE, section 3.2): x is rounded to the closest
// multiple of 2^(64 - base_log * levels), then written as sum_j d_j 2^(64 - j base_log), d_j in [-B/2, B/2).
class SignedDecomposer {
 public:
  SignedDecomposer(DecompositionBaseLog base_log, DecompositionLevelCount levels);
  Torus closest_representable(Torus x) const;
  // digits[j - 1] = d_j, j = 1 (most significant) .. levels.
  void decompose(Torus x, int64_t* digits) const;
  Torus recompose(const int64_t* digits) const;
  size_t base_log() const { return base_log_; }
  size_t levels() const { return levels_; }

 private:
  size_t base_log_;
  size_t levels_;
};

// Key-switching key from an input key (dimension N_in, here the large k*N key) to an output key (n):
// row (i, j) = LWE_out(s_in[i] * 2^(64 - j base_log)), n + 1 words each, ordered [i][j].
struct LweKeyswitchKey {
  LweDimension input_dimension;
  LweDimension output_dimension;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
  std::vector<Torus> data;
  size_t bytes() const { return data.size() * sizeof(Torus); }
};

// Seed-compressed form: the masks are regenerated from mask_seed (stream i per input coefficient); only the
// bodies [i][j] are stored.
struct SeededLweKeyswitchKey {
  LweDimension input_dimension;
  LweDimension output_dimension;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
  Seed mask_seed{};
  std::vector<Torus> bodies;
};

SeededLweKeyswitchKey generate_seeded_keyswitch_key(const LweSecretKey& input_key, const LweSecretKey& output_key,
                                                    DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                                    const NoiseDistribution& noise, Csprng& rng);
LweKeyswitchKey decompress_keyswitch_key(const SeededLweKeyswitchKey& seeded);

// Key switching: out = (0, b) - sum_(i,j) d_(i,j) KSK(i, j), with d the decomposition of a_i.
void keyswitch_lwe(const LweKeyswitchKey& key, std::span<const Torus> in, std::span<Torus> out);
// The same for several ciphertexts in one pass over the key: the rows of input coefficient i serve every
// ciphertext while they are in cache (the key is far larger than the caches). Results equal keyswitch_lwe's.
void keyswitch_lwe_group(const LweKeyswitchKey& key, std::span<const std::span<const Torus>> in,
                         std::span<const std::span<Torus>> out);

}  // namespace fhenn::tfhe
