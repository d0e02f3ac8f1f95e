// Internal hot loops with AVX-512, AVX2/FMA and portable builds, chosen once at run time.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace fhenn::tfhe::kernels {

// Fourier-domain data is split: the N/2 real parts, then the N/2 imaginary parts (no shuffles in the kernels).
//
// The FFT is an in-place radix-2 decimation in frequency (forward: natural order in, bit-reversed order out) and
// its exact mirror, a decimation in time (backward: bit-reversed in, natural out, scaled by m). Only pointwise
// products happen in between, so the bit reversal is never done. Twiddles: see fft_twiddle_offset.
struct Table {
  const char* name;
  // acc[j] += a[j] * b[j] over `complex_count` split complex numbers.
  void (*complex_multiply_add)(double* acc, const double* a, const double* b, size_t complex_count);
  // out[j] = (in[j] + i in[j + half]) * twist[j] for signed 64-bit inputs (small or key material).
  void (*twist_int64)(double* out, const int64_t* in, const double* twist, size_t half);
  // c = in[j] * inverse_twist[j]; out[j] (+)= round(Re c) mod 2^64, out[j + half] (+)= round(Im c) mod 2^64.
  void (*untwist_to_torus)(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add);
  // out[t] -= digit * row[t] mod 2^64.
  void (*subtract_scaled)(uint64_t* out, const uint64_t* row, int64_t digit, size_t count);
  // Rounded balanced gadget decomposition of `count` values, level-major: digits[(j - 1) * count + c] = d_j(c).
  void (*decompose)(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels);
  // In-place m-point complex FFT (split data, 2m doubles): forward DIF, backward DIT (inverse times m).
  void (*fft_forward)(double* data, const double* twiddles, size_t m);
  void (*fft_backward)(double* data, const double* twiddles, size_t m);
  // out[c] = sum_r digits[r] * ggsw(r, c) for c < columns (Fourier polynomials of complex_count split complex
  // numbers; the GGSW in the streaming layout of fourier_ggsw_offset). When `prefetch` is not null, the same
  // offsets of the next GGSW (at `prefetch`) are fetched into cache along the way (the blind rotation streams a
  // key far larger than the caches).
  void (*fourier_ggsw_multiply)(double* out, const double* digits, const double* ggsw, size_t rows, size_t columns,
                                size_t complex_count, const double* prefetch);
  // Fused: twist_int64 then fft_forward (out: 2m doubles); fft_backward then untwist_to_torus (`in` clobbered).
  void (*forward_from_int64)(double* out, const int64_t* in, const double* twist, const double* twiddles, size_t m);
  void (*backward_to_torus)(uint64_t* out, double* in, const double* inverse_twist, const double* twiddles, size_t m,
                            bool add);
  // out = X^power * in - in for one polynomial of Z_(2^64)[X]/(X^N + 1), power in [1, 2N) (the CMUX's input).
  void (*rotate_difference)(uint64_t* out, const uint64_t* in, size_t N, size_t power);
};

// Twiddle table of an m-point FFT (2m doubles): the stage of half-size h (h = m/2, m/4, ..., 1) keeps
// w_(2h)^j = e^(-2 pi i j / (2h)), j < h, split (h real parts then h imaginary parts) at this offset in doubles.
constexpr size_t fft_twiddle_offset(size_t m, size_t h) {
  return 2 * (m - 2 * h);
}

// One forward butterfly stage of half-size h: (u, v) -> (u + v, (u - v) w_j), over all blocks of 2h.
inline void fft_forward_stage(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const double* w_re = twiddles + fft_twiddle_offset(m, h);
  const double* w_im = w_re + h;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = block; j < block + h; ++j) {
      const double ur = re[j], ui = im[j], vr = re[j + h], vi = im[j + h];
      const double dr = ur - vr, di = ui - vi, wr = w_re[j - block], wi = w_im[j - block];
      re[j] = ur + vr;
      im[j] = ui + vi;
      re[j + h] = dr * wr - di * wi;
      im[j + h] = dr * wi + di * wr;
    }
  }
}

