// AVX-512 versions of the hot loops (compiled with -mavx512f/dq/vl; only called when the CPU has them).
#include <cstdint>

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn that it is uninitialised (GCC bug
// 105593, fixed in GCC 13): silenced for the intrinsic headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include "kernels.hpp"

// The floating-point loops repeat the AVX2 build's operations (kernels_avx2.cpp) on eight lanes instead of four:
// the same butterfly formulas, FMA forms and order, so their results are bit for bit those of the AVX2 build; the
// integer loops are exact. No inline function of kernels.hpp that could be emitted out of line is used here (the
// linker could pick this file's AVX-512 copy for the whole program): sizes too small for the vector passes go
// through the AVX2 table.
namespace fhenn::tfhe::kernels {
namespace {

// Eight split complex numbers: real parts and imaginary parts. Loads and stores are unaligned ones (no cost on
// aligned data; callers only promise the AVX2 build's 32-byte alignment).
struct Complex8 {
  __m512d re;
  __m512d im;
};

inline Complex8 load8(const double* re, const double* im) {
  return {_mm512_loadu_pd(re), _mm512_loadu_pd(im)};
}
inline void store8(double* re, double* im, Complex8 z) {
  _mm512_storeu_pd(re, z.re);
  _mm512_storeu_pd(im, z.im);
}
// The first `count` < 8 lanes (the rest 0), and their store.
inline Complex8 load8_partial(const double* re, const double* im, __mmask8 lanes) {
  return {_mm512_maskz_loadu_pd(lanes, re), _mm512_maskz_loadu_pd(lanes, im)};
}
inline void store8_partial(double* re, double* im, __mmask8 lanes, Complex8 z) {
  _mm512_mask_storeu_pd(re, lanes, z.re);
  _mm512_mask_storeu_pd(im, lanes, z.im);
}
inline __mmask8 first_lanes(size_t count) {
  return static_cast<__mmask8>((1u << count) - 1);
}

inline Complex8 add(Complex8 a, Complex8 b) {
  return {_mm512_add_pd(a.re, b.re), _mm512_add_pd(a.im, b.im)};
}
inline Complex8 sub(Complex8 a, Complex8 b) {
  return {_mm512_sub_pd(a.re, b.re), _mm512_sub_pd(a.im, b.im)};
}
// a * b
inline Complex8 mul(Complex8 a, Complex8 b) {
  return {_mm512_fmsub_pd(a.re, b.re, _mm512_mul_pd(a.im, b.im)),
          _mm512_fmadd_pd(a.re, b.im, _mm512_mul_pd(a.im, b.re))};
}
// a * conj(b)
inline Complex8 mul_conj(Complex8 a, Complex8 b) {
  return {_mm512_fmadd_pd(a.re, b.re, _mm512_mul_pd(a.im, b.im)),
          _mm512_fmsub_pd(a.im, b.re, _mm512_mul_pd(a.re, b.im))};
}

// ---- Pointwise loops.

// acc += a * b, in the AVX2 build's FMA order.
inline Complex8 multiply_add(Complex8 acc, Complex8 a, Complex8 b) {
  return {_mm512_fnmadd_pd(a.im, b.im, _mm512_fmadd_pd(a.re, b.re, acc.re)),
          _mm512_fmadd_pd(a.im, b.re, _mm512_fmadd_pd(a.re, b.im, acc.im))};
}

void complex_multiply_add(double* acc, const double* a, const double* b, size_t complex_count) {
  const size_t n = complex_count;
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    store8(acc + j, acc + j + n,
           multiply_add(load8(acc + j, acc + j + n), load8(a + j, a + j + n), load8(b + j, b + j + n)));
  }
  if (j < n) {  // the last n % 8 numbers, in masked lanes
    const __mmask8 lanes = first_lanes(n - j);
    const Complex8 sum = multiply_add(load8_partial(acc + j, acc + j + n, lanes),
                                      load8_partial(a + j, a + j + n, lanes), load8_partial(b + j, b + j + n, lanes));
    store8_partial(acc + j, acc + j + n, lanes, sum);
  }
}

// Eight signed 64-bit integers to doubles, correctly rounded (AVX-512DQ; the AVX2 build's hi * 2^32 + lo with a
// single FMA rounding gives the same doubles).
inline __m512d int64_to_double(const int64_t* in, __mmask8 lanes) {
  return _mm512_cvtepi64_pd(_mm512_maskz_loadu_epi64(lanes, in));
}

// (in[j] + i in[j + half]) * twist[j] for the eight numbers from j (lanes of `lanes`, the others 0).
inline Complex8 twisted8(const int64_t* in, const double* twist, size_t half, size_t j, __mmask8 lanes = 0xFF) {
  const Complex8 z{int64_to_double(in + j, lanes), int64_to_double(in + j + half, lanes)};
  return mul(z, load8_partial(twist + j, twist + j + half, lanes));
}

void twist_int64(double* out, const int64_t* in, const double* twist, size_t half) {
  size_t j = 0;
  for (; j + 8 <= half; j += 8) store8(out + j, out + j + half, twisted8(in, twist, half, j));
  if (j < half) {
    const __mmask8 lanes = first_lanes(half - j);
    store8_partial(out + j, out + j + half, lanes, twisted8(in, twist, half, j, lanes));
  }
}

// Eight doubles to their nearest integers modulo 2^64, ties away from zero: for every finite input the result of
// the AVX2 build's wrap_to_torus4 (which reads the bit fields), in fewer operations with AVX-512DQ:
// 1. r = x - 2^64 round(x / 2^64), one FMA and exact (the reduction of the scalar wrap_to_torus): |r| <= 2^63,
//    r = x mod 2^64, and r = x when |x| < 2^63 (|x| >= 2^63 is an integer already);
// 2. ties away from zero: r + copysign(0.5 - 2^-54, r) rounds to nearest-even, so it reaches the next integer
//    exactly when |r - trunc(r)| >= 1/2; then a truncating conversion;
// 3. r = 2^63 converts to the "integer indefinite" 0x8000000000000000, which is 2^63 mod 2^64.
inline __m512i wrap_to_torus8(__m512d x) {
  const __m512d turns =
      _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(0x1p-64)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d r = _mm512_fnmadd_pd(turns, _mm512_set1_pd(0x1p64), x);
  const __m512d sign = _mm512_and_pd(r, _mm512_set1_pd(-0.0));
  const __m512d below_half = _mm512_or_pd(sign, _mm512_set1_pd(0x1.fffffffffffffp-2));
  return _mm512_cvttpd_epi64(_mm512_add_pd(r, below_half));
}

// c = z * inverse_twist[j] for the eight numbers from j: out[j] (+)= wrap(Re c), out[j + half] (+)= wrap(Im c),
// on the lanes of `lanes`.
inline void store_untwisted8(uint64_t* out, Complex8 z, const double* inverse_twist, size_t half, size_t j, bool add,
                             __mmask8 lanes = 0xFF) {
  const Complex8 c = mul(z, load8_partial(inverse_twist + j, inverse_twist + j + half, lanes));
  __m512i lo = wrap_to_torus8(c.re), hi = wrap_to_torus8(c.im);
  if (add) {
    lo = _mm512_add_epi64(lo, _mm512_maskz_loadu_epi64(lanes, out + j));
    hi = _mm512_add_epi64(hi, _mm512_maskz_loadu_epi64(lanes, out + j + half));
  }
  _mm512_mask_storeu_epi64(out + j, lanes, lo);
  _mm512_mask_storeu_epi64(out + j + half, lanes, hi);
}

void untwist_to_torus(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add) {
  size_t j = 0;
  for (; j + 8 <= half; j += 8) store_untwisted8(out, load8(in + j, in + j + half), inverse_twist, half, j, add);
  if (j < half) {
    const __mmask8 lanes = first_lanes(half - j);
    store_untwisted8(out, load8_partial(in + j, in + j + half, lanes), inverse_twist, half, j, add, lanes);
  }
}

// ---- The Fourier GGSW product (fourier_ggsw_multiply_reference; the key in the streaming layout of
// fourier_ggsw_offset, read once, in order). Eight numbers per step: blocks b and b + 1 of the key (two 64-byte
// lines per row and column, joined into one register pair); each lane accumulates over the rows in the AVX2
// build's FMA order, so the sums are bit for bit its own.
template <size_t Columns>
void fourier_ggsw_multiply_columns(double* out, const double* digits, const double* ggsw, size_t rows, size_t n,
                                   const double* prefetch) {
  const size_t poly = 2 * n;
  const size_t block_doubles = rows * Columns * 2 * kGgswBlock;
  for (size_t j = 0; j < n; j += 8) {
    Complex8 acc[Columns];
    for (auto& a : acc) a = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    const double* key = ggsw + (j / kGgswBlock) * block_doubles;
    if (prefetch != nullptr) {  // the same two blocks of the next GGSW, into the cache
      const double* next = prefetch + (j / kGgswBlock) * block_doubles;
      for (size_t line = 0; line < 2 * block_doubles; line += 8)
        _mm_prefetch(reinterpret_cast<const char*>(next + line), _MM_HINT_T1);
    }
    for (size_t r = 0; r < rows; ++r) {
      const Complex8 d = load8(digits + poly * r + j, digits + poly * r + j + n);
      for (size_t c = 0; c < Columns; ++c, key += 2 * kGgswBlock) {
        const double* second = key + block_doubles;  // numbers j + 4 .. j + 7
        const Complex8 k{_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(key)), _mm256_loadu_pd(second), 1),
                         _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(key + kGgswBlock)),
                                            _mm256_loadu_pd(second + kGgswBlock), 1)};
        acc[c] = multiply_add(acc[c], d, k);
      }
    }
    for (size_t c = 0; c < Columns; ++c) store8(out + poly * c + j, out + poly * c + j + n, acc[c]);
  }
}

