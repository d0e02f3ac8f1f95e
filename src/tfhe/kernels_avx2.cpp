// AVX2/FMA versions of the hot loops (compiled with -mavx2 -mfma; only called when the CPU has both).
#include <immintrin.h>

#include "kernels.hpp"

namespace fhenn::tfhe::kernels {
namespace {

// Four split complex numbers: real parts and imaginary parts.
struct Complex4 {
  __m256d re;
  __m256d im;
};

inline Complex4 load4(const double* re, const double* im) {
  return {_mm256_load_pd(re), _mm256_load_pd(im)};
}
inline void store4(double* re, double* im, Complex4 z) {
  _mm256_store_pd(re, z.re);
  _mm256_store_pd(im, z.im);
}
inline Complex4 add(Complex4 a, Complex4 b) {
  return {_mm256_add_pd(a.re, b.re), _mm256_add_pd(a.im, b.im)};
}
inline Complex4 sub(Complex4 a, Complex4 b) {
  return {_mm256_sub_pd(a.re, b.re), _mm256_sub_pd(a.im, b.im)};
}
// a * b
inline Complex4 mul(Complex4 a, Complex4 b) {
  return {_mm256_fmsub_pd(a.re, b.re, _mm256_mul_pd(a.im, b.im)),
          _mm256_fmadd_pd(a.re, b.im, _mm256_mul_pd(a.im, b.re))};
}
// a * conj(b)
inline Complex4 mul_conj(Complex4 a, Complex4 b) {
  return {_mm256_fmadd_pd(a.re, b.re, _mm256_mul_pd(a.im, b.im)),
          _mm256_fmsub_pd(a.im, b.re, _mm256_mul_pd(a.re, b.im))};
}

void complex_multiply_add(double* acc, const double* a, const double* b, size_t complex_count) {
  const size_t n = complex_count;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d ar = _mm256_load_pd(a + j), ai = _mm256_load_pd(a + j + n);
    const __m256d br = _mm256_load_pd(b + j), bi = _mm256_load_pd(b + j + n);
    __m256d cr = _mm256_load_pd(acc + j), ci = _mm256_load_pd(acc + j + n);
    cr = _mm256_fnmadd_pd(ai, bi, _mm256_fmadd_pd(ar, br, cr));
    ci = _mm256_fmadd_pd(ai, br, _mm256_fmadd_pd(ar, bi, ci));
    _mm256_store_pd(acc + j, cr);
    _mm256_store_pd(acc + j + n, ci);
  }
  for (; j < n; ++j) {
    const double ar = a[j], ai = a[j + n], br = b[j], bi = b[j + n];
    acc[j] += ar * br - ai * bi;
    acc[j + n] += ar * bi + ai * br;
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
  const __m256d hi_d = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(hi, _mm256_castpd_si256(magic))), magic);
  return _mm256_fmadd_pd(hi_d, _mm256_set1_pd(0x1p32), lo_d);
}

void twist_int64(double* out, const int64_t* in, const double* twist, size_t half) {
  size_t j = 0;
  for (; j + 4 <= half; j += 4) {
    const __m256d re = int64_to_double(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + j)));
    const __m256d im = int64_to_double(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + j + half)));
    store4(out + j, out + j + half, mul({re, im}, load4(twist + j, twist + j + half)));
  }
  for (; j < half; ++j) {
    const double re = static_cast<double>(in[j]), im = static_cast<double>(in[j + half]);
    out[j] = re * twist[j] - im * twist[j + half];
    out[j + half] = re * twist[j + half] + im * twist[j];
  }
}

// Four doubles to their nearest integers modulo 2^64 (ties away from zero), straight from the bit fields:
// |x| = mantissa * 2^(exponent - 1075). Large exponents shift the mantissa left (bits past 2^64 drop: the wrap),
// small ones shift it right with rounding; shift counts >= 64 (or "negative" ones, huge unsigned) give 0.
inline __m256i wrap_to_torus4(__m256d x) {
  const __m256i bits = _mm256_castpd_si256(x);
  const __m256i mantissa = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFF)),
                                           _mm256_set1_epi64x(0x0010000000000000));
  const __m256i exponent = _mm256_and_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x7FF));
  const __m256i left = _mm256_sub_epi64(exponent, _mm256_set1_epi64x(1075));
  const __m256i right_minus_one = _mm256_sub_epi64(_mm256_set1_epi64x(1074), exponent);
  const __m256i shifted_up = _mm256_sllv_epi64(mantissa, left);
  const __m256i halves = _mm256_srlv_epi64(mantissa, right_minus_one);  // |x| * 2, truncated
  const __m256i rounded = _mm256_srli_epi64(_mm256_add_epi64(halves, _mm256_set1_epi64x(1)), 1);
  const __m256i magnitude = _mm256_or_si256(shifted_up, rounded);
  const __m256i negative = _mm256_cmpgt_epi64(_mm256_setzero_si256(), bits);
  return _mm256_sub_epi64(_mm256_xor_si256(magnitude, negative), negative);
}

