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

// Whole-file I/O with errors that name the file and the role it plays. Reading refuses (fhenn::Error) a file of
// more than `max_bytes`, checked before it is read for a regular file and while reading for anything else (a
// pipe, a device such as /dev/zero), so that no path can make a loader exhaust memory.
inline constexpr uint64_t kDefaultMaxFileBytes = uint64_t{1} << 32;
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view what,
                                     uint64_t max_bytes = kDefaultMaxFileBytes);
// owner_only: created with mode 0600 (secret keys), whatever the umask; an existing file is narrowed to 0600
// before it is written.
enum class FileAccess { default_mode, owner_only };
void write_file_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                      FileAccess access = FileAccess::default_mode);

}  // namespace fhenn
