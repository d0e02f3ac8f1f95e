// Deployment artifacts: the client and server parts of a compiled model, keys, and encrypted batches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fhenn/compiler/compile.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "fhenn/tfhe/keys.hpp"

namespace fhenn::deploy {

// Every deployment artifact is sealed (common/artifact.hpp) with its own kind and this format version, and
// carries the identity of the model (and, for keys and ciphertexts, of the key) it belongs to.
inline constexpr uint32_t kDeployFormatVersion = 1;
// 2: circuits with shapes and the convolution, sum, reshape, concat and slice ops; lookup plans per table.
// 3: the plan's output decoding (output bits and each output's decrypted error).
inline constexpr uint32_t kServerPartFormatVersion = 3;
// The client part's own version: 2 holds a ClientSpec (version 1 held the whole compiled model).
inline constexpr uint32_t kClientPartFormatVersion = 2;
// Encrypted inputs' own version: 2 holds seed-compressed ciphertexts (version 1 held them whole).
inline constexpr uint32_t kInputsFormatVersion = 2;

// The client part: what a client needs to generate keys, encrypt and decrypt, and nothing of the model itself:
// per input feature its quantizer, per input element its range and encoding, per output its dequantizer and
// encoding, and the parameter set. No weight, no table, no circuit (those stay in the server part).
struct ClientSpec {
  std::string model_id;
  tfhe::ParameterSet params;
  compiler::ClientQuantization quantization;
  runtime::ClientEncodings encodings;

  size_t input_width() const { return encodings.input_bits.size(); }
  size_t output_width() const { return encodings.output_bits.size(); }
};

// The server part: the circuit and its engine plan. Nothing secret, no quantizers.
struct ServerPart {
  std::string model_id;
  ir::Circuit circuit;
  runtime::EnginePlan plan;
};

struct Deployment {
  ClientSpec client;
  ServerPart server;
};

// Plans the compiled circuit for the engine and splits it. The model id is the SHA-256 of the server part's
// content (circuit + plan). Throws fhenn::Error when the plan's parameter set is below 128-bit security and
// `options.allow_insecure` is not set. `seen` is needed with RangeSource::seen (the ranges observed on an input set).
Deployment make_deployment(const compiler::CompiledModel& compiled, const runtime::PlanOptions& options,
                           const ir::SeenRanges* seen = nullptr);

// The ranges every node takes when the client's quantization of `features` runs through the circuit (for
// RangeSource::seen).
ir::SeenRanges observe_ranges(const compiler::CompiledModel& compiled, const Matrix& features);

// Secret keys: stay with the client.
struct SecretKeys {
  std::string model_id;
  std::string key_id;
  tfhe::ClientKey key;
};

// Evaluation keys (key-switching and bootstrap keys, seed-compressed when saved): sent to the server.
struct EvaluationKeys {
  std::string model_id;
  std::string key_id;
  tfhe::ServerKey key;
};

// Ciphertexts of `samples` rows of `width` values: encrypted inputs (client -> server) or results (back).
// Inputs travel seed-compressed (`seeded`: a mask seed and one 8-byte body per ciphertext); `ciphertexts` holds
// them expanded, ready for the server. Results are bootstrapped ciphertexts and travel whole.
struct EncryptedBatch {
  enum class Kind { inputs, results };
  Kind kind = Kind::inputs;
  std::string model_id;
  std::string key_id;
  size_t samples = 0;
  size_t width = 0;
  std::vector<tfhe::LweCiphertext> ciphertexts;   // samples * width, sample-major
  std::optional<tfhe::SeededCiphertexts> seeded;  // inputs: the compact form that is serialized
};

std::vector<uint8_t> serialize_client_part(const ClientSpec& part);
ClientSpec deserialize_client_part(std::span<const uint8_t> bytes, const std::string& what);
std::vector<uint8_t> serialize_server_part(const ServerPart& part);
ServerPart deserialize_server_part(std::span<const uint8_t> bytes, const std::string& what);
std::vector<uint8_t> serialize_secret_keys(const SecretKeys& keys);
SecretKeys deserialize_secret_keys(std::span<const uint8_t> bytes, const std::string& what);
std::vector<uint8_t> serialize_evaluation_keys(const EvaluationKeys& keys);
// Checked against the server part before anything is expanded: first the model id, then the parameter set.
EvaluationKeys deserialize_evaluation_keys(std::span<const uint8_t> bytes, const ServerPart& part,
                                           const std::string& what, int threads);
// Throws fhenn::Error unless evaluation keys made for model `keys_model_id` serve the server part `part`.
void check_evaluation_keys_model(const std::string& keys_model_id, const ServerPart& part);
std::vector<uint8_t> serialize_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params);
EncryptedBatch deserialize_batch(std::span<const uint8_t> bytes, EncryptedBatch::Kind expected,
                                 const tfhe::ParameterSet& params, const std::string& what);

// File forms: `what` in error messages is "<role> '<path>'".
void save_client_part(const ClientSpec& part, const std::filesystem::path& path);
ClientSpec load_client_part(const std::filesystem::path& path);
void save_server_part(const ServerPart& part, const std::filesystem::path& path);
ServerPart load_server_part(const std::filesystem::path& path);
// Written with mode 0600 (owner only), whatever the umask.
void save_secret_keys(const SecretKeys& keys, const std::filesystem::path& path);
SecretKeys load_secret_keys(const std::filesystem::path& path);
void save_evaluation_keys(const EvaluationKeys& keys, const std::filesystem::path& path);
EvaluationKeys load_evaluation_keys(const std::filesystem::path& path, const ServerPart& part, int threads);
void save_batch(const EncryptedBatch& batch, const tfhe::ParameterSet& params, const std::filesystem::path& path);
EncryptedBatch load_batch(const std::filesystem::path& path, EncryptedBatch::Kind expected,
                          const tfhe::ParameterSet& params);

}  // namespace fhenn::deploy