void fourier_ggsw_multiply(double* out, const double* digits, const double* ggsw, size_t rows, size_t columns,
                           size_t complex_count, const double* prefetch) {
  const size_t n = complex_count;
  if (n % 8 == 0) {
    switch (columns) {
      case 2:
        return fourier_ggsw_multiply_columns<2>(out, digits, ggsw, rows, n, prefetch);
      case 3:
        return fourier_ggsw_multiply_columns<3>(out, digits, ggsw, rows, n, prefetch);
      case 4:
        return fourier_ggsw_multiply_columns<4>(out, digits, ggsw, rows, n, prefetch);
      case 5:
        return fourier_ggsw_multiply_columns<5>(out, digits, ggsw, rows, n, prefetch);
      default:
        break;
    }
  }
  avx2_table().fourier_ggsw_multiply(out, digits, ggsw, rows, columns, n, prefetch);  // k > 4, or N = 8
}

// ---- Integer loops (decomposition, key switch rows).

// The rounded balanced gadget decomposition of eight values (lanes), all levels in registers (decompose_levels of
// kernels.hpp, level by level over the coefficients, gives the same digits): keep the top base_log * levels bits
// rounded, then peel digits from the least significant level, carrying 1 into the next level when a digit is
// >= B/2 (digits in [-B/2, B/2)); the carry out of level 1 vanishes modulo 2^64.
inline void decompose8(int64_t* digits, const uint64_t* values, size_t count, size_t c, __mmask8 lanes,
                       unsigned base_log, size_t levels) {
  const unsigned shift = 64 - base_log * static_cast<unsigned>(levels);
  const __m512i mask = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << base_log) - 1));
  const __m512i round = _mm512_set1_epi64(static_cast<int64_t>(uint64_t{1} << (shift - 1)));
  __m512i state = _mm512_srli_epi64(_mm512_add_epi64(_mm512_maskz_loadu_epi64(lanes, values + c), round), shift);
  for (size_t j = levels - 1;; --j) {
    const __m512i digit = _mm512_and_si512(state, mask);
    const __m512i carry = _mm512_srli_epi64(digit, base_log - 1);
    _mm512_mask_storeu_epi64(digits + j * count + c, lanes,
                             _mm512_sub_epi64(digit, _mm512_slli_epi64(carry, base_log)));
    if (j == 0) break;
    state = _mm512_add_epi64(_mm512_srli_epi64(state, base_log), carry);
  }
}

