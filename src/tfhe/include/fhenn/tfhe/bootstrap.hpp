// Bootstrap keys, modulus switching, blind rotation, sample extraction, lookup tables and the PBS.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "fhenn/tfhe/glwe.hpp"

namespace fhenn::tfhe {

// Bootstrap key in the Fourier domain: n GGSW encryptions of the small key's bits under the GLWE key.
struct FourierBootstrapKey {
  LweDimension lwe_dimension;
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
  FourierBuffer data;  // n * ggsw_size doubles
  size_t ggsw_doubles() const { return ggsw_size(glwe_dimension, polynomial_size, levels); }
  FourierGgswView ggsw(size_t i) const {
    return {data.data() + i * ggsw_doubles(), glwe_dimension, polynomial_size, base_log, levels};
  }
  size_t bytes() const { return data.size() * sizeof(double); }
};

// Seed-compressed bootstrap key: GGSW i's masks come from Csprng::from_seed(mask_seed, i); bodies stored.
struct SeededBootstrapKey {
  LweDimension lwe_dimension;
  GlweDimension glwe_dimension;
  PolynomialSize polynomial_size;
  DecompositionBaseLog base_log;
  DecompositionLevelCount levels;
  Seed mask_seed{};
  std::vector<Torus> bodies;  // n * (k + 1) * l rows * N
};

// Generates the seeded key (GGSW i in parallel over `threads`; noise from child generators of rng).
SeededBootstrapKey generate_seeded_bootstrap_key(const LweSecretKey& lwe_key, const GlweSecretKey& glwe_key,
                                                 DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                                 const NoiseDistribution& noise, Csprng& rng, int threads);
// Regenerates the masks and converts to the Fourier domain.
FourierBootstrapKey decompress_bootstrap_key(const SeededBootstrapKey& seeded, int threads);

// Modulus switch to 2N (the PBS input): out_i = round(c_i * 2N / 2^64) mod 2N for the n + 1 words.
void modulus_switch(std::span<const Torus> lwe, PolynomialSize N, std::span<uint32_t> out);

// Blind rotation: acc (a GLWE, initialised by the caller) becomes X^(sum a~_i s_i) * acc via n CMUXes.
size_t blind_rotate_scratch_size(const FourierBootstrapKey& key);
void blind_rotate(const FourierBootstrapKey& key, std::span<const uint32_t> switched_mask, std::span<Torus> acc,
                  std::span<double> scratch);

// Sample extraction of coefficient 0: LWE under the flattened key, a_(i N) = A_i[0], a_(i N + j) = -A_i[N - j].
void sample_extract(std::span<const Torus> glwe, GlweDimension k, PolynomialSize N, std::span<Torus> lwe_out);

// A table of 2^input_bits integers, read by a PBS. Inputs are the top input_bits (plus padding) of the torus:
// a ciphertext of m * 2^(63 - input_bits) reads values[m]. Outputs are encoded as v * 2^(63 - output_bits)
// (negative v wrap modulo 2^(output_bits + 1)).
//
// Rounding: the test polynomial is rotated by half a box, so a phase within +-Delta/2 of m * Delta reads m.
// A ciphertext encoded more finely (a * 2^(63 - w), w > input_bits) is the same torus value: it reads
// round(a / 2^(w - input_bits)) (halves go up, blurred by noise). When that rounds to 2^input_bits (the top
// 2^(w - input_bits - 1) values of a), the padding bit flips and the PBS returns -values[0] (negacyclic wrap):
// the caller must keep the rounded value below 2^input_bits (or make values[0] = 0).
class LookupTable {
 public:
  LookupTable(size_t input_bits, std::vector<int64_t> values, size_t output_bits);
  static LookupTable from_function(size_t input_bits, const std::function<int64_t(uint64_t)>& function,
                                   size_t output_bits);
  static LookupTable identity(size_t bits) {
    return from_function(
        bits, [](uint64_t m) { return static_cast<int64_t>(m); }, bits);
  }
  size_t input_bits() const { return input_bits_; }
  size_t output_bits() const { return output_bits_; }
  const std::vector<int64_t>& values() const { return values_; }
  // The test polynomial for size N (box redundancy N / 2^input_bits, rotated by half a box): N words.
  void write_test_polynomial(PolynomialSize N, std::span<Torus> out) const;

 private:
  size_t input_bits_;
  size_t output_bits_;
  std::vector<int64_t> values_;
};

// PBS of a ciphertext under the small key (n + 1 words): modulus switch, blind rotation of the test polynomial,
// sample extraction -> a ciphertext under the large key (k N + 1 words) of the table's value.
size_t programmable_bootstrap_scratch_size(const FourierBootstrapKey& key);
void programmable_bootstrap(const FourierBootstrapKey& key, std::span<const Torus> lwe_in, const LookupTable& table,
                            std::span<Torus> lwe_out, std::span<double> scratch);
// The same for a group of ciphertexts (one table each) in one pass over the bootstrap key: step i of the blind
// rotation runs for every ciphertext while GGSW i is in cache. Results equal programmable_bootstrap's.
size_t programmable_bootstrap_group_scratch_size(const FourierBootstrapKey& key, size_t group);
void programmable_bootstrap_group(const FourierBootstrapKey& key, std::span<const std::span<const Torus>> lwe_in,
                                  std::span<const LookupTable* const> tables, std::span<const std::span<Torus>> lwe_out,
                                  std::span<double> scratch);

}  // namespace fhenn::tfhe
