// Portable versions of the hot loops and the run-time choice of the kernel table.
#include "kernels.hpp"

#include <cstdlib>

namespace fhenn::tfhe::kernels {
namespace {

void complex_multiply_add(double* acc, const double* a, const double* b, size_t complex_count) {
  for (size_t j = 0; j < complex_count; ++j) {
    const double ar = a[2 * j], ai = a[2 * j + 1], br = b[2 * j], bi = b[2 * j + 1];
    acc[2 * j] += ar * br - ai * bi;
    acc[2 * j + 1] += ar * bi + ai * br;
  }
}

void twist_int64(double* out, const int64_t* in, const double* twist, size_t half) {
  for (size_t j = 0; j < half; ++j) {
    const double re = static_cast<double>(in[j]), im = static_cast<double>(in[j + half]);
    const double tr = twist[2 * j], ti = twist[2 * j + 1];
    out[2 * j] = re * tr - im * ti;
    out[2 * j + 1] = re * ti + im * tr;
  }
}

void untwist_to_torus(uint64_t* out, const double* in, const double* inverse_twist, size_t half, bool add) {
  for (size_t j = 0; j < half; ++j) {
    const double re = in[2 * j], im = in[2 * j + 1];
    const double tr = inverse_twist[2 * j], ti = inverse_twist[2 * j + 1];
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

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

const Table& portable_table() {
  static const Table table{"portable", complex_multiply_add, twist_int64, untwist_to_torus, subtract_scaled, decompose};
  return table;
}

const Table& active() {
  static const Table& table = [&]() -> const Table& {
    const char* force_portable = std::getenv("FHENN_TFHE_PORTABLE");
    if (force_portable != nullptr && force_portable[0] == '1') return portable_table();
    return cpu_has_avx2_fma() ? avx2_table() : portable_table();
  }();
  return table;
}

}  // namespace fhenn::tfhe::kernels