void decompose(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels) {
  const auto b = static_cast<unsigned>(base_log);
  size_t c = 0;
  for (; c + 8 <= count; c += 8) decompose8(digits, values, count, c, 0xFF, b, levels);
  if (c < count) decompose8(digits, values, count, c, first_lanes(count - c), b, levels);
}

// out[t] -= digit * row[t] mod 2^64 on the lanes of `lanes` (AVX-512DQ 64-bit products).
inline void subtract_scaled8(uint64_t* out, const uint64_t* row, __m512i digit, __mmask8 lanes) {
  const __m512i product = _mm512_mullo_epi64(digit, _mm512_maskz_loadu_epi64(lanes, row));
  _mm512_mask_storeu_epi64(out, lanes, _mm512_sub_epi64(_mm512_maskz_loadu_epi64(lanes, out), product));
}

// The key switch streams its key rows from memory: the loads from `row` are aligned to 64 bytes (a masked head
// first), since loads across two lines measured markedly slower on that stream (rows of n + 1 words start
// anywhere).
void subtract_scaled(uint64_t* out, const uint64_t* row, int64_t digit, size_t count) {
  const __m512i d = _mm512_set1_epi64(digit);
  const size_t misaligned = (reinterpret_cast<uintptr_t>(row) / sizeof(uint64_t)) % 8;
  const size_t head = misaligned == 0 ? 0 : 8 - misaligned;  // (no std::min: see the top of the file)
  size_t t = head < count ? head : count;
  if (t > 0) subtract_scaled8(out, row, d, first_lanes(t));
  for (; t + 8 <= count; t += 8) {
    const __m512i product = _mm512_mullo_epi64(d, _mm512_load_si512(row + t));
    _mm512_storeu_si512(out + t, _mm512_sub_epi64(_mm512_loadu_si512(out + t), product));
  }
  if (t < count) subtract_scaled8(out + t, row + t, d, first_lanes(count - t));
}

