// Portable versions of the hot loops and the run-time choice of the kernel table (AVX-512, AVX2 or portable).
#include "kernels.hpp"

#include <cstdlib>

namespace fhenn::tfhe::kernels {
namespace {

void complex_multiply_add(double* acc, const double* a, const double* b, size_t complex_count) {
  const size_t n = complex_count;
  for (size_t j = 0; j < n; ++j) {
    const double ar = a[j], ai = a[j + n], br = b[j], bi = b[j + n];
    acc[j] += ar * br - ai * bi;
    acc[j + n] += ar * bi + ai * br;
  }
}

void twist_int64(double* out, const int64_t* in, const double* twist, size_t half) {
  for (size_t j = 0; j < half; ++j) {
    const double re = static_cast<double>(in[j]), im = static_cast<double>(in[j + half]);
    const double tr = twist[j], ti = twist[j + half];
    out[j] = re * tr - im * ti;
    out[j + half] = re * ti + im * tr;
  }
}

void untwist_to_torus(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add) {
  for (size_t j = 0; j < half; ++j) {
    const double re = in[j], im = in[j + half];
    const double tr = inverse_twist[j], ti = inverse_twist[j + half];
    const uint64_t lo = wrap_to_torus(re * tr - im * ti);
    const uint64_t hi = wrap_to_torus(re * ti + im * tr);
    out[j] = (add ? out[j] : 0) + lo;
    out[j + half] = (add ? out[j + half] : 0) + hi;
  }
}

void decompose(int64_t* digits, const uint64_t* values, size_t count, size_t base_log, size_t levels) {
  decompose_levels(digits, values, count, base_log, levels);
}

void subtract_scaled(uint64_t* out, const uint64_t* row, int64_t digit, size_t count) {
  const uint64_t d = static_cast<uint64_t>(digit);
  for (size_t t = 0; t < count; ++t) out[t] -= d * row[t];
}

// X^power * in - in written without a temporary: coefficient j moves to j + power (mod N), negated when it wraps
// past X^N = -1 an odd number of times.
void rotate_difference(uint64_t* out, const uint64_t* in, size_t N, size_t power) {
  const bool negate = power >= N;
  const size_t shift = power % N;
  for (size_t j = 0; j < N - shift; ++j) out[j + shift] = (negate ? uint64_t{0} - in[j] : in[j]) - in[j + shift];
  for (size_t j = N - shift; j < N; ++j) {
    out[j + shift - N] = (negate ? in[j] : uint64_t{0} - in[j]) - in[j + shift - N];
  }
}

void forward_from_int64(double* out, const int64_t* in, const double* twist, const double* twiddles, size_t m) {
  twist_int64(out, in, twist, m);
  fft_forward_reference(out, twiddles, m);
}

void backward_to_torus(uint64_t* out, double* in, const double* inverse_twist, const double* twiddles, size_t m,
                       bool add) {
  fft_backward_reference(in, twiddles, m);
  untwist_to_torus(out, in, inverse_twist, m, add);
}

// Whether the environment variable `name` is set to 1.
bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] == '1';
}

}  // namespace

const Table& portable_table() {
  static const Table table{"portable",
                           complex_multiply_add,
                           twist_int64,
                           untwist_to_torus,
                           subtract_scaled,
                           decompose,
                           fft_forward_reference,
                           fft_backward_reference,
                           fourier_ggsw_multiply_reference,
                           forward_from_int64,
                           backward_to_torus,
                           rotate_difference};
  return table;
}

bool avx2_supported() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool avx512_supported() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return avx2_supported() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

const Table& active() {
  static const Table& table = []() -> const Table& {
    if (env_flag("FHENN_TFHE_PORTABLE")) return portable_table();
    if (avx512_supported() && !env_flag("FHENN_TFHE_AVX2")) return avx512_table();
    return avx2_supported() ? avx2_table() : portable_table();
  }();
  return table;
}

}  // namespace fhenn::tfhe::kernels
