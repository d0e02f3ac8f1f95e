// Bit-width utilities (see bits.hpp).
#include "fhenn/common/bits.hpp"

#include <bit>

namespace fhenn {

int unsigned_bits(uint64_t max) { return max == 0 ? 1 : static_cast<int>(std::bit_width(max)); }

int range_bits(int64_t min, int64_t max) {
  if (min >= 0) return unsigned_bits(static_cast<uint64_t>(max < 0 ? 0 : max));
  int bits = 1;
  while (bits < 64) {
    const int64_t low = -(int64_t{1} << (bits - 1));
    const int64_t high = (int64_t{1} << (bits - 1)) - 1;
    if (low <= min && max <= high) return bits;
    ++bits;
  }
  return 64;
}

}  // namespace fhenn