// X^power * in - in (see Table::rotate_difference) in two segments: out[t] = (-)a[t] - b[t].
inline void rotate_segment(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t count, bool negate_a) {
  const auto difference = [negate_a](__m512i x, __m512i y) {  // -x - y = -(x + y) mod 2^64
    return negate_a ? _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_add_epi64(x, y)) : _mm512_sub_epi64(x, y);
  };
  size_t t = 0;
  for (; t + 8 <= count; t += 8)
    _mm512_storeu_si512(out + t, difference(_mm512_loadu_si512(a + t), _mm512_loadu_si512(b + t)));
  if (t < count) {
    const __mmask8 lanes = first_lanes(count - t);
    _mm512_mask_storeu_epi64(
        out + t, lanes, difference(_mm512_maskz_loadu_epi64(lanes, a + t), _mm512_maskz_loadu_epi64(lanes, b + t)));
  }
}

void rotate_difference(uint64_t* out, const uint64_t* in, size_t N, size_t power) {
  const bool negate = power >= N;
  const size_t shift = power % N;
  rotate_segment(out + shift, in, in + shift, N - shift, negate);  // j < N - shift: to j + shift
  rotate_segment(out, in + N - shift, in, shift, !negate);         // j >= N - shift: past X^N, to j + shift - N
}

// ---- FFT: the stages of fft_forward_reference / fft_backward_reference, eight complex numbers per register.
//
// Forward: the stages of half-size h = m/2 .. 64 in radix-4 passes over the data (two stages per pass; a radix-2
// pass first when their count is odd), then one pass over each block of 64 numbers for the last six stages (h = 32
// and 16 between registers, h = 8 between the two registers of each group of 16, h = 4, 2, 1 on regrouped lanes).
// Backward: the mirror, in the reverse order. The twist is fused into the first forward pass (forward_from_int64)
// for small sizes. Radix-8 passes (three stages in 16 registers) measured slower than radix-4 ones.

// Forward butterfly (u, v) -> (u + v, (u - v) w) and its mirror (x, y) -> (x + y conj(w), x - y conj(w)).
inline void forward_butterfly(Complex8& u, Complex8& v, Complex8 w) {
  const Complex8 sum = add(u, v);
  v = mul(sub(u, v), w);
  u = sum;
}
inline void backward_butterfly(Complex8& x, Complex8& y, Complex8 w) {
  const Complex8 t = mul_conj(y, w);
  y = sub(x, t);
  x = add(x, t);
}

