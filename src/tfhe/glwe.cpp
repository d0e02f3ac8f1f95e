// GLWE and GGSW encryption, the Fourier external product and the CMUX.
#include "fhenn/tfhe/glwe.hpp"

#include <algorithm>

#include "fhenn/common/assert.hpp"
#include "kernels.hpp"

namespace fhenn::tfhe {

GlweSecretKey GlweSecretKey::generate(GlweDimension k, PolynomialSize N, Csprng& rng) {
  GlweSecretKey key{k, N, std::vector<uint64_t>(k.value * N.value)};
  rng.fill_binary(key.bits);
  return key;
}

GlweKeyProducts::GlweKeyProducts(const GlweSecretKey& key) : key_(&key) {
  const size_t N = key.polynomial_size.value;
  std::vector<int64_t> poly(N);
  for (size_t i = 0; i < key.glwe_dimension.value; ++i) {
    for (size_t j = 0; j < N; ++j) poly[j] = static_cast<int64_t>(key.bits[i * N + j]);
    products_.emplace_back(poly, key.polynomial_size);
  }
}

void GlweKeyProducts::mask_product_add(std::span<const Torus> masks, std::span<Torus> out,
                                       std::span<double> scratch) const {
  const size_t N = key_->polynomial_size.value;
  for (size_t i = 0; i < products_.size(); ++i) products_[i].multiply_add(masks.subspan(i * N, N), out, scratch);
}

void encrypt_glwe(const GlweKeyProducts& key, std::span<const Torus> message, const NoiseDistribution& noise,
                  Csprng& mask_rng, Csprng& noise_rng, std::span<Torus> out) {
  const size_t k = key.key().glwe_dimension.value;
  const size_t N = key.key().polynomial_size.value;
  FHENN_REQUIRE_EQ(out.size(), (k + 1) * N);
  FHENN_REQUIRE_EQ(message.size(), N);
  mask_rng.fill_uniform(out.first(k * N));
  auto body = out.subspan(k * N, N);
  for (size_t j = 0; j < N; ++j) body[j] = message[j] + sample_noise(noise, noise_rng);
  FourierBuffer scratch(key.scratch_size());
  key.mask_product_add(out.first(k * N), body, scratch);
}

void decrypt_glwe_phase(const GlweSecretKey& key, std::span<const Torus> ciphertext, std::span<Torus> phase) {
  const size_t k = key.glwe_dimension.value;
  const size_t N = key.polynomial_size.value;
  FHENN_REQUIRE_EQ(ciphertext.size(), (k + 1) * N);
  std::vector<Torus> product(N), key_poly(N);
  std::copy(ciphertext.begin() + k * N, ciphertext.end(), phase.begin());
  for (size_t i = 0; i < k; ++i) {
    std::copy_n(key.bits.begin() + i * N, N, key_poly.begin());
    negacyclic_product_schoolbook(ciphertext.subspan(i * N, N), key_poly, product);
    for (size_t j = 0; j < N; ++j) phase[j] -= product[j];
  }
}

size_t ggsw_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels) {
  return glwe_size(k) * levels.value * glwe_size(k) * N.value;
}

void encrypt_ggsw(const GlweKeyProducts& key, int64_t message, DecompositionBaseLog base_log,
                  DecompositionLevelCount levels, const NoiseDistribution& noise, Csprng& mask_rng, Csprng& noise_rng,
                  std::span<Torus> out) {
  const GlweSecretKey& s = key.key();
  const size_t k = s.glwe_dimension.value;
  const size_t N = s.polynomial_size.value;
  const size_t row_size = (k + 1) * N;
  FHENN_REQUIRE_EQ(out.size(), ggsw_size(s.glwe_dimension, s.polynomial_size, levels));
  std::vector<Torus> row_message(N);
  for (size_t i = 0; i <= k; ++i) {
    for (size_t j = 1; j <= levels.value; ++j) {
      const Torus scaled = static_cast<Torus>(message) << (64 - j * base_log.value);  // m * g_j
      for (size_t c = 0; c < N; ++c) {
        row_message[c] = i == k ? (c == 0 ? scaled : 0) : Torus{0} - scaled * s.bits[i * N + c];
      }
      encrypt_glwe(key, row_message, noise, mask_rng, noise_rng,
                   out.subspan((i * levels.value + (j - 1)) * row_size, row_size));
    }
  }
}

void ggsw_to_fourier(std::span<const Torus> ggsw, GlweDimension k, PolynomialSize N, DecompositionLevelCount levels,
                     double* out) {
  const auto& fft = FourierTransform::get(N);
  const size_t columns = glwe_size(k);
  const size_t rows = columns * levels.value;
  const size_t n = N.value / 2;  // complex numbers per polynomial
  FHENN_REQUIRE_EQ(ggsw.size(), rows * columns * N.value);
  FHENN_REQUIRE_EQ(n % kernels::kGgswBlock, size_t{0});
  FourierBuffer poly(N.value);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns; ++c) {
      fft.forward_torus(ggsw.data() + (r * columns + c) * N.value, poly.data());
      for (size_t j = 0; j < n; ++j) {
        double* entry = out + kernels::fourier_ggsw_offset(rows, columns, j, r, c);
        entry[0] = poly[j];
        entry[kernels::kGgswBlock] = poly[j + n];
      }
    }
  }
}

