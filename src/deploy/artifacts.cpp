// Deployment artifacts (see artifacts.hpp).
#include "fhenn/deploy/artifacts.hpp"

#include <cmath>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/bytes.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
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
constexpr uint64_t kMaxClientFeatures = uint64_t{1} << 24;  // inputs or outputs of a client spec
constexpr uint64_t kMaxBatchWidth = uint64_t{1} << 24;      // values per sample

// Size caps when reading each kind of file, far above every real artifact: a wrong or hostile path (a device, a
// huge file) is refused before it is read into memory. The evaluation keys of the 8-bit set are about 1.2 GB,
// a batch of 100,000 ciphertexts of the 4-bit sets about 1.6 GB.
constexpr uint64_t kMaxClientPartFileBytes = uint64_t{1} << 26;
constexpr uint64_t kMaxServerPartFileBytes = uint64_t{1} << 32;
constexpr uint64_t kMaxSecretKeyFileBytes = uint64_t{1} << 24;
constexpr uint64_t kMaxEvaluationKeysFileBytes = uint64_t{1} << 33;
constexpr uint64_t kMaxBatchFileBytes = uint64_t{1} << 34;
// Seed-compressed inputs expand (k N + 1)-fold in memory; a batch is refused past this before it expands.
constexpr uint64_t kMaxExpandedBatchBytes = uint64_t{1} << 34;

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

ArtifactFile read_artifact_file(const char* role, const std::filesystem::path& path, uint64_t max_bytes) {
  return {concat(role, " '", path.string(), "'"), read_file_bytes(path, role, max_bytes)};
}

void write_client_spec(ByteWriter& out, const ClientSpec& spec) {
  out.str(spec.model_id);
  out.vec(tfhe::serialize_parameters(spec.params));
  const auto& q = spec.quantization;
  out.u64(q.inputs.size());
  for (const auto& quantizer : q.inputs) compiler::write_quantizer(out, quantizer);
  out.u64(q.outputs.size());
  for (const auto& dequantizer : q.outputs) compiler::write_output_dequantization(out, dequantizer);
  const auto& e = spec.encodings;
  out.u64(e.input_ranges.size());
  for (size_t i = 0; i < e.input_ranges.size(); ++i) {
    out.i64(e.input_ranges[i].min);
    out.i64(e.input_ranges[i].max);
    out.i64(e.input_bits[i]);
  }
  out.u64(e.output_bits.size());
  for (int bits : e.output_bits) out.i64(bits);
}

int read_encoding_bits(ByteReader& in) {
  const int64_t bits = in.i64();
  FHENN_CHECK(bits >= 1 && bits <= 62, in.what(), " is corrupted: an encoding of ", bits, " bits");
  return static_cast<int>(bits);
}

ClientSpec read_client_spec(ByteReader& in) {
  ClientSpec spec;
  spec.model_id = in.str(128);
  spec.params = tfhe::deserialize_parameters(in.vec<uint8_t>(1 << 16), in.what());
  auto& q = spec.quantization;
  q.inputs.resize(in.count(kMaxClientFeatures, 1));
  for (auto& quantizer : q.inputs) quantizer = compiler::read_quantizer(in);
  q.outputs.resize(in.count(kMaxClientFeatures, 1));
  for (auto& dequantizer : q.outputs) {
    dequantizer = compiler::read_output_dequantization(in);
    FHENN_CHECK(std::isfinite(dequantizer.input_scale) && std::isfinite(dequantizer.weight_scale) &&
                    std::isfinite(dequantizer.bias),
                in.what(), " is corrupted: an output dequantizer is not finite");
  }
  auto& e = spec.encodings;
  const uint64_t inputs = in.count(kMaxClientFeatures, 3 * sizeof(int64_t));
  for (uint64_t i = 0; i < inputs; ++i) {
    const int64_t min = in.i64();
    e.input_ranges.push_back(ir::Range{min, in.i64()});
    e.input_bits.push_back(read_encoding_bits(in));
  }
  const uint64_t outputs = in.count(kMaxClientFeatures, sizeof(int64_t));
  for (uint64_t i = 0; i < outputs; ++i) e.output_bits.push_back(read_encoding_bits(in));
  runtime::validate_encodings(e, in.what());
  FHENN_CHECK(q.inputs.size() == e.input_bits.size() && q.outputs.size() == e.output_bits.size(), in.what(),
              " is inconsistent: ", q.inputs.size(), " input quantizers for ", e.input_bits.size(), " inputs, ",
              q.outputs.size(), " output dequantizers for ", e.output_bits.size(), " outputs");
  return spec;
}

}  // namespace

