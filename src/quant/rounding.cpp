// Rounding an accumulator to its most significant bits (see rounding.hpp).
#include "fhenn/quant/rounding.hpp"

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::quant {

int rounding_shift_for_range(int64_t min, int64_t max, int rounding_bits) {
  FHENN_CHECK(rounding_bits >= 1 && rounding_bits <= 62, "rounding_threshold_bits is ", rounding_bits,
              ": choose between 1 and 62");
  for (int shift = 0; shift < 62; ++shift) {
    if (range_bits(round_msbs(min, shift), round_msbs(max, shift)) <= rounding_bits) return shift;
  }
  return 62;
}

}  // namespace fhenn::quant
