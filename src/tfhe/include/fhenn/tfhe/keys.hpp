// The engine's client/server API: key generation, integer encryption, KS-then-PBS and its batched version.
#pragma once

#include <span>
#include <vector>

#include "fhenn/tfhe/bootstrap.hpp"
#include "fhenn/tfhe/lwe.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::tfhe {

// Secret keys: the small LWE key (n) and the GLWE key (k, N) whose flattening is the large LWE key (k*N).
struct ClientKey {
  ParameterSet params;
  LweSecretKey lwe_key;
  GlweSecretKey glwe_key;
  static ClientKey generate(const ParameterSet& params, Csprng& rng);
  LweSecretKey big_lwe_key() const { return glwe_key.as_lwe_key(); }
};

// Evaluation keys: the Fourier bootstrap key and the key-switching key (large -> small key), plus their
// seed-compressed forms (what is serialized).
struct ServerKey {
  ParameterSet params;
  SeededBootstrapKey seeded_bootstrap_key;
  SeededLweKeyswitchKey seeded_keyswitch_key;
  FourierBootstrapKey bootstrap_key;
  LweKeyswitchKey keyswitch_key;
  static ServerKey generate(const ClientKey& client_key, Csprng& rng, int threads = default_thread_count_for_keys());
  // Rebuilds the full keys from the seeded ones (deserialization).
  static ServerKey from_seeded(const ParameterSet& params, SeededBootstrapKey bsk, SeededLweKeyswitchKey ksk,
                               int threads = default_thread_count_for_keys());
  static int default_thread_count_for_keys();
};

// Encrypts the integer m (wrapping modulo 2^(p+1)) as m * 2^(63 - p) under the LARGE key (k*N), p = the set's
// message bits; the ciphertext can go straight into linear operations and keyswitch_bootstrap.
LweCiphertext encrypt_integer(const ClientKey& key, int64_t message, Csprng& rng);
// Same with an explicit encoding width w (m * 2^(63 - w)), e.g. a w-bit accumulator read by an r-bit table.
LweCiphertext encrypt_integer_with_encoding(const ClientKey& key, int64_t message, size_t encoding_bits, Csprng& rng);
// Decrypts a large-key ciphertext, rounding to the nearest m * 2^(63 - w): returns m in [0, 2^(w+1)) (padding
// included) or, signed, in [-2^w, 2^w).
uint64_t decrypt_integer(const ClientKey& key, const LweCiphertext& ciphertext);
uint64_t decrypt_integer_with_encoding(const ClientKey& key, const LweCiphertext& ciphertext, size_t encoding_bits);
int64_t decrypt_signed_integer_with_encoding(const ClientKey& key, const LweCiphertext& ciphertext,
                                             size_t encoding_bits);

// KS then PBS: large-key ciphertext -> key switch to the small key -> PBS with `table` -> large-key ciphertext.
// The table's input bits must not exceed the set's message bits. No allocation: scratch has
// keyswitch_bootstrap_scratch_size() doubles (a FourierBuffer, 64-byte aligned).
size_t keyswitch_bootstrap_scratch_size(const ServerKey& key);
void keyswitch_bootstrap(std::span<const Torus> in, const LookupTable& table, const ServerKey& key,
                         std::span<Torus> out, std::span<double> scratch);
LweCiphertext keyswitch_bootstrap(const LweCiphertext& in, const LookupTable& table, const ServerKey& key);

// KS-PBS of a group of ciphertexts (one table each) with one pass over each key (keyswitch_lwe_group,
// programmable_bootstrap_group): the keys are far larger than the caches, so a group of kBootstrapGroup costs much
// less than as many single ones. Results equal keyswitch_bootstrap's.
inline constexpr size_t kBootstrapGroup = 8;
size_t keyswitch_bootstrap_group_scratch_size(const ServerKey& key, size_t group);
void keyswitch_bootstrap_group(std::span<const std::span<const Torus>> in, std::span<const LookupTable* const> tables,
                               const ServerKey& key, std::span<const std::span<Torus>> out, std::span<double> scratch);

// Many independent KS-PBS spread over `threads` workers (groups of up to kBootstrapGroup per worker at a time,
// single-threaded, per-worker scratch). tables.size() is 1 (same table for all) or inputs.size().
std::vector<LweCiphertext> keyswitch_bootstrap_batch(std::span<const LweCiphertext> inputs,
                                                     std::span<const LookupTable* const> tables, const ServerKey& key,
                                                     int threads);

}  // namespace fhenn::tfhe