size_t external_product_scratch_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels) {
  // digits (l * N int64), (k + 1) * l Fourier digit polynomials, k + 1 Fourier accumulators
  return (levels.value + glwe_size(k) * levels.value + glwe_size(k)) * N.value;
}

void external_product_add(const FourierGgswView& ggsw, std::span<const Torus> glwe_in, std::span<Torus> glwe_out,
                          std::span<double> scratch) {
  external_product_add_prefetching(ggsw, glwe_in, glwe_out, scratch, nullptr);
}

void external_product_add_prefetching(const FourierGgswView& ggsw, std::span<const Torus> glwe_in,
                                      std::span<Torus> glwe_out, std::span<double> scratch, const double* next_ggsw) {
  const size_t k1 = glwe_size(ggsw.glwe_dimension);
  const size_t N = ggsw.polynomial_size.value;
  const size_t levels = ggsw.levels.value;
  FHENN_REQUIRE_EQ(glwe_in.size(), k1 * N);
  FHENN_REQUIRE_EQ(glwe_out.size(), k1 * N);
  FHENN_REQUIRE_LE(external_product_scratch_size(ggsw.glwe_dimension, ggsw.polynomial_size, ggsw.levels),
                  scratch.size());
  const auto& fft = FourierTransform::get(ggsw.polynomial_size);
  auto* digits = reinterpret_cast<int64_t*>(scratch.data());
  double* digit_fourier = scratch.data() + levels * N;
  double* accumulators = digit_fourier + k1 * levels * N;
  const auto& k = kernels::active();
  // 1. decompose each input polynomial into l polynomials of balanced digits, forward FFT each (row i * l + j)
  for (size_t i = 0; i < k1; ++i) {
    k.decompose(digits, glwe_in.data() + i * N, N, ggsw.base_log.value, levels);
    for (size_t j = 0; j < levels; ++j) fft.forward_integer(digits + j * N, digit_fourier + (i * levels + j) * N);
  }
  // 2. all row products summed per output polynomial in one streaming pass over the GGSW
  k.fourier_ggsw_multiply(accumulators, digit_fourier, ggsw.data, k1 * levels, k1, N / 2, next_ggsw);
  // 3. one inverse FFT per output polynomial, added into the output
  for (size_t col = 0; col < k1; ++col) fft.backward_add_torus(accumulators + col * N, glwe_out.data() + col * N);
}

void external_product_reference(std::span<const Torus> ggsw, GlweDimension k, PolynomialSize N,
                                DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                std::span<const Torus> glwe_in, std::span<Torus> glwe_out) {
  const size_t k1 = glwe_size(k);
  const size_t n = N.value;
  const size_t l = levels.value;
  const SignedDecomposer decomposer(base_log, levels);
  std::fill(glwe_out.begin(), glwe_out.end(), Torus{0});
  std::vector<Torus> digit_poly(n), product(n);
  std::vector<std::vector<Torus>> digits(l, std::vector<Torus>(n));
  int64_t d[64];
  for (size_t i = 0; i < k1; ++i) {
    for (size_t c = 0; c < n; ++c) {
      decomposer.decompose(glwe_in[i * n + c], d);
      for (size_t j = 0; j < l; ++j) digits[j][c] = static_cast<Torus>(d[j]);
    }
    for (size_t j = 0; j < l; ++j) {
      const Torus* row = ggsw.data() + (i * l + j) * k1 * n;
      for (size_t col = 0; col < k1; ++col) {
        negacyclic_product_schoolbook(digits[j], std::span<const Torus>(row + col * n, n), product);
        for (size_t c = 0; c < n; ++c) glwe_out[col * n + c] += product[c];
      }
    }
  }
}

size_t cmux_scratch_size(GlweDimension k, PolynomialSize N, DecompositionLevelCount levels) {
  return glwe_size(k) * N.value + external_product_scratch_size(k, N, levels);
}

void cmux_rotate(const FourierGgswView& ggsw, size_t power, std::span<Torus> acc, std::span<double> scratch) {
  cmux_rotate_prefetching(ggsw, power, acc, scratch, nullptr);
}

void cmux_rotate_prefetching(const FourierGgswView& ggsw, size_t power, std::span<Torus> acc, std::span<double> scratch,
                             const double* next_ggsw) {
  if (power == 0) return;  // X^0 acc - acc = 0
  const size_t k1 = glwe_size(ggsw.glwe_dimension);
  const size_t N = ggsw.polynomial_size.value;
  auto* difference = reinterpret_cast<Torus*>(scratch.data());
  // X^power * acc - acc, polynomial by polynomial (power in [1, 2N))
  const auto& k = kernels::active();
  for (size_t p = 0; p < k1; ++p) k.rotate_difference(difference + p * N, acc.data() + p * N, N, power);
  external_product_add_prefetching(ggsw, std::span<const Torus>(difference, k1 * N), acc, scratch.subspan(k1 * N),
                                   next_ggsw);
}

void cmux(const FourierGgswView& ggsw, std::span<const Torus> ct0, std::span<const Torus> ct1, std::span<Torus> out,
          std::span<double> scratch) {
  const size_t size = ct0.size();
  auto* difference = reinterpret_cast<Torus*>(scratch.data());
  for (size_t i = 0; i < size; ++i) difference[i] = ct1[i] - ct0[i];
  std::copy(ct0.begin(), ct0.end(), out.begin());
  external_product_add(ggsw, std::span<const Torus>(difference, size), out, scratch.subspan(size));
}

}  // namespace fhenn::tfhe
