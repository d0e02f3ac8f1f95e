// Reading gzip-compressed data (zlib), bounded: a crafted file cannot make the reader allocate without limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace fhenn {

// The decompressed bytes of one gzip member. Throws fhenn::Error naming `what` for data that is not gzip, is
// corrupted or truncated, or decompresses to more than `max_bytes`.
std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, uint64_t max_bytes, const std::string& what);

// The file's bytes, decompressed when its name ends in ".gz"; at most `max_bytes` either way. Throws
// fhenn::Error naming the file for one that cannot be read, and as gunzip.
std::vector<uint8_t> read_maybe_gzip_file(const std::filesystem::path& path, uint64_t max_bytes);

}  // namespace fhenn
