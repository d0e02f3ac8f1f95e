// IDX files, the format of the MNIST family of data sets (LeCun et al., yann.lecun.com/exdb/mnist): an array of
// unsigned bytes with 1 to 4 big-endian 32-bit dimensions. Bounded: the sizes are checked against the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace fhenn {

struct IdxArray {
  std::vector<size_t> dims;     // e.g. {10000, 28, 28} for images, {10000} for labels
  std::vector<uint8_t> values;  // row-major, dims' product entries
};

// Fashion-MNIST's 60,000 training images are 47 MB; a file may be at most this.
inline constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 30;

// Throws fhenn::Error naming `what` for: fewer than 4 bytes, a magic number not starting with two zero bytes, an
// element type other than unsigned byte (0x08), 0 or more than 4 dimensions, a header longer than the data, or
// dimensions whose product is not the number of bytes that follow.
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& what);

// parse_idx of a file, gunzipped when its name ends in ".gz" (as Debian's dataset packages ship them).
IdxArray read_idx_file(const std::filesystem::path& path);

}  // namespace fhenn
