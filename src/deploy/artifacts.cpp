// Deployment artifacts (see artifacts.hpp).
#include "fhenn/deploy/artifacts.hpp"

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/runtime/engine_plan_io.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/tfhe/serialization.hpp"

namespace fhenn::deploy {
namespace {

constexpr const char* kClientPartKind = "fhenn-client-part";
constexpr const char* kServerPartKind = "fhenn-server-part";
constexpr const char* kSecretKeysKind = "fhenn-secret-keys";
constexpr const char* kEvaluationKeysKind = "fhenn-evaluation-keys";
constexpr const char* kInputsKind = "fhenn-encrypted-inputs";
constexpr const char* kResultsKind = "fhenn-encrypted-results";
constexpr size_t kMaxPartBytes = size_t{1} << 34;

const char* batch_kind(EncryptedBatch::Kind kind) {
  return kind == EncryptedBatch::Kind::inputs ? kInputsKind : kResultsKind;
}

std::vector<uint8_t> server_content(const ir::Circuit& circuit, const runtime::EnginePlan& plan) {
  ByteWriter out;
  ir::write_circuit(out, circuit);
  runtime::write_plan(out, plan);
  return out.take();
}

// A deployment file's bytes and its name for messages: "<role> '<path>'".
struct ArtifactFile {
  std::string what;
  std::vector<uint8_t> bytes;
};

ArtifactFile read_artifact_file(const char* role, const std::filesystem::path& path) {
  return {concat(role, " '", path.string(), "'"), read_file_bytes(path, role)};
}

}  // namespace

Deployment make_deployment(const compiler::CompiledModel& compiled, const runtime::PlanOptions& options,
                           const ir::SeenRanges* seen) {
  runtime::EnginePlan plan = runtime::plan_for_engine(compiled.circuit, options, seen);
  const std::string model_id = sha256_hex(server_content(compiled.circuit, plan));
  return {ClientPart{model_id, compiled, plan}, ServerPart{model_id, compiled.circuit, plan}};
}

ir::SeenRanges observe_ranges(const compiler::CompiledModel& compiled, const Matrix& features) {
  runtime::IntMatrix quantized(features.rows, features.cols);
  quantized.values = compiled.client.quantize_rows(features);
  ir::SeenRanges seen(compiled.circuit);
  runtime::ClearExecutor().run_batch_observed(compiled.circuit, quantized, seen);
  return seen;
}

std::vector<uint8_t> serialize_client_part(const ClientPart& part) {
  ByteWriter out;
  out.str(part.model_id);
  out.vec(compiler::serialize_compiled(part.compiled));
  runtime::write_plan(out, part.plan);
  return seal_artifact(kClientPartKind, kDeployFormatVersion, out.bytes());
}

ClientPart deserialize_client_part(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kClientPartKind, kDeployFormatVersion, what);
  ByteReader in(payload, what);
  ClientPart part;
  part.model_id = in.str(128);
  const auto compiled = in.vec<uint8_t>(kMaxPartBytes);
  part.compiled = compiler::deserialize_compiled(compiled, what);
  part.plan = runtime::read_plan(in, part.compiled.circuit);
  in.expect_end();
  FHENN_CHECK(sha256_hex(server_content(part.compiled.circuit, part.plan)) == part.model_id, what,
              " is inconsistent: its model id does not match its content");
  return part;
}

std::vector<uint8_t> serialize_server_part(const ServerPart& part) {
  ByteWriter out;
  out.str(part.model_id);
  out.raw(server_content(part.circuit, part.plan));
  return seal_artifact(kServerPartKind, kDeployFormatVersion, out.bytes());
}

ServerPart deserialize_server_part(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kServerPartKind, kDeployFormatVersion, what);
  ByteReader in(payload, what);
  ServerPart part;
  part.model_id = in.str(128);
  part.circuit = ir::read_circuit(in);
  part.plan = runtime::read_plan(in, part.circuit);
  in.expect_end();
  FHENN_CHECK(sha256_hex(server_content(part.circuit, part.plan)) == part.model_id, what,
              " is inconsistent: its model id does not match its content");
  return part;
}

std::vector<uint8_t> serialize_secret_keys(const SecretKeys& keys) {
  ByteWriter out;
  out.str(keys.model_id);
  out.str(keys.key_id);
  out.vec(tfhe::serialize_client_key(keys.key));
  return seal_artifact(kSecretKeysKind, kDeployFormatVersion, out.bytes());
}

