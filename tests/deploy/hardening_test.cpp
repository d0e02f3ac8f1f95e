// Regression tests of the deployment's hardening: crafted counts, the security floor, the client part that holds
// no weight, evaluation keys checked before they expand, secret key file modes, and file size caps.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "deploy/deploy_test_models.hpp"
#include "fhenn/common/artifact.hpp"
#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/deploy/server.hpp"
#include "fhenn/tfhe/serialization.hpp"

namespace fhenn::deploy {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("fhenn_hardening_test_" + name);
}

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(std::span<const uint8_t> haystack, std::span<const uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

template <typename T>
std::span<const uint8_t> bytes_of(std::span<const T> values) {
  return {reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()};
}

class HardeningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    compiled_ = std::make_unique<compiler::CompiledModel>(tiny_compiled_model(1));
    deployment_ = std::make_unique<Deployment>(make_deployment(*compiled_, {}));
    auto rng = tfhe::Csprng::for_tests_only(30);
    auto [secret, evaluation] = Client(deployment_->client).generate_keys(rng, 2, false);
    secret_ = std::make_unique<SecretKeys>(std::move(secret));
    evaluation_ = std::make_unique<EvaluationKeys>(std::move(evaluation));
  }
  static void TearDownTestSuite() {
    compiled_.reset();
    deployment_.reset();
    secret_.reset();
    evaluation_.reset();
  }
  static std::unique_ptr<compiler::CompiledModel> compiled_;
  static std::unique_ptr<Deployment> deployment_;
  static std::unique_ptr<SecretKeys> secret_;
  static std::unique_ptr<EvaluationKeys> evaluation_;
};
std::unique_ptr<compiler::CompiledModel> HardeningTest::compiled_;
std::unique_ptr<Deployment> HardeningTest::deployment_;
std::unique_ptr<SecretKeys> HardeningTest::secret_;
std::unique_ptr<EvaluationKeys> HardeningTest::evaluation_;

// A results file re-sealed with a crafted sample count: width 2, 2 ciphertexts (one real sample) and
// 2^63 + 1 samples, whose product wraps to 2 in 64 bits.
TEST_F(HardeningTest, ASampleCountThatWrapsIsRefused) {
  const auto& params = deployment_->client.params;
  auto rng = tfhe::Csprng::for_tests_only(31);
  const Client client(deployment_->client);
  const auto results =
      Server(deployment_->server).run(client.encrypt(sample_features(1), *secret_, rng), *evaluation_, 1, false);
  ASSERT_EQ(results.width, 2u);
  ByteWriter payload;
  payload.str(results.model_id);
  payload.str(results.key_id);
  payload.u64((uint64_t{1} << 63) + 1);
  payload.u64(results.width);
  payload.vec(tfhe::serialize_ciphertexts(params, results.ciphertexts));
  const auto crafted = seal_artifact("fhenn-encrypted-results", kDeployFormatVersion, payload.bytes());
  const std::string message = error_of([&] {
    const auto batch = deserialize_batch(crafted, EncryptedBatch::Kind::results, params, "results 'r.enc'");
    client.decrypt(batch, *secret_);
  });
  EXPECT_NE(message.find("overflows 64 bits"), std::string::npos) << message;

  // The same lie in memory never reaches the decryption either.
  auto lying = results;
  lying.samples = (size_t{1} << 63) + 1;
  EXPECT_NE(error_of([&] { client.decrypt(lying, *secret_); }).find("overflows"), std::string::npos);
}

TEST_F(HardeningTest, TheServerDerivesTheSampleCountFromTheCiphertexts) {
  auto rng = tfhe::Csprng::for_tests_only(32);
  auto inputs = Client(deployment_->client).encrypt(sample_features(2), *secret_, rng);
  inputs.samples = 1000;  // a crafted field: the server must not copy it into its results
  const auto results = Server(deployment_->server).run(inputs, *evaluation_, 1, false);
  EXPECT_EQ(results.samples, 2u);
  EXPECT_EQ(results.ciphertexts.size(), 2 * results.width);
  inputs.ciphertexts.pop_back();  // not a whole number of samples
  EXPECT_THROW(Server(deployment_->server).run(inputs, *evaluation_, 1, false), Error);
}

