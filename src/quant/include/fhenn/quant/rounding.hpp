// Rounding an accumulator to its most significant bits before a table lookup (Concrete ML documentation).
#pragma once

#include <cstdint>

namespace fhenn::quant {

// Low bits dropped when an accumulator of `accumulator_bits` keeps its `rounding_bits` most significant bits.
inline int rounding_shift(int accumulator_bits, int rounding_bits) {
  return accumulator_bits > rounding_bits ? accumulator_bits - rounding_bits : 0;
}

// Exact round-to-nearest, ties up, of a / 2^shift, as an integer in units of 2^shift:
//   round_msbs(a, s) = floor((a + 2^(s-1)) / 2^s)        (s > 0),   a  (s == 0).
// The lookup then reads round_msbs(a, s) and its table evaluates f(round_msbs(a, s) * 2^s).
// Training (nn) and the circuit (compiler, runtime) use this one definition.
inline int64_t round_msbs(int64_t a, int shift) {
  if (shift <= 0) return a;
  const int64_t half = int64_t{1} << (shift - 1);
  return (a + half) >> shift;  // arithmetic shift: floor division by 2^shift
}

// The smallest shift s for which every value of [min, max] rounded with round_msbs(., s) fits in
// `rounding_bits` bits (range_bits of the rounded range, which can need one bit more than
// rounding_shift(range_bits(min, max), r) gives, since rounding up may reach the next power of two).
int rounding_shift_for_range(int64_t min, int64_t max, int rounding_bits);

}  // namespace fhenn::quant
