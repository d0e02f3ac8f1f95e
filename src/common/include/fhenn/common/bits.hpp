// Bit-width utilities: the width an integer range needs, as the reference library measures it.
#pragma once

#include <cstdint>

namespace fhenn {

// Smallest b with max <= 2^b - 1 (an unsigned range [0, max]); 1 for max == 0.
int unsigned_bits(uint64_t max);

// Width of the integer range [min, max] (Concrete ML documentation): when min >= 0, the unsigned width of max;
// otherwise the smallest b with -2^(b-1) <= min and max <= 2^(b-1) - 1.
int range_bits(int64_t min, int64_t max);

// Whether the range needs a sign bit.
inline bool range_is_signed(int64_t min) { return min < 0; }

}  // namespace fhenn
