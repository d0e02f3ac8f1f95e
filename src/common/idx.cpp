// Parsing IDX arrays (unsigned bytes, 1 to 4 dimensions) with every size checked against the data.
#include "fhenn/common/idx.hpp"

#include "fhenn/common/error.hpp"
#include "fhenn/common/gzip.hpp"

namespace fhenn {
namespace {

uint32_t big_endian_u32(std::span<const uint8_t> bytes, size_t offset) {
  return uint32_t{bytes[offset]} << 24 | uint32_t{bytes[offset + 1]} << 16 | uint32_t{bytes[offset + 2]} << 8 |
         uint32_t{bytes[offset + 3]};
}

std::string hex_byte(uint8_t b) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[b >> 4], kDigits[b & 15]};
}

}  // namespace

IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& what) {
  FHENN_CHECK(bytes.size() >= 4, what, " is not an IDX file: it has ", bytes.size(), " bytes, fewer than its header");
  FHENN_CHECK(bytes[0] == 0 && bytes[1] == 0, what, " is not an IDX file: its magic number does not start with 0 0");
  FHENN_CHECK(bytes[2] == 0x08, what, " holds elements of IDX type ", hex_byte(bytes[2]),
              "; fhenn reads unsigned-byte IDX files (type 0x08), as the MNIST data sets are");
  const size_t rank = bytes[3];
  FHENN_CHECK(rank >= 1 && rank <= 4, what, " declares ", rank, " dimensions; fhenn reads 1 to 4");
  const size_t header = 4 + 4 * rank;
  FHENN_CHECK(bytes.size() >= header, what, " is truncated: its ", rank, " dimensions need a ", header,
              "-byte header, the file has ", bytes.size(), " bytes");
  IdxArray array;
  uint64_t count = 1;
  for (size_t a = 0; a < rank; ++a) {
    const uint32_t d = big_endian_u32(bytes, 4 + 4 * a);
    FHENN_CHECK(d >= 1, what, ": dimension ", a, " is 0");
    array.dims.push_back(d);
    // Bounded by the data before multiplying further: no overflow, no allocation from the header alone.
    count *= d;
    FHENN_CHECK(count <= bytes.size() - header, what, " declares more values than its ", bytes.size() - header,
                " data bytes hold: it is truncated or corrupted; fetch it again");
  }
  FHENN_CHECK(count == bytes.size() - header, what, " declares ", count, " values but holds ", bytes.size() - header,
              " data bytes: it is corrupted; fetch it again");
  array.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

IdxArray read_idx_file(const std::filesystem::path& path) {
  return parse_idx(read_maybe_gzip_file(path, kMaxIdxBytes), path.string());
}

}  // namespace fhenn
