// Internal hot loops with an AVX2/FMA build and a portable one, chosen once at run time.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace fhenn::tfhe::kernels {

struct Table {
  const char* name;
  // acc[j] += a[j] * b[j] over `complex_count` interleaved complex numbers.
  void (*complex_multiply_add)(double* acc, const double* a, const double* b, size_t complex_count);
  // out[j] = (in[j] + i in[j + half]) * twist[j] for signed 64-bit inputs (small or key material).
  void (*twist_int64)(double* out, const int64_t* in, const double* twist, size_t half);
  // c = in[j] * inverse_twist[j]; out[j] (+)= round(Re c) mod 2^64, out[j + half] (+)= round(Im c) mod 2^64.
  void (*untwist_to_torus)(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add);
  // out[t] -= digit * row[t] mod 2^64.
  void (*subtract_scaled)(uint64_t* out, const uint64_t* row, int64_t digit, size_t count);
  // Rounded balanced gadget decomposition of `count` values, level-major: digits[(j - 1) * count + c] = d_j(c).
  void (*decompose)(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels);
};

// The decomposition loop shared by both builds (vectorised per level over the coefficients): keep the top
// base_log * levels bits rounded, then peel digits from the least significant level, carrying 1 into the
// next level when a digit is >= B/2 (so digits lie in [-B/2, B/2)). The most significant level's slot holds the
// running state until it is written last.
inline void decompose_levels(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels) {
  const size_t shift = 64 - base_log * levels;
  const uint64_t round = uint64_t{1} << (shift - 1);
  const uint64_t mask = (uint64_t{1} << base_log) - 1;
  auto* __restrict state = reinterpret_cast<uint64_t*>(digits);
  for (size_t c = 0; c < count; ++c) state[c] = (values[c] + round) >> shift;
  for (size_t j = levels - 1; j >= 1; --j) {
    auto* __restrict out = reinterpret_cast<uint64_t*>(digits + j * count);
    for (size_t c = 0; c < count; ++c) {
      const uint64_t digit = state[c] & mask;
      const uint64_t carry = digit >> (base_log - 1);
      out[c] = digit - (carry << base_log);
      state[c] = (state[c] >> base_log) + carry;
    }
  }
  for (size_t c = 0; c < count; ++c) {  // level 1: the carry out of it vanishes modulo 2^64
    const uint64_t digit = state[c] & mask;
    state[c] = digit - ((digit >> (base_log - 1)) << base_log);
  }
}

const Table& portable_table();
const Table& avx2_table();
// AVX2+FMA when the CPU has both (and FHENN_TFHE_PORTABLE is unset), else portable.
const Table& active();

// x mod 2^64 rounded to the nearest integer, for any finite |x| (the product of a 64-bit torus value with
// digits is far beyond 2^64): r = x - 2^64 round(x / 2^64) is exact and |r| <= 2^63.
inline uint64_t wrap_to_torus(double x) {
  double r = std::nearbyint(x - std::nearbyint(x * 0x1p-64) * 0x1p64);
  if (r >= 0x1p63) r -= 0x1p64;
  return static_cast<uint64_t>(static_cast<int64_t>(r));
}

}  // namespace fhenn::tfhe::kernels