// Registers z[0..R) hold the numbers j + r q (r < R) of a block; the stage of half-size S q pairs z[r] with
// z[r + S] (r mod 2S < S), with the twiddle w_(2Sq)^(j + (r mod S) q).
template <size_t S, size_t R>
inline void forward_stage(Complex8 (&z)[R], const double* twiddles, size_t m, size_t q, size_t j) {
  const double* w = twiddles + fft_twiddle_offset(m, S * q);
  for (size_t group = 0; group < R; group += 2 * S) {
    for (size_t t = 0; t < S; ++t) {
      const size_t k = j + t * q;
      forward_butterfly(z[group + t], z[group + t + S], load8(w + k, w + S * q + k));
    }
  }
}
template <size_t S, size_t R>
inline void backward_stage(Complex8 (&z)[R], const double* twiddles, size_t m, size_t q, size_t j) {
  const double* w = twiddles + fft_twiddle_offset(m, S * q);
  for (size_t group = 0; group < R; group += 2 * S) {
    for (size_t t = 0; t < S; ++t) {
      const size_t k = j + t * q;
      backward_butterfly(z[group + t], z[group + t + S], load8(w + k, w + S * q + k));
    }
  }
}

// All stages of a block: S = R/2, .., 1 forward; S = 1, .., R/2 backward.
template <size_t R, size_t S = R / 2>
inline void forward_stages(Complex8 (&z)[R], const double* twiddles, size_t m, size_t q, size_t j) {
  forward_stage<S>(z, twiddles, m, q, j);
  if constexpr (S > 1) forward_stages<R, S / 2>(z, twiddles, m, q, j);
}
template <size_t R, size_t S = 1>
inline void backward_stages(Complex8 (&z)[R], const double* twiddles, size_t m, size_t q, size_t j) {
  backward_stage<S>(z, twiddles, m, q, j);
  if constexpr (2 * S < R) backward_stages<R, 2 * S>(z, twiddles, m, q, j);
}

template <size_t R>
inline void load_block(Complex8 (&z)[R], const double* re, const double* im, size_t first, size_t q) {
  for (size_t r = 0; r < R; ++r) z[r] = load8(re + first + r * q, im + first + r * q);
}
template <size_t R>
inline void store_block(double* re, double* im, size_t first, size_t q, const Complex8 (&z)[R]) {
  for (size_t r = 0; r < R; ++r) store8(re + first + r * q, im + first + r * q, z[r]);
}

// A radix-R pass (R = 2: the stage of half-size h; R = 4: the stages h and h/2), q = 2h/R >= 8.
template <size_t R>
void forward_radix(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const size_t q = 2 * h / R;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < q; j += 8) {
      Complex8 z[R];
      load_block(z, re, im, block + j, q);
      forward_stages(z, twiddles, m, q, j);
      store_block(re, im, block + j, q, z);
    }
  }
}

template <size_t R>
void backward_radix(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const size_t q = 2 * h / R;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < q; j += 8) {
      Complex8 z[R];
      load_block(z, re, im, block + j, q);
      backward_stages(z, twiddles, m, q, j);
      store_block(re, im, block + j, q, z);
    }
  }
}

// The first forward pass (h = m/2) reading the integers and twisting them on the way (forward_from_int64).
template <size_t R>
void forward_radix_from_int64(double* out, const int64_t* in, const double* twist, const double* twiddles, size_t m) {
  const size_t q = m / R;
  for (size_t j = 0; j < q; j += 8) {
    Complex8 z[R];
    for (size_t r = 0; r < R; ++r) z[r] = twisted8(in, twist, m, j + r * q);
    forward_stages(z, twiddles, m, q, j);
    store_block(out, out + m, j, q, z);
  }
}

// ---- The last four stages on a group of 16 numbers in two registers (a: numbers 0-7, b: 8-15). The h = 8 stage
// pairs the registers lane by lane; for h = 4, 2, 1 the lanes are regrouped (two-source shuffles) so that each
// stage again pairs two registers lane by lane, and the forward puts the natural order back at the end.

