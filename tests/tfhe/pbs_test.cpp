// Programmable bootstrapping for every named set: exact lookups, approximate rounding, batches (the weak set's
// failure rate: failure_rate_test.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/keys.hpp"
#include "test_support.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

using testing::kSanitized;

class EveryNamedSet : public ::testing::TestWithParam<std::string> {};

// Inputs swept for a set: all of them where a PBS is cheap, a spread sample otherwise (full sweep in long tests).
std::vector<uint64_t> inputs_for(const ParameterSet& p, bool long_run) {
  const uint64_t count = uint64_t{1} << p.message_bits.value;
  size_t sample = count;
  if (!long_run) {
    if (p.polynomial_size.value >= 16384)
      sample = kSanitized ? 1 : 3;
    else if (p.polynomial_size.value >= 8192)
      sample = kSanitized ? 2 : 12;
    else if (kSanitized)
      sample = std::min<size_t>(count, 4);
  }
  std::vector<uint64_t> inputs;
  for (size_t i = 0; i < sample; ++i) inputs.push_back(sample == count ? i : (i * 2 * count / sample + i) % count);
  if (sample < count) inputs.back() = count - 1;  // the last box, next to the negacyclic wrap
  return inputs;
}

void check_set(const std::string& name, bool long_run) {
  const ParameterSet& p = parameter_set(name);
  const auto keys = testing::make_keys(p, 100 + p.message_bits.value);
  Csprng rng = Csprng::for_tests_only(200);
  const size_t bits = p.message_bits.value;
  const uint64_t count = uint64_t{1} << bits;
  // encrypt/decrypt every message
  for (uint64_t m = 0; m < count; ++m) {
    ASSERT_EQ(decrypt_integer(keys.client, encrypt_integer(keys.client, static_cast<int64_t>(m), rng)), m) << name;
  }
  // identity and a random table, each input twice (more in the long run), through the parallel batch
  std::vector<int64_t> random_values(count);
  for (auto& v : random_values) v = static_cast<int64_t>(rng.next_u64() % count);
  const LookupTable identity = LookupTable::identity(bits);
  const LookupTable random_table(bits, random_values, bits);
  const auto inputs = inputs_for(p, long_run);
  const int repeats = long_run ? 3 : (kSanitized || p.polynomial_size.value >= 8192 ? 1 : 2);
  std::vector<LweCiphertext> cts;
  std::vector<const LookupTable*> tables;
  std::vector<int64_t> expected;
  for (int r = 0; r < repeats; ++r) {
    for (uint64_t m : inputs) {
      for (const LookupTable* t : {&identity, &random_table}) {
        cts.push_back(encrypt_integer(keys.client, static_cast<int64_t>(m), rng));
        tables.push_back(t);
        expected.push_back(t->values()[m]);
      }
    }
  }
  if (kSanitized && p.polynomial_size.value >= 8192) {  // one PBS per big set under the sanitizers
    cts.resize(1);
    tables.resize(1);
    expected.resize(1);
  }
  const auto outputs = keyswitch_bootstrap_batch(cts, tables, keys.server, 2);
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(decrypt_integer(keys.client, outputs[i]), static_cast<uint64_t>(expected[i]))
        << name << " lookup " << i << " (" << (tables[i] == &identity ? "identity" : "random") << ")";
  }
}

TEST_P(EveryNamedSet, EncryptsAndBootstrapsEveryTableEntryExactly) {
  check_set(GetParam(), false);
}

TEST_P(EveryNamedSet, LongFullSweepOfEveryInput) {
  FHENN_SKIP_UNLESS_LONG_TESTS();
  check_set(GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(Tfhe, EveryNamedSet,
                         ::testing::Values("fhenn_p1", "fhenn_p2", "fhenn_p3", "fhenn_p4", "fhenn_p5", "fhenn_p6",
                                           "fhenn_p7", "fhenn_p8", "tfhers_1_1", "tfhers_2_2", "tfhe_lib_gate"));

class SmallSetKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new testing::Keys(testing::make_keys(parameter_set("fhenn_p4"), 7)); }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static testing::Keys* keys_;
};
testing::Keys* SmallSetKeys::keys_ = nullptr;

TEST_F(SmallSetKeys, FinerEncodingReadsTheRoundedTopBits) {
  // A 6-bit accumulator a * 2^(63-6) bootstrapped by a 4-bit table reads round(a / 4) (approximate rounding).
  Csprng rng = Csprng::for_tests_only(300);
  const LookupTable identity = LookupTable::identity(4);
  for (int64_t a = 0; a < 62; ++a) {
    if (a % 4 == 2) continue;  // exact halves go either way with the noise
    const auto ct = encrypt_integer_with_encoding(keys_->client, a, 6, rng);
    const auto out = keyswitch_bootstrap(ct, identity, keys_->server);
    EXPECT_EQ(decrypt_integer(keys_->client, out), static_cast<uint64_t>((a + 2) / 4)) << a;
  }
}

