// Negacyclic products: exact schoolbook reference, the twisted N/2-point FFT (own AVX-512/AVX2 kernels), helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "fhenn/tfhe/types.hpp"

namespace fhenn::tfhe {

// 64-byte aligned storage for Fourier-domain data (aligned SIMD loads).
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
};
using FourierBuffer = std::vector<double, AlignedAllocator<double>>;

// A polynomial of Z_q[X]/(X^N + 1) in the Fourier domain: its values at the N/2 roots zeta^(4j+1)-type points
// (zeta = e^(i pi / N)), N/2 complex numbers stored split (N/2 real parts, then N/2 imaginary parts) = N doubles,
// in the bit-reversed order of the decimation-in-frequency FFT (only pointwise products and the inverse read them).
//
// Forward (folding + twist): z_j = (a_j + i a_(j+N/2)) * zeta^j, j < N/2, then an N/2-point complex DFT.
// Pointwise products of two transforms give the transform of the negacyclic product. Backward: inverse DFT,
// multiply by zeta^-j / (N/2), c_j = Re, c_(j+N/2) = Im, rounded to the nearest integer modulo 2^64.
//
// FFT: own in-place radix-4 kernels (AVX-512, else AVX2/FMA, chosen at run time), no bit reversal; measured
// against FFTW 3's FFTW_MEASURE plans on the 2-core dev machine and kept as faster (see docs/tfhe.md).
class FourierTransform {
 public:
  // The transform for size N (created once per size, thread-safe).
  static const FourierTransform& get(PolynomialSize N);
  ~FourierTransform();
  FourierTransform(const FourierTransform&) = delete;
  FourierTransform& operator=(const FourierTransform&) = delete;

  size_t polynomial_size() const { return polynomial_size_; }
  // Doubles per Fourier polynomial (N/2 complex values).
  size_t fourier_doubles() const { return polynomial_size_; }

  // Torus coefficients read as signed integers in [-2^63, 2^63) (key material; the 11 low bits lost to the
  // 53-bit mantissa are part of the FFT noise term).
  void forward_torus(const Torus* poly, double* out) const;
  // Small signed integers (gadget digits, secret keys, clear polynomials).
  void forward_integer(const int64_t* poly, double* out) const;
  // out = round(inverse(in)) mod 2^64, or out += ...; `in` is used as scratch and clobbered.
  void backward_torus(double* in, Torus* out) const;
  void backward_add_torus(double* in, Torus* out) const;

 private:
  explicit FourierTransform(size_t polynomial_size);

  size_t polynomial_size_;
  FourierBuffer twist_;          // zeta^j, split
  FourierBuffer inverse_twist_;  // zeta^-j / (N/2), split
  FourierBuffer twiddles_;       // per FFT stage, see kernels::fft_twiddle_offset
};

// The build of the hot loops in use: "avx512", "avx2+fma" or "portable" (FHENN_TFHE_AVX2=1 and
// FHENN_TFHE_PORTABLE=1 force the last two).
const char* kernel_build();

// acc += a * b pointwise (Fourier polynomials of `doubles` doubles, split layout).
void fourier_multiply_add(double* acc, const double* a, const double* b, size_t doubles);

// Exact reference: c = a * b mod (X^N + 1) with arithmetic mod 2^64 (O(N^2)).
void negacyclic_product_schoolbook(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out);

// Fast path: c = a * b with a torus polynomial `a` and small integers `b`, through the FFT (approximate:
// the error is the FFT term of the noise formulas).
void negacyclic_product_fft(std::span<const Torus> a, std::span<const int64_t> b, std::span<Torus> out);

// Exact fast product of a torus polynomial with a polynomial of small integers (|b_j| * N <= 2^30), by four
// 16-bit limbs of `a`, each product exact in double precision. Used for encryption (bodies = <A, S> + e).
class ExactSmallProduct {
 public:
  ExactSmallProduct(std::span<const int64_t> small, PolynomialSize N);
  // out += a * small (exact modulo 2^64). scratch: scratch_size() doubles.
  void multiply_add(std::span<const Torus> a, std::span<Torus> out, std::span<double> scratch) const;
  size_t scratch_size() const { return 2 * transform_->fourier_doubles() + transform_->polynomial_size(); }
  const FourierTransform& transform() const { return *transform_; }
  const double* fourier() const { return fourier_.data(); }

 private:
  const FourierTransform* transform_;
  FourierBuffer fourier_;
};

// out = X^power * in in Z_q[X]/(X^N + 1), power in [0, 2N).
void multiply_by_monomial(std::span<const Torus> in, size_t power, std::span<Torus> out);

}  // namespace fhenn::tfhe