void untwist_to_torus(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add) {
  size_t j = 0;
  for (; j + 4 <= half; j += 4) {
    const Complex4 c = mul(load4(in + j, in + j + half), load4(inverse_twist + j, inverse_twist + j + half));
    __m256i lo_t = wrap_to_torus4(c.re), hi_t = wrap_to_torus4(c.im);
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
    const double re = in[j], im = in[j + half];
    const double tr = inverse_twist[j], ti = inverse_twist[j + half];
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

// The key is read once, in order (see fourier_ggsw_offset); each digit block is loaded once for all columns.
template <size_t Columns>
void fourier_ggsw_multiply_columns(double* out, const double* digits, const double* ggsw, size_t rows, size_t n,
                                   const double* prefetch) {
  const size_t poly = 2 * n;
  const size_t block_doubles = rows * Columns * 2 * kGgswBlock;
  for (size_t j = 0; j < n; j += kGgswBlock) {
    Complex4 acc[Columns];
    for (auto& a : acc) a = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    const double* key = ggsw + (j / kGgswBlock) * block_doubles;
    if (prefetch != nullptr) {
      const double* next = prefetch + (j / kGgswBlock) * block_doubles;
      for (size_t line = 0; line < block_doubles; line += 8)
        _mm_prefetch(reinterpret_cast<const char*>(next + line), _MM_HINT_T1);
    }
    for (size_t r = 0; r < rows; ++r) {
      const Complex4 d = load4(digits + poly * r + j, digits + poly * r + j + n);
      for (size_t c = 0; c < Columns; ++c, key += 2 * kGgswBlock) {
        const Complex4 k = load4(key, key + kGgswBlock);
        acc[c].re = _mm256_fnmadd_pd(d.im, k.im, _mm256_fmadd_pd(d.re, k.re, acc[c].re));
        acc[c].im = _mm256_fmadd_pd(d.im, k.re, _mm256_fmadd_pd(d.re, k.im, acc[c].im));
      }
    }
    for (size_t c = 0; c < Columns; ++c) store4(out + poly * c + j, out + poly * c + j + n, acc[c]);
  }
}

// Any column count (k > 4): one column at a time, its lines strided within the block.
void fourier_ggsw_multiply_any(double* out, const double* digits, const double* ggsw, size_t rows, size_t columns,
                               size_t n) {
  const size_t poly = 2 * n;
  for (size_t j = 0; j < n; j += kGgswBlock) {
    for (size_t c = 0; c < columns; ++c) {
      Complex4 acc{_mm256_setzero_pd(), _mm256_setzero_pd()};
      for (size_t r = 0; r < rows; ++r) {
        const Complex4 d = load4(digits + poly * r + j, digits + poly * r + j + n);
        const double* key = ggsw + fourier_ggsw_offset(rows, columns, j, r, c);
        const Complex4 k = load4(key, key + kGgswBlock);
        acc.re = _mm256_fnmadd_pd(d.im, k.im, _mm256_fmadd_pd(d.re, k.re, acc.re));
        acc.im = _mm256_fmadd_pd(d.im, k.re, _mm256_fmadd_pd(d.re, k.im, acc.im));
      }
      store4(out + poly * c + j, out + poly * c + j + n, acc);
    }
  }
}

void fourier_ggsw_multiply(double* out, const double* digits, const double* ggsw, size_t rows, size_t columns,
                           size_t complex_count, const double* prefetch) {
  const size_t n = complex_count;
  switch (columns) {
    case 2:
      return fourier_ggsw_multiply_columns<2>(out, digits, ggsw, rows, n, prefetch);
    case 3:
      return fourier_ggsw_multiply_columns<3>(out, digits, ggsw, rows, n, prefetch);
    case 4:
      return fourier_ggsw_multiply_columns<4>(out, digits, ggsw, rows, n, prefetch);
    case 5:
      return fourier_ggsw_multiply_columns<5>(out, digits, ggsw, rows, n, prefetch);  // k = 4 (N = 512 sets)
    default:
      return fourier_ggsw_multiply_any(out, digits, ggsw, rows, columns, n);
  }
}

// ---- FFT: the same stages as fft_forward_reference / fft_backward_reference, four complex numbers per register.

// A radix-2 stage of half-size h >= 4 (forward).
void forward_radix2(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const double* w_re = twiddles + fft_twiddle_offset(m, h);
  const double* w_im = w_re + h;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < h; j += 4) {
      const size_t a = block + j, b = a + h;
      const Complex4 u = load4(re + a, im + a), v = load4(re + b, im + b);
      store4(re + a, im + a, add(u, v));
      store4(re + b, im + b, mul(sub(u, v), load4(w_re + j, w_im + j)));
    }
  }
}