// Lanes of two registers: 256-bit halves, 128-bit pairs, single lanes, or any (indices 0-7: a, 8-15: b).
template <int Selector>
inline Complex8 pick_pairs(Complex8 a, Complex8 b) {  // _mm512_shuffle_f64x2: two 128-bit pairs of each
  return {_mm512_shuffle_f64x2(a.re, b.re, Selector), _mm512_shuffle_f64x2(a.im, b.im, Selector)};
}
inline Complex8 unpack_low(Complex8 a, Complex8 b) {  // a0 b0 a2 b2 a4 b4 a6 b6
  return {_mm512_unpacklo_pd(a.re, b.re), _mm512_unpacklo_pd(a.im, b.im)};
}
inline Complex8 unpack_high(Complex8 a, Complex8 b) {  // a1 b1 a3 b3 a5 b5 a7 b7
  return {_mm512_unpackhi_pd(a.re, b.re), _mm512_unpackhi_pd(a.im, b.im)};
}
inline Complex8 pick_lanes(Complex8 a, __m512i lanes, Complex8 b) {
  return {_mm512_permutex2var_pd(a.re, lanes, b.re), _mm512_permutex2var_pd(a.im, lanes, b.im)};
}
constexpr int kLowHalves = _MM_SHUFFLE(1, 0, 1, 0), kHighHalves = _MM_SHUFFLE(3, 2, 3, 2);
constexpr int kEvenPairs = _MM_SHUFFLE(2, 0, 2, 0), kOddPairs = _MM_SHUFFLE(3, 1, 3, 1);

// The odd lanes (the h = 2 stage's twiddle -i; its conjugate i backward), exactly: no rounding, as the AVX2 build.
constexpr __mmask8 kOddLanes = 0xAA;
inline Complex8 times_minus_i_odd_lanes(Complex8 z) {
  const __m512d negative_re = _mm512_sub_pd(_mm512_setzero_pd(), z.re);  // (r + i s)(-i) = s - i r
  return {_mm512_mask_blend_pd(kOddLanes, z.re, z.im), _mm512_mask_blend_pd(kOddLanes, z.im, negative_re)};
}
inline Complex8 times_i_odd_lanes(Complex8 z) {
  const __m512d negative_im = _mm512_sub_pd(_mm512_setzero_pd(), z.im);  // (r + i s) i = -s + i r
  return {_mm512_mask_blend_pd(kOddLanes, z.re, negative_im), _mm512_mask_blend_pd(kOddLanes, z.im, z.re)};
}

// The twiddles of the stages h = 8 and h = 4 (for h = 4: lanes u of 0-3, 8-11 forward, of 0,1,8,9,2,3,10,11
// backward), and the lane indices of the regroupings.
struct LastStages {
  Complex8 w8, w4;
  __m512i first, second;
};

inline LastStages forward_last_stages(const double* twiddles, size_t m) {
  const double* w8 = twiddles + fft_twiddle_offset(m, 8);
  const double* w4 = twiddles + fft_twiddle_offset(m, 4);
  return {load8(w8, w8 + 8),
          {_mm512_broadcast_f64x4(_mm256_loadu_pd(w4)), _mm512_broadcast_f64x4(_mm256_loadu_pd(w4 + 4))},
          _mm512_setr_epi64(0, 8, 1, 9, 4, 12, 5, 13),
          _mm512_setr_epi64(2, 10, 3, 11, 6, 14, 7, 15)};
}

inline LastStages backward_first_stages(const double* twiddles, size_t m) {
  const double* w8 = twiddles + fft_twiddle_offset(m, 8);
  const double* w4 = twiddles + fft_twiddle_offset(m, 4);
  const __m512i w4_lanes = _mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3);
  return {load8(w8, w8 + 8),
          {_mm512_permutexvar_pd(w4_lanes, _mm512_castpd256_pd512(_mm256_loadu_pd(w4))),
           _mm512_permutexvar_pd(w4_lanes, _mm512_castpd256_pd512(_mm256_loadu_pd(w4 + 4)))},
          _mm512_setr_epi64(0, 2, 8, 10, 4, 6, 12, 14),
          _mm512_setr_epi64(1, 3, 9, 11, 5, 7, 13, 15)};
}