// Its inverse times 2: (x, y) -> (x + y conj(w_j), x - y conj(w_j)).
inline void fft_backward_stage(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const double* w_re = twiddles + fft_twiddle_offset(m, h);
  const double* w_im = w_re + h;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = block; j < block + h; ++j) {
      const double wr = w_re[j - block], wi = w_im[j - block];
      const double yr = re[j + h], yi = im[j + h];
      const double tr = yr * wr + yi * wi, ti = yi * wr - yr * wi;
      const double xr = re[j], xi = im[j];
      re[j] = xr + tr;
      im[j] = xi + ti;
      re[j + h] = xr - tr;
      im[j + h] = xi - ti;
    }
  }
}

// The Fourier GGSW's streaming layout: the blind rotation reads each key once per bootstrap, so it is stored in
// the order it is read. Block b holds complex numbers 4b..4b+3 of every (row, column) polynomial, row-major; each
// entry is one 64-byte line, 4 real parts then 4 imaginary parts. Needs complex_count % 4 == 0 (N >= 8).
constexpr size_t kGgswBlock = 4;
constexpr size_t fourier_ggsw_offset(size_t rows, size_t columns, size_t complex_index, size_t r, size_t c) {
  return (((complex_index / kGgswBlock) * rows + r) * columns + c) * 2 * kGgswBlock + complex_index % kGgswBlock;
}

// Reference of fourier_ggsw_multiply (portable build).
inline void fourier_ggsw_multiply_reference(double* out, const double* digits, const double* ggsw, size_t rows,
                                            size_t columns, size_t complex_count, const double* /*prefetch*/) {
  const size_t n = complex_count;
  for (size_t c = 0; c < columns; ++c) {
    double* acc = out + 2 * n * c;
    for (size_t j = 0; j < 2 * n; ++j) acc[j] = 0.0;
    for (size_t r = 0; r < rows; ++r) {
      const double* d = digits + 2 * n * r;
      for (size_t j = 0; j < n; ++j) {
        const double* key = ggsw + fourier_ggsw_offset(rows, columns, j, r, c);
        const double key_re = key[0], key_im = key[kGgswBlock];
        acc[j] += d[j] * key_re - d[j + n] * key_im;
        acc[j + n] += d[j] * key_im + d[j + n] * key_re;
      }
    }
  }
}

// The reference FFT pair (portable build, and sizes too small for the vector passes).
inline void fft_forward_reference(double* data, const double* twiddles, size_t m) {
  for (size_t h = m / 2; h >= 1; h /= 2) fft_forward_stage(data, data + m, twiddles, m, h);
}
inline void fft_backward_reference(double* data, const double* twiddles, size_t m) {
  for (size_t h = 1; h < m; h *= 2) fft_backward_stage(data, data + m, twiddles, m, h);
}

// The decomposition loop of the portable and AVX2 builds (vectorised per level over the coefficients): keep the top
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
// Only to be called when avx2_supported() / avx512_supported() (their code uses those instructions).
const Table& avx2_table();
const Table& avx512_table();  // every loop at 512 bits; floating-point results bit for bit avx2_table()'s
// Whether the CPU runs the AVX2 build (AVX2 and FMA), the AVX-512 build (AVX-512 F, DQ and VL, plus AVX2 and FMA).
bool avx2_supported();
bool avx512_supported();
// The best build this CPU supports: AVX-512, else AVX2+FMA, else portable. FHENN_TFHE_PORTABLE=1 forces the
// portable build, FHENN_TFHE_AVX2=1 the AVX2 one (when supported; to compare the builds on one machine).
const Table& active();

// x mod 2^64 rounded to the nearest integer, for any finite |x| (the product of a 64-bit torus value with
// digits is far beyond 2^64): r = x - 2^64 round(x / 2^64) is exact and |r| <= 2^63.
inline uint64_t wrap_to_torus(double x) {
  double r = std::nearbyint(x - std::nearbyint(x * 0x1p-64) * 0x1p64);
  if (r >= 0x1p63) r -= 0x1p64;
  return static_cast<uint64_t>(static_cast<int64_t>(r));
}

}  // namespace fhenn::tfhe::kernels