void backward_radix2(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const double* w_re = twiddles + fft_twiddle_offset(m, h);
  const double* w_im = w_re + h;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < h; j += 4) {
      const size_t a = block + j, b = a + h;
      const Complex4 x = load4(re + a, im + a);
      const Complex4 t = mul_conj(load4(re + b, im + b), load4(w_re + j, w_im + j));
      store4(re + a, im + a, add(x, t));
      store4(re + b, im + b, sub(x, t));
    }
  }
}

// Two stages at once (half-sizes h and q = h / 2 >= 4): one pass over the data instead of two.
void forward_radix4(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const size_t q = h / 2;
  const double* wh_re = twiddles + fft_twiddle_offset(m, h);
  const double* wh_im = wh_re + h;
  const double* wq_re = twiddles + fft_twiddle_offset(m, q);
  const double* wq_im = wq_re + q;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < q; j += 4) {
      const size_t i0 = block + j, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
      const Complex4 a0 = load4(re + i0, im + i0), a1 = load4(re + i1, im + i1);
      const Complex4 a2 = load4(re + i2, im + i2), a3 = load4(re + i3, im + i3);
      const Complex4 b0 = add(a0, a2), b2 = mul(sub(a0, a2), load4(wh_re + j, wh_im + j));
      const Complex4 b1 = add(a1, a3), b3 = mul(sub(a1, a3), load4(wh_re + j + q, wh_im + j + q));
      const Complex4 wq = load4(wq_re + j, wq_im + j);
      store4(re + i0, im + i0, add(b0, b1));
      store4(re + i1, im + i1, mul(sub(b0, b1), wq));
      store4(re + i2, im + i2, add(b2, b3));
      store4(re + i3, im + i3, mul(sub(b2, b3), wq));
    }
  }
}

void backward_radix4(double* re, double* im, const double* twiddles, size_t m, size_t h) {
  const size_t q = h / 2;
  const double* wh_re = twiddles + fft_twiddle_offset(m, h);
  const double* wh_im = wh_re + h;
  const double* wq_re = twiddles + fft_twiddle_offset(m, q);
  const double* wq_im = wq_re + q;
  for (size_t block = 0; block < m; block += 2 * h) {
    for (size_t j = 0; j < q; j += 4) {
      const size_t i0 = block + j, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
      const Complex4 wq = load4(wq_re + j, wq_im + j);
      const Complex4 c0 = load4(re + i0, im + i0), t1 = mul_conj(load4(re + i1, im + i1), wq);
      const Complex4 c2 = load4(re + i2, im + i2), t3 = mul_conj(load4(re + i3, im + i3), wq);
      const Complex4 b0 = add(c0, t1), b1 = sub(c0, t1), b2 = add(c2, t3), b3 = sub(c2, t3);
      const Complex4 t2 = mul_conj(b2, load4(wh_re + j, wh_im + j));
      const Complex4 t3b = mul_conj(b3, load4(wh_re + j + q, wh_im + j + q));
      store4(re + i0, im + i0, add(b0, t2));
      store4(re + i2, im + i2, sub(b0, t2));
      store4(re + i1, im + i1, add(b1, t3b));
      store4(re + i3, im + i3, sub(b1, t3b));
    }
  }
}

