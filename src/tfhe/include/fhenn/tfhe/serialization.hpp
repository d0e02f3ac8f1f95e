// Sealed binary forms of TFHE secret keys, (seed-compressed) evaluation keys and ciphertexts.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fhenn/tfhe/keys.hpp"

namespace fhenn::tfhe {

// Each artifact (common/artifact.hpp: magic, kind, format version, SHA-256) holds the full parameter set first.
// Loading verifies the seal, then the parameters against `expected` (when given) and every size against the
// parameters; anything wrong throws fhenn::Error naming `what` and the mismatch.
constexpr uint32_t kTfheFormatVersion = 1;

std::vector<uint8_t> serialize_parameters(const ParameterSet& params);  // bare (no seal), for embedding
ParameterSet deserialize_parameters(std::span<const uint8_t> bytes, std::string_view what);

std::vector<uint8_t> serialize_client_key(const ClientKey& key);
ClientKey deserialize_client_key(std::span<const uint8_t> bytes, const ParameterSet* expected,
                                 std::string_view what = "client key");

// Stores the mask seeds and the bodies only (several times smaller than the keys in memory); loading
// regenerates the masks and the Fourier bootstrap key.
std::vector<uint8_t> serialize_server_key(const ServerKey& key);
ServerKey deserialize_server_key(std::span<const uint8_t> bytes, const ParameterSet* expected,
                                 std::string_view what = "server key", int threads = 1);

// Seed-compressed ciphertexts under the large key: the seed and one body each (8 bytes per ciphertext).
std::vector<uint8_t> serialize_seeded_ciphertexts(const ParameterSet& params, const SeededCiphertexts& seeded);
SeededCiphertexts deserialize_seeded_ciphertexts(std::span<const uint8_t> bytes, const ParameterSet& expected,
                                                 std::string_view what = "ciphertexts");

// Ciphertexts under the large key (k*N + 1 words each).
std::vector<uint8_t> serialize_ciphertexts(const ParameterSet& params, std::span<const LweCiphertext> ciphertexts);
std::vector<LweCiphertext> deserialize_ciphertexts(std::span<const uint8_t> bytes, const ParameterSet& expected,
                                                   std::string_view what = "ciphertexts");

}  // namespace fhenn::tfhe