Deployment make_deployment(const compiler::CompiledModel& compiled, const runtime::PlanOptions& options,
                           const ir::SeenRanges* seen) {
  runtime::EnginePlan plan = runtime::plan_for_engine(compiled.circuit, options, seen);
  const std::string model_id = sha256_hex(server_content(compiled.circuit, plan));
  ClientSpec client{model_id, plan.params, compiled.client, runtime::client_encodings(compiled.circuit, plan)};
  return {std::move(client), ServerPart{model_id, compiled.circuit, std::move(plan)}};
}

ir::SeenRanges observe_ranges(const compiler::CompiledModel& compiled, const Matrix& features) {
  runtime::IntMatrix quantized(features.rows, features.cols);
  quantized.values = compiled.client.quantize_rows(features);
  ir::SeenRanges seen(compiled.circuit);
  runtime::ClearExecutor().run_batch_observed(compiled.circuit, quantized, seen);
  return seen;
}

std::vector<uint8_t> serialize_client_part(const ClientSpec& part) {
  ByteWriter out;
  write_client_spec(out, part);
  return seal_artifact(kClientPartKind, kClientPartFormatVersion, out.bytes());
}

ClientSpec deserialize_client_part(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kClientPartKind, kClientPartFormatVersion, what);
  ByteReader in(payload, what);
  ClientSpec spec = read_client_spec(in);
  in.expect_end();
  return spec;
}

std::vector<uint8_t> serialize_server_part(const ServerPart& part) {
  ByteWriter out;
  out.str(part.model_id);
  out.raw(server_content(part.circuit, part.plan));
  return seal_artifact(kServerPartKind, kServerPartFormatVersion, out.bytes());
}

ServerPart deserialize_server_part(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kServerPartKind, kServerPartFormatVersion, what);
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

void check_evaluation_keys_model(const std::string& keys_model_id, const ServerPart& part) {
  FHENN_CHECK(keys_model_id == part.model_id, "the evaluation keys were generated for model ",
              keys_model_id.substr(0, 12), ", this server part is model ", part.model_id.substr(0, 12),
              ": the client must run keygen with this model's client part");
}

EvaluationKeys deserialize_evaluation_keys(std::span<const uint8_t> bytes, const ServerPart& part,
                                           const std::string& what, int threads) {
  const auto payload = open_artifact(bytes, kEvaluationKeysKind, kDeployFormatVersion, what);
  ByteReader in(payload, what);
  EvaluationKeys keys;
  keys.model_id = in.str(128);
  keys.key_id = in.str(128);
  const auto key = in.vec<uint8_t>(kMaxPartBytes);
  check_evaluation_keys_model(keys.model_id, part);
  keys.key = tfhe::deserialize_server_key(key, &part.plan.params, what, threads);
  in.expect_end();
  return keys;
}

std::vector<uint8_t> serialize_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params) {
  const bool inputs = batch.kind == EncryptedBatch::Kind::inputs;
  FHENN_CHECK(!inputs || batch.seeded, "encrypted inputs are serialized seed-compressed: encrypt them with ",
              "deploy::Client::encrypt");
  ByteWriter out;
  out.str(batch.model_id);
  out.str(batch.key_id);
  out.u64(batch.samples);
  out.u64(batch.width);
  out.vec(inputs ? tfhe::serialize_seeded_ciphertexts(params, *batch.seeded)
                 : tfhe::serialize_ciphertexts(params, batch.ciphertexts));
  return seal_artifact(batch_kind(batch.kind), inputs ? kInputsFormatVersion : kDeployFormatVersion, out.bytes());
}

