// Tests of the parameter sets, select_parameters, and the serialization of keys and ciphertexts.
#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "fhenn/tfhe/serialization.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

TEST(Parameters, DefaultSetsMeetTwoToTheMinus40AndCiteTheirSources) {
  for (size_t p = 1; p <= 8; ++p) {
    const ParameterSet& s = default_parameter_set(p);
    EXPECT_NO_THROW(s.validate());
    EXPECT_TRUE(s.secure);
    EXPECT_EQ(s.message_bits.value, p);
    EXPECT_LE(noise::failure_probability(s, 1.0), 0x1p-40) << s.name;
    EXPECT_NE(s.source.find("TFHE-rs"), std::string::npos) << s.name;
  }
  EXPECT_THROW(default_parameter_set(0), Error);
  EXPECT_THROW(default_parameter_set(9), Error);
  EXPECT_THROW(parameter_set("no_such_set"), Error);
}

TEST(Parameters, GateSetMatchesTheOriginalLibrary) {
  const ParameterSet& g = parameter_set("tfhe_lib_gate");
  EXPECT_EQ(g.lwe_dimension.value, 630u);
  EXPECT_EQ(g.polynomial_size.value, 1024u);
  EXPECT_EQ(g.glwe_dimension.value, 1u);
  EXPECT_EQ(g.pbs_level.value, 3u);
  EXPECT_EQ(g.pbs_base_log.value, 7u);
  EXPECT_EQ(g.ks_level.value, 8u);
  EXPECT_EQ(g.ks_base_log.value, 2u);
}

TEST(Parameters, SelectReturnsTheCheapestSetMeetingTheTarget) {
  for (size_t p = 1; p <= 8; ++p) {
    const ParameterSet s = select_parameters(p, 1.0);
    EXPECT_EQ(s.name, "fhenn_p" + std::to_string(p));  // the frozen sets are the search's answers
  }
  const ParameterSet loose = select_parameters(4, 1.0, 1e-3);
  const ParameterSet wide = select_parameters(4, 256.0);
  EXPECT_LE(noise::failure_probability(wide, 256.0), 0x1p-40);
  EXPECT_LE(keyswitch_bootstrap_cost(loose), keyswitch_bootstrap_cost(default_parameter_set(4)));
  EXPECT_GE(keyswitch_bootstrap_cost(wide), keyswitch_bootstrap_cost(default_parameter_set(4)));
  EXPECT_THROW(select_parameters(8, 1e12), Error);
  EXPECT_THROW(select_parameters(9, 1.0), Error);
  EXPECT_THROW(select_parameters(4, 0.5), Error);
  EXPECT_THROW(select_parameters(4, 1.0, 0.0), Error);
}

TEST(Parameters, ValidateRejectsUnusableCombinations) {
  ParameterSet s = default_parameter_set(4);
  s.polynomial_size = PolynomialSize(1000);
  EXPECT_THROW(s.validate(), Error);
  s = default_parameter_set(8);
  s.polynomial_size = PolynomialSize(256);
  EXPECT_THROW(s.validate(), Error);
  s = default_parameter_set(4);
  s.pbs_level = DecompositionLevelCount(4);
  s.pbs_base_log = DecompositionBaseLog(20);
  EXPECT_THROW(s.validate(), Error);
}

TEST(Noise, FormulasHaveTheirDocumentedShape) {
  const ParameterSet& p = default_parameter_set(4);
  EXPECT_DOUBLE_EQ(noise::linear_variance(2.0, 9.0), 18.0);
  EXPECT_DOUBLE_EQ(noise::modulus_switch_variance(LweDimension(100), PolynomialSize(1024)),
                   51.0 / (12.0 * 2048.0 * 2048.0));
  EXPECT_GT(noise::pbs_input_variance(p, 100.0), noise::pbs_input_variance(p, 1.0));
  EXPECT_NEAR(noise::pbs_input_stddev(p, 4.0), std::sqrt(noise::pbs_input_variance(p, 4.0)), 1e-15);
  EXPECT_DOUBLE_EQ(NoiseDistribution::tuniform(0).variance(), 0.5 * 0x1p-128);  // {-1, 0, 0, 1} / 4
}

class SerializationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new testing::Keys(testing::make_keys(parameter_set("fhenn_p2"), 77)); }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static testing::Keys* keys_;
};
testing::Keys* SerializationTest::keys_ = nullptr;

TEST_F(SerializationTest, ClientKeyRoundTrips) {
  const auto bytes = serialize_client_key(keys_->client);
  const ClientKey back = deserialize_client_key(bytes, &keys_->client.params);
  EXPECT_EQ(back.lwe_key.bits, keys_->client.lwe_key.bits);
  EXPECT_EQ(back.glwe_key.bits, keys_->client.glwe_key.bits);
  EXPECT_EQ(back.params, keys_->client.params);
}