// Forward h = 8, 4, 2, 1 (comments: which numbers of the group each register holds, lane by lane).
inline void forward_last_four(Complex8& a, Complex8& b, const LastStages& c) {
  forward_butterfly(a, b, c.w8);                                                 // 0-7 | 8-15
  Complex8 u = pick_pairs<kLowHalves>(a, b), v = pick_pairs<kHighHalves>(a, b);  // 0-3 8-11 | 4-7 12-15
  forward_butterfly(u, v, c.w4);
  Complex8 x = pick_pairs<kEvenPairs>(u, v), y = pick_pairs<kOddPairs>(u, v);  // 0 1 8 9 4 5 12 13 | +2
  const Complex8 sum = add(x, y);
  y = times_minus_i_odd_lanes(sub(x, y));  // twiddles 1, -i
  x = unpack_low(sum, y);                  // 0 2 8 10 4 6 12 14 | +1
  y = unpack_high(sum, y);
  const Complex8 even = add(x, y), odd = sub(x, y);
  a = pick_lanes(even, c.first, odd);   // 0-7
  b = pick_lanes(even, c.second, odd);  // 8-15
}

// Backward h = 1, 2, 4, 8: the mirror.
inline void backward_first_four(Complex8& a, Complex8& b, const LastStages& c) {
  Complex8 x = pick_lanes(a, c.first, b), y = pick_lanes(a, c.second, b);  // 0 2 8 10 4 6 12 14 | +1
  const Complex8 even = add(x, y), odd = sub(x, y);
  x = unpack_low(even, odd);  // 0 1 8 9 4 5 12 13 | +2
  y = times_i_odd_lanes(unpack_high(even, odd));
  const Complex8 sum = add(x, y), difference = sub(x, y);
  Complex8 u = pick_pairs<kLowHalves>(sum, difference);  // 0 1 8 9 2 3 10 11 | +4
  Complex8 v = pick_pairs<kHighHalves>(sum, difference);
  backward_butterfly(u, v, c.w4);
  a = pick_pairs<kEvenPairs>(u, v);  // 0-7 | 8-15
  b = pick_pairs<kOddPairs>(u, v);
  backward_butterfly(a, b, c.w8);
}

// The last four stages over all groups of 16 (m = 16, 32), the last six over all blocks of 64 (m >= 64).
void forward_last_four_pass(double* re, double* im, const double* twiddles, size_t m) {
  const LastStages c = forward_last_stages(twiddles, m);
  for (size_t j = 0; j < m; j += 16) {
    Complex8 z[2];
    load_block(z, re, im, j, 8);
    forward_last_four(z[0], z[1], c);
    store_block(re, im, j, 8, z);
  }
}

void backward_first_four_pass(double* re, double* im, const double* twiddles, size_t m) {
  const LastStages c = backward_first_stages(twiddles, m);
  for (size_t j = 0; j < m; j += 16) {
    Complex8 z[2];
    load_block(z, re, im, j, 8);
    backward_first_four(z[0], z[1], c);
    store_block(re, im, j, 8, z);
  }
}

void forward_last_six_pass(double* re, double* im, const double* twiddles, size_t m) {
  const LastStages c = forward_last_stages(twiddles, m);
  for (size_t j = 0; j < m; j += 64) {
    Complex8 z[8];
    load_block(z, re, im, j, 8);
    forward_stage<4>(z, twiddles, m, 8, 0);  // h = 32
    forward_stage<2>(z, twiddles, m, 8, 0);  // h = 16
    for (size_t r = 0; r < 8; r += 2) forward_last_four(z[r], z[r + 1], c);
    store_block(re, im, j, 8, z);
  }
}

void backward_first_six_pass(double* re, double* im, const double* twiddles, size_t m) {
  const LastStages c = backward_first_stages(twiddles, m);
  for (size_t j = 0; j < m; j += 64) {
    Complex8 z[8];
    load_block(z, re, im, j, 8);
    for (size_t r = 0; r < 8; r += 2) backward_first_four(z[r], z[r + 1], c);
    backward_stage<2>(z, twiddles, m, 8, 0);  // h = 16
    backward_stage<4>(z, twiddles, m, 8, 0);  // h = 32
    store_block(re, im, j, 8, z);
  }
}