// (x0 + x2, x1 + x3, x0 - x2, x1 - x3) within one register.
inline __m256d half_butterfly(__m256d x) {
  const __m256d swapped = _mm256_permute2f128_pd(x, x, 0x01);
  return _mm256_blend_pd(_mm256_add_pd(x, swapped), _mm256_sub_pd(swapped, x), 0b1100);
}
// (x0 + x1, x0 - x1, x2 + x3, x2 - x3) within one register.
inline __m256d pair_butterfly(__m256d x) {
  const __m256d even = _mm256_permute_pd(x, 0b0000), odd = _mm256_permute_pd(x, 0b1111);
  return _mm256_fmadd_pd(odd, _mm256_setr_pd(1.0, -1.0, 1.0, -1.0), even);
}

// The last two stages (h = 2: twiddles 1, -i; h = 1: twiddle 1) inside each group of four.
void forward_last_two(double* re, double* im, size_t m) {
  const __m256d zero = _mm256_setzero_pd();
  for (size_t j = 0; j < m; j += 4) {
    const __m256d ar = half_butterfly(_mm256_load_pd(re + j)), ai = half_butterfly(_mm256_load_pd(im + j));
    // lane 3 times -i: (r + i s)(-i) = s - i r
    const __m256d yr = _mm256_blend_pd(ar, ai, 0b1000), yi = _mm256_blend_pd(ai, _mm256_sub_pd(zero, ar), 0b1000);
    _mm256_store_pd(re + j, pair_butterfly(yr));
    _mm256_store_pd(im + j, pair_butterfly(yi));
  }
}

void backward_first_two(double* re, double* im, size_t m) {
  const __m256d zero = _mm256_setzero_pd();
  for (size_t j = 0; j < m; j += 4) {
    const __m256d yr = pair_butterfly(_mm256_load_pd(re + j)), yi = pair_butterfly(_mm256_load_pd(im + j));
    // lane 3 times conj(-i) = i: (r + i s) i = -s + i r
    const __m256d tr = _mm256_blend_pd(yr, _mm256_sub_pd(zero, yi), 0b1000), ti = _mm256_blend_pd(yi, yr, 0b1000);
    _mm256_store_pd(re + j, half_butterfly(tr));
    _mm256_store_pd(im + j, half_butterfly(ti));
  }
}

constexpr size_t kMinVectorFft = 16;

// Stages h = m/2 .. 4: one radix-2 pass first when their count is odd, then radix-4 passes.
// (Fusing the twist into the first pass and the untwist into the last one measured ~10% slower: not kept.)
void fft_forward(double* data, const double* twiddles, size_t m) {
  if (m < kMinVectorFft) return fft_forward_reference(data, twiddles, m);
  double* re = data;
  double* im = data + m;
  const size_t stages = static_cast<size_t>(__builtin_ctzll(m)) - 2;
  size_t h = m / 2;
  if (stages % 2 == 1) {
    forward_radix2(re, im, twiddles, m, h);
    h /= 2;
  }
  for (; h >= 8; h /= 4) forward_radix4(re, im, twiddles, m, h);
  forward_last_two(re, im, m);
}

void fft_backward(double* data, const double* twiddles, size_t m) {
  if (m < kMinVectorFft) return fft_backward_reference(data, twiddles, m);
  double* re = data;
  double* im = data + m;
  const size_t stages = static_cast<size_t>(__builtin_ctzll(m)) - 2;
  backward_first_two(re, im, m);
  size_t h = 8;
  for (size_t pass = 0; pass < stages / 2; ++pass, h *= 4) backward_radix4(re, im, twiddles, m, h);
  if (stages % 2 == 1) backward_radix2(re, im, twiddles, m, m / 2);
}

void forward_from_int64(double* out, const int64_t* in, const double* twist, const double* twiddles, size_t m) {
  twist_int64(out, in, twist, m);
  fft_forward(out, twiddles, m);
}

void backward_to_torus(uint64_t* out, double* in, const double* inverse_twist, const double* twiddles, size_t m,
                       bool add) {
  fft_backward(in, twiddles, m);
  untwist_to_torus(out, in, inverse_twist, m, add);
}

}  // namespace

const Table& avx2_table() {
  static const Table table{
      "avx2+fma",
      complex_multiply_add,
      twist_int64,
      untwist_to_torus,
      subtract_scaled,
      decompose,
      fft_forward,
      fft_backward,
      fourier_ggsw_multiply,
      forward_from_int64,
      backward_to_torus,
      portable_table().rotate_difference};  // the portable loop (SSE2-vectorised), as before the AVX-512 build
  return table;
}

}  // namespace fhenn::tfhe::kernels
