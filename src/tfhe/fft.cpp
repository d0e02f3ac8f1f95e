// Twisted N/2-point FFT (own radix-4 kernels), exact limb products and the schoolbook reference.
#include "fhenn/tfhe/fft.hpp"

#include <cmath>
#include <map>
#include <mutex>
#include <numbers>

#include "fhenn/common/assert.hpp"
#include "kernels.hpp"

namespace fhenn::tfhe {

const FourierTransform& FourierTransform::get(PolynomialSize N) {
  static std::mutex mutex;
  static std::map<size_t, std::unique_ptr<FourierTransform>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[N.value];
  if (!slot) slot.reset(new FourierTransform(N.value));
  return *slot;
}

FourierTransform::FourierTransform(size_t polynomial_size) : polynomial_size_(polynomial_size) {
  FHENN_ASSERT(polynomial_size >= 4 && (polynomial_size & (polynomial_size - 1)) == 0);
  const size_t half = polynomial_size / 2;
  twist_.resize(2 * half);
  inverse_twist_.resize(2 * half);
  for (size_t j = 0; j < half; ++j) {
    const double angle = std::numbers::pi * static_cast<double>(j) / static_cast<double>(polynomial_size);
    twist_[j] = std::cos(angle);
    twist_[j + half] = std::sin(angle);
    inverse_twist_[j] = std::cos(angle) / static_cast<double>(half);
    inverse_twist_[j + half] = -std::sin(angle) / static_cast<double>(half);
  }
  twiddles_.assign(2 * half, 0.0);
  for (size_t h = half / 2; h >= 1; h /= 2) {
    double* w = twiddles_.data() + kernels::fft_twiddle_offset(half, h);
    for (size_t j = 0; j < h; ++j) {
      const double angle = std::numbers::pi * static_cast<double>(j) / static_cast<double>(h);  // 2 pi j / (2h)
      w[j] = std::cos(angle);
      w[j + h] = -std::sin(angle);
    }
  }
}

FourierTransform::~FourierTransform() = default;

void FourierTransform::forward_torus(const Torus* poly, double* out) const {
  forward_integer(reinterpret_cast<const int64_t*>(poly), out);
}

void FourierTransform::forward_integer(const int64_t* poly, double* out) const {
  kernels::active().forward_from_int64(out, poly, twist_.data(), twiddles_.data(), polynomial_size_ / 2);
}

void FourierTransform::backward_torus(double* in, Torus* out) const {
  kernels::active().backward_to_torus(out, in, inverse_twist_.data(), twiddles_.data(), polynomial_size_ / 2, false);
}

void FourierTransform::backward_add_torus(double* in, Torus* out) const {
  kernels::active().backward_to_torus(out, in, inverse_twist_.data(), twiddles_.data(), polynomial_size_ / 2, true);
}

const char* kernel_build() {
  return kernels::active().name;
}

void fourier_multiply_add(double* acc, const double* a, const double* b, size_t doubles) {
  kernels::active().complex_multiply_add(acc, a, b, doubles / 2);
}

void negacyclic_product_schoolbook(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out) {
  const size_t N = a.size();
  FHENN_REQUIRE_EQ(b.size(), N);
  FHENN_REQUIRE_EQ(out.size(), N);
  std::vector<Torus> result(N, 0);
  for (size_t i = 0; i < N; ++i) {
    for (size_t j = 0; j < N; ++j) {
      const Torus product = a[i] * b[j];
      if (i + j < N) {
        result[i + j] += product;
      } else {
        result[i + j - N] -= product;  // X^N = -1
      }
    }
  }
  std::copy(result.begin(), result.end(), out.begin());
}

void negacyclic_product_fft(std::span<const Torus> a, std::span<const int64_t> b, std::span<Torus> out) {
  const size_t N = a.size();
  FHENN_REQUIRE_EQ(b.size(), N);
  FHENN_REQUIRE_EQ(out.size(), N);
  const auto& fft = FourierTransform::get(PolynomialSize(N));
  FourierBuffer fa(N), fb(N), acc(N, 0.0);
  fft.forward_torus(a.data(), fa.data());
  fft.forward_integer(b.data(), fb.data());
  fourier_multiply_add(acc.data(), fa.data(), fb.data(), N);
  fft.backward_torus(acc.data(), out.data());
}

ExactSmallProduct::ExactSmallProduct(std::span<const int64_t> small, PolynomialSize N)
    : transform_(&FourierTransform::get(N)), fourier_(N.value) {
  FHENN_REQUIRE_EQ(small.size(), N.value);
  transform_->forward_integer(small.data(), fourier_.data());
}

void ExactSmallProduct::multiply_add(std::span<const Torus> a, std::span<Torus> out, std::span<double> scratch) const {
  const size_t N = transform_->polynomial_size();
  FHENN_REQUIRE_EQ(a.size(), N);
  FHENN_REQUIRE_EQ(out.size(), N);
  FHENN_REQUIRE_LE(scratch_size(), scratch.size());
  double* limb_fourier = scratch.data();
  double* product = scratch.data() + N;
  auto* limb = reinterpret_cast<int64_t*>(scratch.data() + 2 * N);  // N int64 reuse N doubles of storage
  for (int shift = 0; shift < 64; shift += 16) {
    for (size_t j = 0; j < N; ++j) limb[j] = static_cast<int64_t>((a[j] >> shift) & 0xFFFF);
    transform_->forward_integer(limb, limb_fourier);
    std::fill(product, product + N, 0.0);
    fourier_multiply_add(product, limb_fourier, fourier_.data(), N);
    auto* exact = reinterpret_cast<Torus*>(limb);
    transform_->backward_torus(product, exact);
    for (size_t j = 0; j < N; ++j) out[j] += exact[j] << shift;
  }
}

void multiply_by_monomial(std::span<const Torus> in, size_t power, std::span<Torus> out) {
  const size_t N = in.size();
  FHENN_REQUIRE_EQ(out.size(), N);
  FHENN_REQUIRE_LT(power, 2 * N);
  const bool negate = power >= N;
  const size_t shift = power % N;
  for (size_t j = 0; j < N; ++j) {
    // X^shift * a_j X^j = a_j X^(j + shift); wrapping past N flips the sign.
    const size_t target = j + shift;
    const Torus v = negate ? Torus{0} - in[j] : in[j];
    if (target < N) {
      out[target] = v;
    } else {
      out[target - N] = Torus{0} - v;
    }
  }
}

}  // namespace fhenn::tfhe