EncryptedBatch deserialize_batch(std::span<const uint8_t> bytes, EncryptedBatch::Kind expected,
                                 const tfhe::ParameterSet& params, const std::string& what) {
  const bool inputs = expected == EncryptedBatch::Kind::inputs;
  const auto payload =
      open_artifact(bytes, batch_kind(expected), inputs ? kInputsFormatVersion : kDeployFormatVersion, what);
  ByteReader in(payload, what);
  EncryptedBatch batch;
  batch.kind = expected;
  batch.model_id = in.str(128);
  batch.key_id = in.str(128);
  batch.samples = in.u64();
  batch.width = in.u64();
  FHENN_CHECK(batch.width > 0 && batch.width <= kMaxBatchWidth, what, " is corrupted: ", batch.width,
              " values per sample");
  const uint64_t expected_count = checked_mul(batch.samples, batch.width, what + ": samples x width");
  const auto ciphertexts = in.vec<uint8_t>(kMaxPartBytes);
  if (inputs) {
    batch.seeded = tfhe::deserialize_seeded_ciphertexts(ciphertexts, params, what);
    FHENN_CHECK(expected_count == batch.seeded->bodies.size(), what, " holds ", batch.seeded->bodies.size(),
                " ciphertexts, not ", batch.samples, " samples of ", batch.width, ": the file is corrupted");
    // Expanding multiplies the size by k N + 1: bounded before a single mask is regenerated.
    const uint64_t expanded = checked_mul(expected_count, (params.big_lwe_dimension().value + 1) * sizeof(tfhe::Torus),
                                          what + ": expanded size");
    FHENN_CHECK(expanded <= kMaxExpandedBatchBytes, what, " would expand to ", expanded,
                " bytes of ciphertexts, more than the ", kMaxExpandedBatchBytes,
                " a batch can take: send fewer samples per batch");
    batch.ciphertexts = tfhe::expand_ciphertexts(*batch.seeded);
  } else {
    batch.ciphertexts = tfhe::deserialize_ciphertexts(ciphertexts, params, what);
  }
  in.expect_end();
  FHENN_CHECK(expected_count == batch.ciphertexts.size(), what, " holds ", batch.ciphertexts.size(),
              " ciphertexts, not ", batch.samples, " samples of ", batch.width, ": the file is corrupted");
  return batch;
}

void save_client_part(const ClientSpec& part, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_client_part(part));
}
ClientSpec load_client_part(const std::filesystem::path& path) {
  const auto file = read_artifact_file("client part", path, kMaxClientPartFileBytes);
  return deserialize_client_part(file.bytes, file.what);
}
void save_server_part(const ServerPart& part, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_server_part(part));
}
ServerPart load_server_part(const std::filesystem::path& path) {
  const auto file = read_artifact_file("server part", path, kMaxServerPartFileBytes);
  return deserialize_server_part(file.bytes, file.what);
}
void save_secret_keys(const SecretKeys& keys, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_secret_keys(keys), FileAccess::owner_only);
}
SecretKeys load_secret_keys(const std::filesystem::path& path) {
  const auto file = read_artifact_file("secret key file", path, kMaxSecretKeyFileBytes);
  return deserialize_secret_keys(file.bytes, file.what);
}
void save_evaluation_keys(const EvaluationKeys& keys, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_evaluation_keys(keys));
}
EvaluationKeys load_evaluation_keys(const std::filesystem::path& path, const ServerPart& part, int threads) {
  const auto file = read_artifact_file("evaluation keys", path, kMaxEvaluationKeysFileBytes);
  return deserialize_evaluation_keys(file.bytes, part, file.what, threads);
}
void save_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_batch(batch, params));
}
EncryptedBatch load_batch(const std::filesystem::path& path, EncryptedBatch::Kind expected,
                          const tfhe::ParameterSet& params) {
  const auto file = read_artifact_file(
      expected == EncryptedBatch::Kind::inputs ? "encrypted inputs" : "encrypted results", path, kMaxBatchFileBytes);
  return deserialize_batch(file.bytes, expected, params, file.what);
}

}  // namespace fhenn::deploy