SecretKeys deserialize_secret_keys(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kSecretKeysKind, kDeployFormatVersion, what);
  ByteReader in(payload, what);
  SecretKeys keys;
  keys.model_id = in.str(128);
  keys.key_id = in.str(128);
  const auto key = in.vec<uint8_t>(kMaxPartBytes);
  keys.key = tfhe::deserialize_client_key(key, nullptr, what);
  in.expect_end();
  return keys;
}

std::vector<uint8_t> serialize_evaluation_keys(const EvaluationKeys& keys) {
  ByteWriter out;
  out.str(keys.model_id);
  out.str(keys.key_id);
  out.vec(tfhe::serialize_server_key(keys.key));
  return seal_artifact(kEvaluationKeysKind, kDeployFormatVersion, out.bytes());
}

EvaluationKeys deserialize_evaluation_keys(std::span<const uint8_t> bytes, const std::string& what, int threads) {
  const auto payload = open_artifact(bytes, kEvaluationKeysKind, kDeployFormatVersion, what);
  ByteReader in(payload, what);
  EvaluationKeys keys;
  keys.model_id = in.str(128);
  keys.key_id = in.str(128);
  const auto key = in.vec<uint8_t>(kMaxPartBytes);
  keys.key = tfhe::deserialize_server_key(key, nullptr, what, threads);
  in.expect_end();
  return keys;
}

std::vector<uint8_t> serialize_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params) {
  ByteWriter out;
  out.str(batch.model_id);
  out.str(batch.key_id);
  out.u64(batch.samples);
  out.u64(batch.width);
  out.vec(tfhe::serialize_ciphertexts(params, batch.ciphertexts));
  return seal_artifact(batch_kind(batch.kind), kDeployFormatVersion, out.bytes());
}

EncryptedBatch deserialize_batch(std::span<const uint8_t> bytes, EncryptedBatch::Kind expected,
                                 const tfhe::ParameterSet& params, const std::string& what) {
  const auto payload = open_artifact(bytes, batch_kind(expected), kDeployFormatVersion, what);
  ByteReader in(payload, what);
  EncryptedBatch batch;
  batch.kind = expected;
  batch.model_id = in.str(128);
  batch.key_id = in.str(128);
  batch.samples = in.u64();
  batch.width = in.u64();
  const auto ciphertexts = in.vec<uint8_t>(kMaxPartBytes);
  batch.ciphertexts = tfhe::deserialize_ciphertexts(ciphertexts, params, what);
  in.expect_end();
  FHENN_CHECK(batch.width > 0 && batch.samples * batch.width == batch.ciphertexts.size(), what, " holds ",
              batch.ciphertexts.size(), " ciphertexts, not ", batch.samples, " samples of ", batch.width,
              ": the file is corrupted");
  return batch;
}

void save_client_part(const ClientPart& part, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_client_part(part));
}
ClientPart load_client_part(const std::filesystem::path& path) {
  const auto file = read_artifact_file("client part", path);
  return deserialize_client_part(file.bytes, file.what);
}
void save_server_part(const ServerPart& part, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_server_part(part));
}
ServerPart load_server_part(const std::filesystem::path& path) {
  const auto file = read_artifact_file("server part", path);
  return deserialize_server_part(file.bytes, file.what);
}
void save_secret_keys(const SecretKeys& keys, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_secret_keys(keys));
}
SecretKeys load_secret_keys(const std::filesystem::path& path) {
  const auto file = read_artifact_file("secret key file", path);
  return deserialize_secret_keys(file.bytes, file.what);
}
void save_evaluation_keys(const EvaluationKeys& keys, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_evaluation_keys(keys));
}
EvaluationKeys load_evaluation_keys(const std::filesystem::path& path, int threads) {
  const auto file = read_artifact_file("evaluation keys", path);
  return deserialize_evaluation_keys(file.bytes, file.what, threads);
}
void save_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_batch(batch, params));
}
EncryptedBatch load_batch(const std::filesystem::path& path, EncryptedBatch::Kind expected,
                          const tfhe::ParameterSet& params) {
  const auto file =
      read_artifact_file(expected == EncryptedBatch::Kind::inputs ? "encrypted inputs" : "encrypted results", path);
  return deserialize_batch(file.bytes, expected, params, file.what);
}

}  // namespace fhenn::deploy
