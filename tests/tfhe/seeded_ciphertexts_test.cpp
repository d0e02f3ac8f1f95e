// Seed-compressed fresh ciphertexts: they expand to ciphertexts that decrypt to the messages, round trip through
// their sealed form, and are refused when truncated, corrupted or made for another parameter set.
#include <gtest/gtest.h>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/serialization.hpp"

namespace fhenn::tfhe {
namespace {

TEST(SeededCiphertexts, ExpandToCiphertextsThatDecryptToTheMessages) {
  const ParameterSet& p = parameter_set("fhenn_p2");
  Csprng rng = Csprng::for_tests_only(800);
  const ClientKey key = ClientKey::generate(p, rng);
  const std::vector<int64_t> messages{0, 1, -2, 7, -8, 3};
  const std::vector<int> bits{2, 2, 2, 4, 4, 3};
  const SeededCiphertexts seeded = encrypt_integers_seeded(key, messages, bits, rng);
  ASSERT_EQ(seeded.bodies.size(), messages.size());
  const auto expanded = expand_ciphertexts(seeded);
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(decrypt_signed_integer_with_encoding(key, expanded[i], static_cast<size_t>(bits[i])), messages[i]);
  }
  // Distinct masks per ciphertext (independent keystreams of the seed), and a fresh seed per batch.
  EXPECT_NE(expanded[0].data, expanded[1].data);
  EXPECT_NE(encrypt_integers_seeded(key, messages, bits, rng).mask_seed, seeded.mask_seed);
}

TEST(SeededCiphertexts, RoundTripAndRefuseDamagedFiles) {
  const ParameterSet& p = parameter_set("fhenn_p2");
  Csprng rng = Csprng::for_tests_only(801);
  const ClientKey key = ClientKey::generate(p, rng);
  const std::vector<int64_t> messages(10, 1);
  const std::vector<int> bits(10, 2);
  const auto seeded = encrypt_integers_seeded(key, messages, bits, rng);
  const auto bytes = serialize_seeded_ciphertexts(p, seeded);
  EXPECT_EQ(deserialize_seeded_ciphertexts(bytes, p), seeded);
  // 8 bytes per ciphertext beyond a fixed header.
  const auto one =
      serialize_seeded_ciphertexts(p, encrypt_integers_seeded(key, {messages.data(), 1}, {bits.data(), 1}, rng));
  EXPECT_EQ(bytes.size() - one.size(), 9 * sizeof(Torus));
  for (size_t n : {size_t{0}, size_t{40}, bytes.size() - 1}) {
    EXPECT_THROW(deserialize_seeded_ciphertexts(std::span(bytes).first(n), p), Error);
  }
  auto flipped = bytes;
  flipped[flipped.size() - 40] ^= 4;
  EXPECT_THROW(deserialize_seeded_ciphertexts(flipped, p), Error);
  EXPECT_THROW(deserialize_seeded_ciphertexts(bytes, parameter_set("fhenn_p3")), Error);
}

}  // namespace
}  // namespace fhenn::tfhe
