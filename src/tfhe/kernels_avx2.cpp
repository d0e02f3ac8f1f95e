// AVX2/FMA versions of the hot loops (compiled with -mavx2 -mfma; only called when the CPU has both).
#include <immintrin.h>

#include "kernels.hpp"

namespace fhenn::tfhe::kernels {
namespace {

// (a.re b.re - a.im b.im, a.re b.im + a.im b.re) for two interleaved complex numbers per register.
inline __m256d complex_multiply(__m256d a, __m256d b) {
  const __m256d b_re = _mm256_movedup_pd(b);
  const __m256d b_im = _mm256_permute_pd(b, 0xF);
  const __m256d a_swapped = _mm256_permute_pd(a, 0x5);
  return _mm256_fmaddsub_pd(a, b_re, _mm256_mul_pd(a_swapped, b_im));
}

void complex_multiply_add(double* acc, const double* a, const double* b, size_t complex_count) {
  size_t j = 0;
  for (; j + 4 <= complex_count; j += 4) {
    __m256d acc0 = _mm256_load_pd(acc + 2 * j), acc1 = _mm256_load_pd(acc + 2 * j + 4);
    acc0 = _mm256_add_pd(acc0, complex_multiply(_mm256_load_pd(a + 2 * j), _mm256_load_pd(b + 2 * j)));
    acc1 = _mm256_add_pd(acc1, complex_multiply(_mm256_load_pd(a + 2 * j + 4), _mm256_load_pd(b + 2 * j + 4)));
    _mm256_store_pd(acc + 2 * j, acc0);
    _mm256_store_pd(acc + 2 * j + 4, acc1);
  }
  for (; j < complex_count; ++j) {
    const double ar = a[2 * j], ai = a[2 * j + 1], br = b[2 * j], bi = b[2 * j + 1];
    acc[2 * j] += ar * br - ai * bi;
    acc[2 * j + 1] += ar * bi + ai * br;
  }
}

// Four signed 64-bit integers to doubles (exact for |v| < 2^53, correctly rounded 2^53-ish approximations above):
// v = hi * 2^32 + lo with lo unsigned 32 bits.
inline __m256d int64_to_double(__m256i v) {
  const __m256i lo_mask = _mm256_set1_epi64x(0xFFFFFFFF);
  const __m256i lo = _mm256_and_si256(v, lo_mask);
  // hi = v >> 32 (arithmetic): emulate with the sign of the high dword.
  const __m256i hi_shuffled = _mm256_srli_epi64(v, 32);
  const __m256i sign = _mm256_srai_epi32(v, 31);  // high dword sign replicated in high lanes
  const __m256i hi = _mm256_blend_epi32(hi_shuffled, sign, 0xAA);
  // lo as double: or with 2^52 exponent trick.
  const __m256d two52 = _mm256_set1_pd(0x1p52);
  const __m256d lo_d = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(lo, _mm256_castpd_si256(two52))), two52);
  // hi (signed 32-bit in a 64-bit lane) as double: 2^52 + 2^51 trick on hi + 2^51.
  const __m256d magic = _mm256_set1_pd(0x1.8p52);
  const __m256d hi_d =
      _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(hi, _mm256_castpd_si256(magic))), magic);
  return _mm256_fmadd_pd(hi_d, _mm256_set1_pd(0x1p32), lo_d);
}

// Interleaves (re0 re1 re2 re3) and (im0 im1 im2 im3) into (re0 im0 re1 im1), (re2 im2 re3 im3).
inline void interleave(__m256d re, __m256d im, __m256d& first, __m256d& second) {
  const __m256d lo = _mm256_unpacklo_pd(re, im);  // re0 im0 re2 im2
  const __m256d hi = _mm256_unpackhi_pd(re, im);  // re1 im1 re3 im3
  first = _mm256_permute2f128_pd(lo, hi, 0x20);
  second = _mm256_permute2f128_pd(lo, hi, 0x31);
}