TEST_F(SmallSetKeys, OutputEncodingAndSignedValuesFollowTheTable) {
  Csprng rng = Csprng::for_tests_only(301);
  // relu(m - 8) on 4 bits to a 7-bit encoding, and a signed table m -> 8 - m
  const auto relu = LookupTable::from_function(
      4, [](uint64_t m) { return std::max<int64_t>(0, int64_t(m) - 8); }, 7);
  const auto negate = LookupTable::from_function(
      4, [](uint64_t m) { return 8 - static_cast<int64_t>(m); }, 5);
  for (int64_t m = 0; m < 16; m += 3) {
    const auto ct = encrypt_integer(keys_->client, m, rng);
    EXPECT_EQ(decrypt_integer_with_encoding(keys_->client, keyswitch_bootstrap(ct, relu, keys_->server), 7),
              static_cast<uint64_t>(std::max<int64_t>(0, m - 8)));
    EXPECT_EQ(decrypt_signed_integer_with_encoding(keys_->client, keyswitch_bootstrap(ct, negate, keys_->server), 5),
              8 - m);
  }
}

TEST_F(SmallSetKeys, DotProductThenBootstrap) {
  // The neural-layer pattern: PBS outputs -> dot product with clear weights -> KS + PBS.
  Csprng rng = Csprng::for_tests_only(302);
  const auto identity = LookupTable::identity(4);
  std::vector<int64_t> xs = {1, 2, 3, 1}, ws = {2, -1, 3, 1};
  std::vector<Torus> packed;
  for (int64_t x : xs) {
    const auto fresh = keyswitch_bootstrap(encrypt_integer(keys_->client, x, rng), identity, keys_->server);
    packed.insert(packed.end(), fresh.data.begin(), fresh.data.end());
  }
  LweCiphertext sum(keys_->client.params.big_lwe_dimension());
  lwe_dot_product(packed, ws, sum.data);
  add_plaintext_to_lwe(sum.data, encode_message(1, 4));  // + 1 -> 2 - 2 + 9 + 1 + 1 = 11
  const auto out = keyswitch_bootstrap(sum, identity, keys_->server);
  EXPECT_EQ(decrypt_integer(keys_->client, out), 11u);
}

TEST_F(SmallSetKeys, GroupedBootstrapsEqualSingleOnesBitForBit) {
  // A group shares each pass over the keys; every ciphertext must come out exactly as alone (same arithmetic).
  Csprng rng = Csprng::for_tests_only(304);
  const auto square = LookupTable::from_function(
      4, [](uint64_t m) { return int64_t(m * m % 16); }, 4);
  const auto identity = LookupTable::identity(4);
  std::vector<LweCiphertext> cts;
  std::vector<const LookupTable*> tables;
  for (int64_t m = 0; m < 11; ++m) {  // a full group of kBootstrapGroup and a partial one
    cts.push_back(encrypt_integer(keys_->client, (m * 5) % 16, rng));
    tables.push_back(m % 2 == 0 ? &square : &identity);
  }
  const auto batch = keyswitch_bootstrap_batch(cts, tables, keys_->server, 2);
  ASSERT_GT(cts.size(), kBootstrapGroup);
  for (size_t i = 0; i < cts.size(); ++i) {
    EXPECT_EQ(batch[i].data, keyswitch_bootstrap(cts[i], *tables[i], keys_->server).data) << i;
    const uint64_t m = static_cast<uint64_t>(i * 5 % 16);
    EXPECT_EQ(decrypt_integer(keys_->client, batch[i]), i % 2 == 0 ? m * m % 16 : m) << i;
  }
  // Arguments that do not pair up are refused.
  std::vector<std::span<const Torus>> ins = {cts[0].data, cts[1].data};
  std::vector<const LookupTable*> one = {&square};
  LweCiphertext out0(keys_->server.params.big_lwe_dimension()), out1(keys_->server.params.big_lwe_dimension());
  std::vector<std::span<Torus>> outs = {out0.data, out1.data};
  FourierBuffer scratch(keyswitch_bootstrap_group_scratch_size(keys_->server, 2));
  EXPECT_THROW(keyswitch_bootstrap_group(ins, one, keys_->server, outs, scratch), Error);
}

TEST_F(SmallSetKeys, BatchEqualsSequentialAndRejectsBadArguments) {
  Csprng rng = Csprng::for_tests_only(303);
  const auto table = LookupTable::from_function(
      4, [](uint64_t m) { return int64_t(m * m % 16); }, 4);
  std::vector<LweCiphertext> cts;
  for (int64_t m = 0; m < 6; ++m) cts.push_back(encrypt_integer(keys_->client, m, rng));
  const LookupTable* tables[] = {&table};
  const auto batch = keyswitch_bootstrap_batch(cts, tables, keys_->server, 2);
  for (size_t i = 0; i < cts.size(); ++i) {
    EXPECT_EQ(decrypt_integer(keys_->client, batch[i]), i * i % 16);
    EXPECT_EQ(decrypt_integer(keys_->client, keyswitch_bootstrap(cts[i], table, keys_->server)), i * i % 16);
  }
  const LookupTable* two[] = {&table, &table};
  EXPECT_THROW(keyswitch_bootstrap_batch(cts, two, keys_->server, 2), Error);
  const auto wide = LookupTable::identity(5);  // more bits than the set carries
  EXPECT_THROW(keyswitch_bootstrap(cts[0], wide, keys_->server), Error);
  LweCiphertext wrong(LweDimension(10));
  EXPECT_THROW(keyswitch_bootstrap(wrong, table, keys_->server), Error);
  EXPECT_THROW(decrypt_integer(keys_->client, wrong), Error);
}

}  // namespace
}  // namespace fhenn::tfhe