TEST_F(HardeningTest, InputsUploadSeedCompressedAndDecryptToTheQuantizedFeatures) {
  const auto& params = deployment_->client.params;
  const Client client(deployment_->client);
  auto rng = tfhe::Csprng::for_tests_only(34);
  const Matrix features = sample_features(9);
  const auto bytes_one = serialize_batch(client.encrypt(sample_features(1), *secret_, rng), params);
  const auto bytes = serialize_batch(client.encrypt(features, *secret_, rng), params);
  // 8 bytes per input ciphertext beyond a fixed header (16.4 kB each uncompressed at k N = 2048).
  EXPECT_EQ(bytes.size() - bytes_one.size(), 8 * 2 * sizeof(tfhe::Torus));
  const auto read = deserialize_batch(bytes, EncryptedBatch::Kind::inputs, params, "inputs");
  const auto quantized = client.quantize(features);
  ASSERT_EQ(read.ciphertexts.size(), quantized.size());
  for (size_t i = 0; i < quantized.size(); ++i) {
    const int bits = deployment_->client.encodings.input_bits[i % 2];
    EXPECT_EQ(tfhe::decrypt_signed_integer_with_encoding(secret_->key, read.ciphertexts[i], bits), quantized[i]);
  }
}

// A few megabytes of bodies that would expand to more than the batch budget (16 GiB) are refused unexpanded.
TEST_F(HardeningTest, AnUploadThatWouldExpandPastTheBudgetIsRefused) {
  const auto& params = deployment_->client.params;
  const size_t count = (size_t{1} << 34) / ((params.big_lwe_dimension().value + 1) * 8) + 2;
  tfhe::SeededCiphertexts seeded{params.big_lwe_dimension(), {}, std::vector<tfhe::Torus>(count, 0)};
  ByteWriter payload;
  payload.str(deployment_->client.model_id);
  payload.str(secret_->key_id);
  payload.u64(count / 2);
  payload.u64(2);
  payload.vec(tfhe::serialize_seeded_ciphertexts(params, seeded));
  const auto crafted = seal_artifact("fhenn-encrypted-inputs", kInputsFormatVersion, payload.bytes());
  const std::string message =
      error_of([&] { deserialize_batch(crafted, EncryptedBatch::Kind::inputs, params, "inputs"); });
  EXPECT_NE(message.find("would expand"), std::string::npos) << message;
}

TEST_F(HardeningTest, KeysAreNeverGeneratedForAnInsecureSetWithoutConsent) {
  ClientSpec weak = deployment_->client;
  weak.params = tfhe::parameter_set("test_weak");
  auto rng = tfhe::Csprng::for_tests_only(33);
  const std::string message = error_of([&] { Client(weak).generate_keys(rng, 1, false); });
  EXPECT_NE(message.find("below 128-bit security"), std::string::npos) << message;
  EXPECT_NE(message.find("--insecure"), std::string::npos) << message;
  EXPECT_NO_THROW(Client(weak).generate_keys(rng, 1, false, tfhe::KeySecurity::allow_insecure));
}

TEST_F(HardeningTest, AForcedInsecureSetNeedsConsentAndIsMarked) {
  runtime::PlanOptions options;
  options.parameter_set = "test_weak";
  EXPECT_NE(error_of([&] { make_deployment(*compiled_, options); }).find("below 128-bit security"), std::string::npos);
  options.allow_insecure = true;
  const auto weak = make_deployment(*compiled_, options);
  EXPECT_FALSE(weak.server.plan.params.secure);
  EXPECT_NE(runtime::describe_plan(compiled_->circuit, weak.server.plan).find("INSECURE"), std::string::npos);
  // The flag travels in no file: a re-read set is judged again by the curve.
  const auto reread = deserialize_client_part(serialize_client_part(weak.client), "client part");
  EXPECT_FALSE(reread.params.secure);
}

