// Tests of the client / server split: files round trip, encrypted predictions equal the clear circuit's, and
// keys, ciphertexts and parts from another model, key or kind are refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/deploy/server.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/tfhe/serialization.hpp"
#include "deploy/deploy_test_models.hpp"

namespace fhenn::deploy {
namespace {

class DeployTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    deployment_ = std::make_unique<Deployment>(make_deployment(tiny_compiled_model(1), {}));
    auto rng = tfhe::Csprng::for_tests_only(3);
    auto [secret, evaluation] = Client(deployment_->client).generate_keys(rng, 2, false);
    secret_ = std::make_unique<SecretKeys>(std::move(secret));
    evaluation_ = std::make_unique<EvaluationKeys>(std::move(evaluation));
  }
  static void TearDownTestSuite() {
    deployment_.reset();
    secret_.reset();
    evaluation_.reset();
  }
  static std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("fhenn_deploy_test_" + name);
  }
  static std::unique_ptr<Deployment> deployment_;
  static std::unique_ptr<SecretKeys> secret_;
  static std::unique_ptr<EvaluationKeys> evaluation_;
};
std::unique_ptr<Deployment> DeployTest::deployment_;
std::unique_ptr<SecretKeys> DeployTest::secret_;
std::unique_ptr<EvaluationKeys> DeployTest::evaluation_;

TEST_F(DeployTest, EncryptedPredictionsThroughFilesEqualTheClearCircuit) {
  save_client_part(deployment_->client, temp_file("client"));
  save_server_part(deployment_->server, temp_file("server"));
  save_secret_keys(*secret_, temp_file("secret"));
  save_evaluation_keys(*evaluation_, temp_file("eval"));
  const Client client(load_client_part(temp_file("client")));
  const Server server(load_server_part(temp_file("server")));
  const auto& params = client.spec().params;

  const Matrix features = sample_features(12);
  auto rng = tfhe::Csprng::for_tests_only(9);
  save_batch(client.encrypt(features, load_secret_keys(temp_file("secret")), rng), params, temp_file("in"));
  const auto results = server.run(load_batch(temp_file("in"), EncryptedBatch::Kind::inputs, params),
                                  load_evaluation_keys(temp_file("eval"), server.part(), 2), 2, false);
  save_batch(results, params, temp_file("out"));
  const auto predictions =
      client.decrypt(load_batch(temp_file("out"), EncryptedBatch::Kind::results, params), *secret_);

  const auto compiled = tiny_compiled_model(1);
  runtime::IntMatrix quantized(features.rows, features.cols);
  quantized.values = client.quantize(features);
  const auto clear = runtime::ClearExecutor().run_batch(server.part().circuit, quantized);
  EXPECT_EQ(predictions.outputs, clear.values);
  for (size_t s = 0; s < features.rows; ++s) {
    EXPECT_EQ(predictions.classes[s], compiler::predicted_class(compiler::fake_quantized_scores(compiled, features.row(s))));
  }
}

TEST_F(DeployTest, ServerPartAndEvaluationKeysHoldNoSecretKey) {
  const auto server_bytes = serialize_server_part(deployment_->server);
  const auto eval_bytes = serialize_evaluation_keys(*evaluation_);
  // 512 bits of the secret GLWE key: the packed key bytes just before the secret key file's checksum.
  const auto secret_bytes = tfhe::serialize_client_key(secret_->key);
  const std::vector<uint8_t> needle(secret_bytes.end() - 32 - 64, secret_bytes.end() - 32);
  const auto contains = [&](const std::vector<uint8_t>& haystack) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
  };
  EXPECT_FALSE(contains(server_bytes));
  EXPECT_FALSE(contains(eval_bytes));
  EXPECT_TRUE(contains(serialize_secret_keys(*secret_)));  // the probe does find the key where it is
}

TEST_F(DeployTest, KeysOfAnotherModelAreRefused) {
  const auto other = make_deployment(tiny_compiled_model(2), {});
  ASSERT_NE(other.client.model_id, deployment_->client.model_id);
  const Client other_client(other.client);
  auto rng = tfhe::Csprng::for_tests_only(4);
  try {
    other_client.encrypt(sample_features(1), *secret_, rng);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("keygen"), std::string::npos) << e.what();
  }
  const Server other_server(other.server);
  const auto inputs = Client(deployment_->client).encrypt(sample_features(1), *secret_, rng);
  EXPECT_THROW(other_server.run(inputs, *evaluation_, 1, false), Error);
}

TEST_F(DeployTest, CiphertextsUnderAnotherKeyAreRefused) {
  const Client client(deployment_->client);
  auto rng = tfhe::Csprng::for_tests_only(5);
  auto inputs = client.encrypt(sample_features(1), *secret_, rng);
  inputs.key_id = "another-key";
  EXPECT_THROW(Server(deployment_->server).run(inputs, *evaluation_, 1, false), Error);
  auto results = Server(deployment_->server).run(client.encrypt(sample_features(1), *secret_, rng), *evaluation_, 1, false);
  results.key_id = "another-key";
  EXPECT_THROW(client.decrypt(results, *secret_), Error);
}

TEST_F(DeployTest, InputsAreNotResultsAndViceVersa) {
  const Client client(deployment_->client);
  auto rng = tfhe::Csprng::for_tests_only(6);
  const auto inputs = client.encrypt(sample_features(2), *secret_, rng);
  const auto& params = client.spec().params;
  const auto bytes = serialize_batch(inputs, params);
  EXPECT_THROW(deserialize_batch(bytes, EncryptedBatch::Kind::results, params, "results"), Error);
  EXPECT_THROW(client.decrypt(inputs, *secret_), Error);
}

TEST_F(DeployTest, TruncatedAndCorruptedFilesAreRefused) {
  const auto& params = deployment_->client.params;
  auto rng = tfhe::Csprng::for_tests_only(8);
  const auto batch = serialize_batch(Client(deployment_->client).encrypt(sample_features(1), *secret_, rng), params);
  const auto server = serialize_server_part(deployment_->server);
  const auto client = serialize_client_part(deployment_->client);
  for (const auto* bytes : {&batch, &server, &client}) {
    for (size_t n : {size_t{0}, size_t{10}, bytes->size() / 2, bytes->size() - 1}) {
      const std::span<const uint8_t> cut(bytes->data(), n);
      EXPECT_THROW(deserialize_batch(cut, EncryptedBatch::Kind::inputs, params, "f"), Error);
      EXPECT_THROW(deserialize_server_part(cut, "f"), Error);
      EXPECT_THROW(deserialize_client_part(cut, "f"), Error);
    }
    auto flipped = *bytes;
    flipped[flipped.size() / 2] ^= 1;
    EXPECT_THROW(deserialize_batch(flipped, EncryptedBatch::Kind::inputs, params, "f"), Error);
    EXPECT_THROW(deserialize_server_part(flipped, "f"), Error);
  }
  EXPECT_THROW(deserialize_server_part(client, "f"), Error);  // a client part is not a server part
}

TEST_F(DeployTest, NonFiniteOrMisshapedInputsAreRefused) {
  const Client client(deployment_->client);
  auto rng = tfhe::Csprng::for_tests_only(10);
  Matrix nan_input = sample_features(2);
  nan_input.at(1, 0) = std::nan("");
  EXPECT_THROW(client.encrypt(nan_input, *secret_, rng), Error);
  EXPECT_THROW(client.encrypt(Matrix(1, 3), *secret_, rng), Error);
}

}  // namespace
}  // namespace fhenn::deploy
