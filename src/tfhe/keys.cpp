// Client and server keys, integer encryption and the (batched) key-switch-then-bootstrap.
#include "fhenn/tfhe/keys.hpp"

#include <algorithm>
#include <bit>
#include <vector>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"

namespace fhenn::tfhe {

ClientKey ClientKey::generate(const ParameterSet& params, Csprng& rng, KeySecurity security) {
  params.validate();
  require_secure(params, security);
  return ClientKey{params, LweSecretKey::generate(params.lwe_dimension, rng),
                   GlweSecretKey::generate(params.glwe_dimension, params.polynomial_size, rng)};
}

int ServerKey::default_thread_count_for_keys() {
  return default_thread_count();
}

ServerKey ServerKey::generate(const ClientKey& client_key, Csprng& rng, int threads) {
  const ParameterSet& p = client_key.params;
  auto bsk = generate_seeded_bootstrap_key(client_key.lwe_key, client_key.glwe_key, p.pbs_base_log, p.pbs_level,
                                           p.glwe_noise, rng, threads);
  auto ksk = generate_seeded_keyswitch_key(client_key.big_lwe_key(), client_key.lwe_key, p.ks_base_log, p.ks_level,
                                           p.lwe_noise, rng);
  return from_seeded(p, std::move(bsk), std::move(ksk), threads);
}

ServerKey ServerKey::from_seeded(const ParameterSet& params, SeededBootstrapKey bsk, SeededLweKeyswitchKey ksk,
                                 int threads) {
  ServerKey key{params, std::move(bsk), std::move(ksk), {}, {}};
  key.bootstrap_key = decompress_bootstrap_key(key.seeded_bootstrap_key, threads);
  key.keyswitch_key = decompress_keyswitch_key(key.seeded_keyswitch_key);
  return key;
}

LweCiphertext encrypt_integer_with_encoding(const ClientKey& key, int64_t message, size_t encoding_bits, Csprng& rng) {
  FHENN_CHECK(encoding_bits >= 1 && encoding_bits <= 62, "encoding width must be in 1..62 bits, got ", encoding_bits);
  return encrypt_lwe(key.big_lwe_key(), encode_message(message, encoding_bits), key.params.glwe_noise, rng);
}

SeededCiphertexts encrypt_integers_seeded(const ClientKey& key, std::span<const int64_t> messages,
                                          std::span<const int> encoding_bits, Csprng& rng) {
  FHENN_CHECK(messages.size() == encoding_bits.size(), "encrypt_integers_seeded: ", messages.size(), " messages, ",
              encoding_bits.size(), " encodings");
  const LweSecretKey big = key.big_lwe_key();
  SeededCiphertexts seeded{big.dimension(), rng.next_seed(), {}};
  seeded.bodies.reserve(messages.size());
  LweCiphertext ct(big.dimension());
  for (size_t i = 0; i < messages.size(); ++i) {
    FHENN_CHECK(encoding_bits[i] >= 1 && encoding_bits[i] <= 62, "encoding width must be in 1..62 bits, got ",
                encoding_bits[i]);
    Csprng mask_rng = Csprng::from_seed(seeded.mask_seed, i);
    encrypt_lwe(big, encode_message(messages[i], static_cast<size_t>(encoding_bits[i])), key.params.glwe_noise,
                mask_rng, rng, ct.data);
    seeded.bodies.push_back(ct.data.back());
  }
  return seeded;
}

std::vector<LweCiphertext> expand_ciphertexts(const SeededCiphertexts& seeded) {
  std::vector<LweCiphertext> out(seeded.bodies.size(), LweCiphertext(seeded.dimension));
  for (size_t i = 0; i < out.size(); ++i) {
    Csprng mask_rng = Csprng::from_seed(seeded.mask_seed, i);
    mask_rng.fill_uniform(std::span(out[i].data).first(seeded.dimension.value));
    out[i].data.back() = seeded.bodies[i];
  }
  return out;
}

LweCiphertext encrypt_integer(const ClientKey& key, int64_t message, Csprng& rng) {
  return encrypt_integer_with_encoding(key, message, key.params.message_bits.value, rng);
}

uint64_t decrypt_integer_with_encoding(const ClientKey& key, const LweCiphertext& ciphertext, size_t encoding_bits) {
  FHENN_CHECK(encoding_bits >= 1 && encoding_bits <= 62, "encoding width must be in 1..62 bits, got ", encoding_bits);
  FHENN_CHECK(ciphertext.data.size() == key.params.big_lwe_dimension().value + 1, "ciphertext of dimension ",
              ciphertext.data.size() - 1, " does not match the large key of dimension ",
              key.params.big_lwe_dimension().value);
  const LweSecretKey big = key.big_lwe_key();
  return decode_message(decrypt_lwe_phase(big, ciphertext.data), encoding_bits);
}

uint64_t decrypt_integer(const ClientKey& key, const LweCiphertext& ciphertext) {
  return decrypt_integer_with_encoding(key, ciphertext, key.params.message_bits.value);
}

int64_t decrypt_signed_integer_with_encoding(const ClientKey& key, const LweCiphertext& ciphertext,
                                             size_t encoding_bits) {
  const uint64_t m = decrypt_integer_with_encoding(key, ciphertext, encoding_bits);
  const uint64_t modulus = uint64_t{1} << (encoding_bits + 1);
  return m >= modulus / 2 ? static_cast<int64_t>(m) - static_cast<int64_t>(modulus) : static_cast<int64_t>(m);
}

size_t keyswitch_bootstrap_scratch_size(const ServerKey& key) {
  return keyswitch_bootstrap_group_scratch_size(key, 1);
}

void keyswitch_bootstrap(std::span<const Torus> in, const LookupTable& table, const ServerKey& key,
                         std::span<Torus> out, std::span<double> scratch) {
  const std::span<const Torus> ins[] = {in};
  const LookupTable* tables[] = {&table};
  const std::span<Torus> outs[] = {out};
  keyswitch_bootstrap_group(ins, tables, key, outs, scratch);
}

LweCiphertext keyswitch_bootstrap(const LweCiphertext& in, const LookupTable& table, const ServerKey& key) {
  LweCiphertext out(key.params.big_lwe_dimension());
  FourierBuffer scratch(keyswitch_bootstrap_scratch_size(key));
  keyswitch_bootstrap(in.data, table, key, out.data, scratch);
  return out;
}

size_t keyswitch_bootstrap_group_scratch_size(const ServerKey& key, size_t group) {
  const size_t small_doubles = (lwe_size(key.params.lwe_dimension) + 7) / 8 * 8;  // whole 64-byte lines
  return programmable_bootstrap_group_scratch_size(key.bootstrap_key, group) + group * small_doubles;
}

void keyswitch_bootstrap_group(std::span<const std::span<const Torus>> in, std::span<const LookupTable* const> tables,
                               const ServerKey& key, std::span<const std::span<Torus>> out, std::span<double> scratch) {
  const size_t group = in.size();
  const size_t big_size = key.params.big_lwe_dimension().value + 1;
  FHENN_CHECK(tables.size() == group && out.size() == group, "keyswitch_bootstrap: ", group, " ciphertexts, ",
              tables.size(), " tables and ", out.size(), " outputs (need one of each per ciphertext)");
  for (size_t b = 0; b < group; ++b) {
    FHENN_CHECK(in[b].size() == big_size && out[b].size() == big_size, "keyswitch_bootstrap: ciphertexts of ",
                in[b].size(), " and ", out[b].size(), " words do not match the large key (", big_size, " words)");
    FHENN_CHECK(tables[b]->input_bits() <= key.params.message_bits.value, "a ", tables[b]->input_bits(),
                "-bit lookup table needs a parameter set for at least that many bits; '", key.params.name,
                "' is made for ", key.params.message_bits.value);
  }
  FHENN_ASSERT_LE(keyswitch_bootstrap_group_scratch_size(key, group), scratch.size());
  // scratch: [PBS group scratch | the key-switched ciphertexts under the small key]
  const size_t pbs_doubles = programmable_bootstrap_group_scratch_size(key.bootstrap_key, group);
  const size_t small_size = lwe_size(key.params.lwe_dimension);
  const size_t small_doubles = (small_size + 7) / 8 * 8;
  std::vector<std::span<Torus>> small(group);
  for (size_t b = 0; b < group; ++b) {
    small[b] = {reinterpret_cast<Torus*>(scratch.data() + pbs_doubles + b * small_doubles), small_size};
  }
  keyswitch_lwe_group(key.keyswitch_key, in, small);
  const std::vector<std::span<const Torus>> small_in(small.begin(), small.end());
  programmable_bootstrap_group(key.bootstrap_key, small_in, tables, out, scratch.first(pbs_doubles));
}

std::vector<LweCiphertext> keyswitch_bootstrap_batch(std::span<const LweCiphertext> inputs,
                                                     std::span<const LookupTable* const> tables, const ServerKey& key,
                                                     int threads) {
  FHENN_CHECK(tables.size() == 1 || tables.size() == inputs.size(), "keyswitch_bootstrap_batch: ", tables.size(),
              " tables for ", inputs.size(), " ciphertexts (need 1 or one per ciphertext)");
  std::vector<LweCiphertext> outputs(inputs.size(), LweCiphertext(key.params.big_lwe_dimension()));
  const size_t groups = (inputs.size() + kBootstrapGroup - 1) / kBootstrapGroup;
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(groups)));
  std::vector<FourierBuffer> scratch(static_cast<size_t>(workers),
                                     FourierBuffer(keyswitch_bootstrap_group_scratch_size(key, kBootstrapGroup)));
  parallel_for(groups, workers, [&](size_t g, int worker) {
    const size_t first = g * kBootstrapGroup;
    const size_t count = std::min(kBootstrapGroup, inputs.size() - first);
    std::vector<std::span<const Torus>> ins;
    std::vector<const LookupTable*> group_tables;
    std::vector<std::span<Torus>> outs;
    for (size_t i = first; i < first + count; ++i) {
      ins.emplace_back(inputs[i].data);
      group_tables.push_back(tables[tables.size() == 1 ? 0 : i]);
      outs.emplace_back(outputs[i].data);
    }
    keyswitch_bootstrap_group(ins, group_tables, key, outs, scratch[static_cast<size_t>(worker)]);
  });
  return outputs;
}

}  // namespace fhenn::tfhe
