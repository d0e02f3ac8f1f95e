// Sealed binary artifacts (keys, ciphertexts, circuits): magic, kind, format version, payload, SHA-256.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fhenn {

// Layout: "FHENN" | u8 kind length | kind | u32 format version | u64 payload size | payload |
//         SHA-256 of everything before it (32 bytes).
std::vector<uint8_t> seal_artifact(std::string_view kind, uint32_t format_version, std::span<const uint8_t> payload);

// Verifies magic, kind, version and checksum, and returns the payload. Throws fhenn::Error naming `what`
// (e.g. "evaluation keys file keys.bin") and the mismatch: a wrong kind, another format version, a
// truncated or corrupted file.
std::vector<uint8_t> open_artifact(std::span<const uint8_t> bytes, std::string_view kind, uint32_t format_version,
                                   std::string_view what);

// Reads the kind of a sealed artifact without verifying it (for messages such as "this is a ciphertext file").
std::string peek_artifact_kind(std::span<const uint8_t> bytes);

std::array<uint8_t, 32> sha256(std::span<const uint8_t> data);
std::string sha256_hex(std::span<const uint8_t> data);
std::string to_hex(std::span<const uint8_t> data);

// Whole-file I/O with errors that name the file and the role it plays.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view what);
void write_file_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace fhenn