// Every weight row, every table and every hidden bias of the model is absent from the client part's bytes,
// while the same probe finds them in the server part (or the compiled model) where they belong.
// Probes of at least 4 values (32 bytes), so that no short run of small integers matches by chance.
TEST_F(HardeningTest, TheClientPartHoldsNoWeightAndNoTable) {
  const auto compiled = tiny_compiled_model(5, {6, 6});
  const auto deployment = make_deployment(compiled, {});
  const auto client_bytes = serialize_client_part(deployment.client);
  const auto server_bytes = serialize_server_part(deployment.server);
  size_t probes = 0;
  for (const ir::Node& node : compiled.circuit.nodes()) {
    if (const auto* dot = std::get_if<ir::DotProductOp>(&node.op)) {
      const size_t inputs = dot->weights.size() / node.width;
      if (inputs < 4) continue;
      for (size_t row = 0; row < node.width; ++row) {
        const auto weights = bytes_of(std::span<const int64_t>(dot->weights).subspan(row * inputs, inputs));
        EXPECT_TRUE(contains(server_bytes, weights));
        EXPECT_FALSE(contains(client_bytes, weights)) << node.name << " row " << row;
        ++probes;
      }
    }
    if (const auto* lookup = std::get_if<ir::TableLookupOp>(&node.op)) {
      for (const auto& table : lookup->tables) {
        if (table.values.size() < 4) continue;
        const auto values = bytes_of(std::span<const int64_t>(table.values));
        EXPECT_TRUE(contains(server_bytes, values));
        EXPECT_FALSE(contains(client_bytes, values)) << node.name;
        ++probes;
      }
    }
  }
  const auto& layers = tiny_float_mlp(5, {6, 6}).model.layers;
  for (size_t l = 0; l + 1 < layers.size(); ++l) {  // the last layer's bias is the output dequantizer's offset
    for (const double bias : layers[l].bias) {
      EXPECT_FALSE(contains(client_bytes, bytes_of(std::span<const double>(&bias, 1)))) << layers[l].name;
      ++probes;
    }
  }
  EXPECT_GT(probes, 10u);
}

TEST_F(HardeningTest, TheClientPartSizeDoesNotGrowWithTheWeightCount) {
  const auto large = make_deployment(tiny_compiled_model(1, {300, 300}), {});
  const auto size_without_params = [](const ClientSpec& spec) {
    return serialize_client_part(spec).size() - tfhe::serialize_parameters(spec.params).size();
  };
  EXPECT_EQ(size_without_params(large.client), size_without_params(deployment_->client));
  EXPECT_LT(serialize_client_part(large.client).size(), 4096u);
}

TEST_F(HardeningTest, EvaluationKeysOfAnotherParameterSetAreRefusedBeforeTheyExpand) {
  const auto bytes = serialize_evaluation_keys(*evaluation_);
  ServerPart other = deployment_->server;  // the same model planned on a set whose keys would be gigabytes
  other.plan.params = tfhe::parameter_set("fhenn_p8");
  const std::string message = error_of([&] { deserialize_evaluation_keys(bytes, other, "evaluation keys", 1); });
  EXPECT_NE(message.find("parameter set 'fhenn_p8'"), std::string::npos) << message;
  other.model_id = "another model";  // another model: named first, before the parameters
  EXPECT_NE(
      error_of([&] { deserialize_evaluation_keys(bytes, other, "evaluation keys", 1); }).find("generated for model"),
      std::string::npos);
  EXPECT_NO_THROW(deserialize_evaluation_keys(bytes, deployment_->server, "evaluation keys", 1));
}

TEST_F(HardeningTest, SecretKeysAreWrittenOwnerOnly) {
  const auto path = temp_file("secret.key");
  std::filesystem::remove(path);
  const mode_t old_mask = ::umask(0);  // the most permissive umask: the file must still be 0600
  save_secret_keys(*secret_, path);
  ::umask(old_mask);
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  // An existing world-readable file is narrowed before the key is written into it.
  std::filesystem::permissions(path, std::filesystem::perms::all);
  save_secret_keys(*secret_, path);
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  EXPECT_EQ(load_secret_keys(path).key_id, secret_->key_id);
  std::filesystem::remove(path);
}

TEST_F(HardeningTest, OversizedFilesAreRefusedBeforeTheyAreRead) {
  EXPECT_NE(error_of([] { read_file_bytes("/dev/zero", "encrypted inputs", 1 << 20); }).find("larger than"),
            std::string::npos);
  const auto path = temp_file("big");
  write_file_bytes(path, std::vector<uint8_t>(4096, 7));
  EXPECT_NE(error_of([&] { read_file_bytes(path, "client part", 1024); }).find("4096 bytes"), std::string::npos);
  EXPECT_EQ(read_file_bytes(path, "client part", 4096).size(), 4096u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace fhenn::deploy
