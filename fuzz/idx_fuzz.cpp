// libFuzzer target: the IDX reader (parse_idx) on raw bytes, and gunzip then parse_idx (what read_idx_file runs on
// a ".gz" file): the first byte chooses, odd for gzip.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fhenn/common/error.hpp"
#include "fhenn/common/gzip.hpp"
#include "fhenn/common/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  try {
    if (data[0] % 2 == 1) {
      // 16 MiB of output at most: past that the reader refuses, as it does at kMaxIdxBytes for a file.
      fhenn::parse_idx(fhenn::gunzip(bytes, uint64_t{16} << 20, "fuzz.idx.gz"), "fuzz.idx.gz");
    } else {
      fhenn::parse_idx(bytes, "fuzz.idx");
    }
  } catch (const fhenn::Error&) {
  }
  return 0;
}