TEST_F(SerializationTest, ServerKeyIsSeedCompressedAndWorksAfterLoading) {
  const auto bytes = serialize_server_key(keys_->server);
  // bodies only: (k+1) l N words per GGSW instead of (k+1)^2 l N; one word per KSK row instead of n + 1
  const size_t full = keys_->server.bootstrap_key.bytes() / 2 + keys_->server.keyswitch_key.bytes();
  EXPECT_LT(bytes.size() * 4, full);
  const ServerKey back = deserialize_server_key(bytes, &keys_->server.params);
  EXPECT_EQ(back.keyswitch_key.data, keys_->server.keyswitch_key.data);
  EXPECT_EQ(back.bootstrap_key.data, keys_->server.bootstrap_key.data);
  Csprng rng = Csprng::for_tests_only(5);
  const auto table = LookupTable::from_function(2, [](uint64_t m) { return int64_t(3 - m); }, 2);
  for (int64_t m = 0; m < 4; ++m) {
    const auto out = keyswitch_bootstrap(encrypt_integer(keys_->client, m, rng), table, back);
    EXPECT_EQ(decrypt_integer(keys_->client, out), static_cast<uint64_t>(3 - m));
  }
}

TEST_F(SerializationTest, CiphertextsRoundTrip) {
  Csprng rng = Csprng::for_tests_only(6);
  std::vector<LweCiphertext> cts = {encrypt_integer(keys_->client, 1, rng), encrypt_integer(keys_->client, 3, rng)};
  const auto bytes = serialize_ciphertexts(keys_->client.params, cts);
  const auto back = deserialize_ciphertexts(bytes, keys_->client.params);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].data, cts[0].data);
  EXPECT_EQ(decrypt_integer(keys_->client, back[1]), 3u);
  EXPECT_TRUE(deserialize_ciphertexts(serialize_ciphertexts(keys_->client.params, {}), keys_->client.params).empty());
  LweCiphertext wrong(LweDimension(5));
  EXPECT_THROW(serialize_ciphertexts(keys_->client.params, std::span<const LweCiphertext>(&wrong, 1)), Error);
}

TEST_F(SerializationTest, RejectsMismatchedParameters) {
  const auto client = serialize_client_key(keys_->client);
  const auto server = serialize_server_key(keys_->server);
  Csprng rng = Csprng::for_tests_only(7);
  std::vector<LweCiphertext> cts = {encrypt_integer(keys_->client, 1, rng)};
  const auto ciphertexts = serialize_ciphertexts(keys_->client.params, cts);
  const ParameterSet& other = parameter_set("fhenn_p4");
  EXPECT_THROW(deserialize_client_key(client, &other), Error);
  EXPECT_THROW(deserialize_server_key(server, &other), Error);
  EXPECT_THROW(deserialize_ciphertexts(ciphertexts, other), Error);
  ParameterSet same_keys_other_bits = keys_->client.params;
  same_keys_other_bits.message_bits = MessageBits(1);
  EXPECT_THROW(deserialize_ciphertexts(ciphertexts, same_keys_other_bits), Error);
  // a file of another kind
  EXPECT_THROW(deserialize_client_key(server, nullptr), Error);
  EXPECT_THROW(deserialize_server_key(ciphertexts, nullptr), Error);
}

TEST_F(SerializationTest, RejectsTruncatedAndCorruptedBytes) {
  const auto client = serialize_client_key(keys_->client);
  const auto server = serialize_server_key(keys_->server);
  for (size_t cut : {size_t{0}, size_t{10}, client.size() / 2, client.size() - 1}) {
    EXPECT_THROW(deserialize_client_key(std::span(client).first(cut), nullptr), Error) << cut;
  }
  for (size_t cut : {size_t{3}, server.size() / 3, server.size() - 1}) {
    EXPECT_THROW(deserialize_server_key(std::span(server).first(cut), nullptr), Error) << cut;
  }
  for (size_t position : {size_t{2}, size_t{40}, client.size() / 2, client.size() - 5}) {
    auto corrupted = client;
    corrupted[position] ^= 0x5a;
    EXPECT_THROW(deserialize_client_key(corrupted, nullptr), Error) << position;
  }
  auto corrupted = server;
  corrupted[server.size() / 2] ^= 1;
  EXPECT_THROW(deserialize_server_key(corrupted, nullptr), Error);
}

TEST(SerializationPayload, RejectsInvalidParametersInsideAValidSeal) {
  ParameterSet bad = default_parameter_set(3);
  auto bytes = serialize_parameters(bad);
  EXPECT_EQ(deserialize_parameters(bytes, "params"), bad);
  bad.polynomial_size = PolynomialSize(3000);
  EXPECT_THROW(deserialize_parameters(serialize_parameters(bad), "params"), Error);
  bytes.push_back(0);
  EXPECT_THROW(deserialize_parameters(bytes, "params"), Error);
}

}  // namespace
}  // namespace fhenn::tfhe