// Sizes m >= 128: a first pass over the stages h = m/2 (radix 2) or m/2, m/4 (radix 4, when the count of the
// stages h = m/2 .. 64 is even), radix-4 middle passes down to h = 64, then the last six. Below: see fft_forward.
inline size_t top_radix(size_t m) {
  return (static_cast<size_t>(__builtin_ctzll(m)) - 6) % 2 == 1 ? 2 : 4;
}

// The forward passes after the first one.
void forward_middle_and_last(double* re, double* im, const double* twiddles, size_t m) {
  for (size_t h = m / 2 / top_radix(m); h >= 128; h /= 4) forward_radix<4>(re, im, twiddles, m, h);
  forward_last_six_pass(re, im, twiddles, m);
}

// The backward passes before the last one.
void backward_first_and_middle(double* re, double* im, const double* twiddles, size_t m) {
  backward_first_six_pass(re, im, twiddles, m);
  for (size_t h = 128; h < m / 2; h *= 4) backward_radix<4>(re, im, twiddles, m, h);
}

constexpr size_t kMinVectorFft = 16;

void fft_forward(double* data, const double* twiddles, size_t m) {
  if (m < kMinVectorFft) return avx2_table().fft_forward(data, twiddles, m);
  double* re = data;
  double* im = data + m;
  if (m < 128) {  // m = 16, 32: [radix 2,] the last four; m = 64: the last six
    if (m == 32) forward_radix<2>(re, im, twiddles, m, 16);
    return m == 64 ? forward_last_six_pass(re, im, twiddles, m) : forward_last_four_pass(re, im, twiddles, m);
  }
  if (top_radix(m) == 2) {
    forward_radix<2>(re, im, twiddles, m, m / 2);
  } else {
    forward_radix<4>(re, im, twiddles, m, m / 2);
  }
  forward_middle_and_last(re, im, twiddles, m);
}

void fft_backward(double* data, const double* twiddles, size_t m) {
  if (m < kMinVectorFft) return avx2_table().fft_backward(data, twiddles, m);
  double* re = data;
  double* im = data + m;
  if (m < 128) {
    if (m == 64) return backward_first_six_pass(re, im, twiddles, m);
    backward_first_four_pass(re, im, twiddles, m);
    if (m == 32) backward_radix<2>(re, im, twiddles, m, 16);
    return;
  }
  backward_first_and_middle(re, im, twiddles, m);
  if (top_radix(m) == 2) {
    backward_radix<2>(re, im, twiddles, m, m / 2);
  } else {
    backward_radix<4>(re, im, twiddles, m, m / 2);
  }
}

// The twist fused into the first pass for m = 128 .. 512 (measured ~10% faster at m = 256, 512; slower from
// m = 1024 on, where the first pass's 24 streams of stride >= 2 KiB conflict in the L1 cache).
constexpr size_t kMaxFusedTwist = 512;

void forward_from_int64(double* out, const int64_t* in, const double* twist, const double* twiddles, size_t m) {
  if (m < 128 || m > kMaxFusedTwist) {
    twist_int64(out, in, twist, m);
    return fft_forward(out, twiddles, m);
  }
  if (top_radix(m) == 2) {
    forward_radix_from_int64<2>(out, in, twist, twiddles, m);
  } else {
    forward_radix_from_int64<4>(out, in, twist, twiddles, m);
  }
  forward_middle_and_last(out, out + m, twiddles, m);
}

// (Fusing the untwist into the last backward pass measured slower at m = 256 and from m = 1024 on: not kept.)
void backward_to_torus(uint64_t* out, double* in, const double* inverse_twist, const double* twiddles, size_t m,
                       bool add) {
  fft_backward(in, twiddles, m);
  untwist_to_torus(out, in, inverse_twist, m, add);
}

}  // namespace

const Table& avx512_table() {
  static const Table table{"avx512",           complex_multiply_add, twist_int64,
                           untwist_to_torus,   subtract_scaled,      decompose,
                           fft_forward,        fft_backward,         fourier_ggsw_multiply,
                           forward_from_int64, backward_to_torus,    rotate_difference};
  return table;
}

}  // namespace fhenn::tfhe::kernels