void twist_int64(double* out, const int64_t* in, const double* twist, size_t half) {
  size_t j = 0;
  for (; j + 4 <= half; j += 4) {
    const __m256d re = int64_to_double(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + j)));
    const __m256d im = int64_to_double(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + j + half)));
    __m256d z0, z1;
    interleave(re, im, z0, z1);
    _mm256_store_pd(out + 2 * j, complex_multiply(z0, _mm256_load_pd(twist + 2 * j)));
    _mm256_store_pd(out + 2 * j + 4, complex_multiply(z1, _mm256_load_pd(twist + 2 * j + 4)));
  }
  for (; j < half; ++j) {
    const double re = static_cast<double>(in[j]), im = static_cast<double>(in[j + half]);
    out[2 * j] = re * twist[2 * j] - im * twist[2 * j + 1];
    out[2 * j + 1] = re * twist[2 * j + 1] + im * twist[2 * j];
  }
}

// Four doubles to their nearest integers modulo 2^64 (see wrap_to_torus).
inline __m256i wrap_to_torus4(__m256d x) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m256d q = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(0x1p-64)), kNearest);
  const __m256d r = _mm256_round_pd(_mm256_fnmadd_pd(q, _mm256_set1_pd(0x1p64), x), kNearest);  // |r| <= 2^63
  const __m256d h = _mm256_floor_pd(_mm256_mul_pd(r, _mm256_set1_pd(0x1p-32)));                  // [-2^31, 2^31]
  const __m256d l = _mm256_sub_pd(_mm256_fnmadd_pd(h, _mm256_set1_pd(0x1p32), r), _mm256_set1_pd(0x1p31));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(h));
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(l));
  return _mm256_add_epi64(_mm256_add_epi64(_mm256_slli_epi64(hi, 32), lo), _mm256_set1_epi64x(int64_t{1} << 31));
}

void untwist_to_torus(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add) {
  size_t j = 0;
  for (; j + 4 <= half; j += 4) {
    const __m256d c0 = complex_multiply(_mm256_load_pd(in + 2 * j), _mm256_load_pd(inverse_twist + 2 * j));
    const __m256d c1 = complex_multiply(_mm256_load_pd(in + 2 * j + 4), _mm256_load_pd(inverse_twist + 2 * j + 4));
    // de-interleave: re = (c0.re0 c0.re1 c1.re2 c1.re3)
    const __m256d lo = _mm256_permute2f128_pd(c0, c1, 0x20);  // re0 im0 re2 im2
    const __m256d hi = _mm256_permute2f128_pd(c0, c1, 0x31);  // re1 im1 re3 im3
    const __m256d re = _mm256_unpacklo_pd(lo, hi);            // re0 re1 re2 re3
    const __m256d im = _mm256_unpackhi_pd(lo, hi);            // im0 im1 im2 im3
    __m256i lo_t = wrap_to_torus4(re), hi_t = wrap_to_torus4(im);
    auto* out_lo = reinterpret_cast<__m256i*>(out + j);
    auto* out_hi = reinterpret_cast<__m256i*>(out + j + half);
    if (add) {
      lo_t = _mm256_add_epi64(lo_t, _mm256_loadu_si256(out_lo));
      hi_t = _mm256_add_epi64(hi_t, _mm256_loadu_si256(out_hi));
    }
    _mm256_storeu_si256(out_lo, lo_t);
    _mm256_storeu_si256(out_hi, hi_t);
  }
  for (; j < half; ++j) {
    const double re = in[2 * j], im = in[2 * j + 1];
    const double tr = inverse_twist[2 * j], ti = inverse_twist[2 * j + 1];
    const uint64_t lo_t = wrap_to_torus(re * tr - im * ti), hi_t = wrap_to_torus(re * ti + im * tr);
    out[j] = (add ? out[j] : 0) + lo_t;
    out[j + half] = (add ? out[j + half] : 0) + hi_t;
  }
}

void decompose(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels) {
  decompose_levels(digits, values, count, base_log, levels);
}

void subtract_scaled(uint64_t* out, const uint64_t* row, int64_t digit, size_t count) {
  const uint64_t d = static_cast<uint64_t>(digit);
  for (size_t t = 0; t < count; ++t) out[t] -= d * row[t];  // vectorised by -O3 -mavx2
}

}  // namespace

const Table& avx2_table() {
  static const Table table{"avx2+fma", complex_multiply_add, twist_int64, untwist_to_torus, subtract_scaled, decompose};
  return table;
}

}  // namespace fhenn::tfhe::kernels
