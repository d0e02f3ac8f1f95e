// Tests of the CSPRNG, encoding, gadget decomposition, FFT products and the AVX2 kernels against references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "../../src/tfhe/kernels.hpp"
#include "fhenn/tfhe/csprng.hpp"
#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/lwe.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

TEST(Csprng, FixedTestSeedIsReproducibleAndOsSeedsDiffer) {
  Csprng a = Csprng::for_tests_only(7), b = Csprng::for_tests_only(7), c = Csprng::for_tests_only(8);
  std::vector<uint64_t> xa(100), xb(100), xc(100);
  a.fill_uniform(xa);
  b.fill_uniform(xb);
  c.fill_uniform(xc);
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  Csprng o1 = Csprng::from_os(), o2 = Csprng::from_os();
  EXPECT_NE(o1.next_u64(), o2.next_u64());
}

TEST(Csprng, SeededStreamsAreIndependentAndReproducible) {
  Seed seed{};
  seed[0] = 1;
  Csprng s0 = Csprng::from_seed(seed, 0), s1 = Csprng::from_seed(seed, 1), s0b = Csprng::from_seed(seed, 0);
  const uint64_t v0 = s0.next_u64();
  EXPECT_EQ(v0, s0b.next_u64());
  EXPECT_NE(v0, s1.next_u64());
}

TEST(Csprng, UniformBitsAreBalanced) {
  Csprng rng = Csprng::for_tests_only(1);
  std::vector<uint64_t> bits(100000);
  rng.fill_binary(bits);
  const double ones = static_cast<double>(std::count(bits.begin(), bits.end(), 1u));
  EXPECT_TRUE(std::all_of(bits.begin(), bits.end(), [](uint64_t b) { return b <= 1; }));
  EXPECT_NEAR(ones / 100000.0, 0.5, 5 * 0.5 / std::sqrt(100000.0));
}

TEST(Csprng, GaussianHasTheRequestedStandardDeviation) {
  Csprng rng = Csprng::for_tests_only(2);
  const double stddev = 0x1p-20;
  std::vector<double> xs(20000);
  for (auto& x : xs) x = torus_to_signed_double(rng.gaussian_torus(stddev));
  EXPECT_NEAR(testing::mean(xs), 0.0, 5 * stddev / std::sqrt(20000.0));
  EXPECT_TRUE(testing::variance_matches(xs, stddev * stddev, 5, 0.0));
}

TEST(Csprng, TUniformStaysInItsBoundWithTheFormulaVariance) {
  Csprng rng = Csprng::for_tests_only(3);
  const int b = 4;
  std::vector<double> xs(40000);
  bool endpoints_seen = false;
  for (auto& x : xs) {
    const auto v = static_cast<int64_t>(rng.t_uniform_torus(b));
    ASSERT_LE(std::abs(v), 16);
    endpoints_seen |= std::abs(v) == 16;
    x = static_cast<double>(v);
  }
  EXPECT_TRUE(endpoints_seen);
  const double variance = NoiseDistribution::tuniform(b).variance() * 0x1p128;  // integer units
  EXPECT_TRUE(testing::variance_matches(xs, variance, 5, 0.0));
}

TEST(Encoding, MessagesRoundTripWithNoiseBelowHalfDelta) {
  for (size_t p = 1; p <= 8; ++p) {
    const Torus half_delta_minus = (Torus{1} << (62 - p)) - 1;
    for (int64_t m = 0; m < (int64_t{1} << p); ++m) {
      EXPECT_EQ(decode_message(encode_message(m, p) + half_delta_minus, p), static_cast<uint64_t>(m));
      EXPECT_EQ(decode_message(encode_message(m, p) - half_delta_minus, p), static_cast<uint64_t>(m));
    }
    EXPECT_EQ(encode_message(1, p), Torus{1} << (63 - p));
  }
}

TEST(Decomposition, RecomposesToTheClosestRepresentableWithBalancedDigits) {
  Csprng rng = Csprng::for_tests_only(4);
  for (auto [base_log, levels] : {std::pair<size_t, size_t>{2, 8}, {7, 3}, {23, 1}, {15, 2}, {4, 4}}) {
    const SignedDecomposer d{DecompositionBaseLog(base_log), DecompositionLevelCount(levels)};
    int64_t digits[64];
    for (int t = 0; t < 2000; ++t) {
      const Torus x = rng.next_u64();
      d.decompose(x, digits);
      EXPECT_EQ(d.recompose(digits), d.closest_representable(x));
      for (size_t j = 0; j < levels; ++j) {
        EXPECT_GE(digits[j], -(int64_t{1} << (base_log - 1)));
        EXPECT_LT(digits[j], int64_t{1} << (base_log - 1));
      }
      // the rounding error is at most half the last level's weight
      const auto error = static_cast<int64_t>(x - d.closest_representable(x));
      EXPECT_LE(std::abs(static_cast<double>(error)), std::ldexp(1.0, 63 - static_cast<int>(base_log * levels)));
    }
  }
}

TEST(Decomposition, PolynomialKernelsMatchTheScalarDecomposer) {
  Csprng rng = Csprng::for_tests_only(5);
  const size_t count = 1024;
  std::vector<uint64_t> values(count);
  rng.fill_uniform(values);
  for (const auto* table : {&kernels::portable_table(), &kernels::active()}) {
    for (auto [base_log, levels] : {std::pair<size_t, size_t>{7, 3}, {23, 1}, {2, 8}}) {
      std::vector<int64_t> digits(count * levels);
      table->decompose(digits.data(), values.data(), count, base_log, levels);
      const SignedDecomposer d{DecompositionBaseLog(base_log), DecompositionLevelCount(levels)};
      int64_t expected[64];
      for (size_t c = 0; c < count; ++c) {
        d.decompose(values[c], expected);
        for (size_t j = 0; j < levels; ++j) ASSERT_EQ(digits[j * count + c], expected[j]) << table->name;
      }
    }
  }
}

TEST(Kernels, Avx2AndPortableAgree) {
  const auto& fast = kernels::active();
  const auto& portable = kernels::portable_table();
  Csprng rng = Csprng::for_tests_only(6);
  const size_t half = 512;
  FourierBuffer a(2 * half), b(2 * half), acc1(2 * half, 1.0), acc2(2 * half, 1.0), twist(2 * half);
  for (size_t i = 0; i < 2 * half; ++i) {
    a[i] = rng.standard_normal() * 1e6;
    b[i] = rng.standard_normal();
    twist[i] = rng.standard_normal();
  }
  fast.complex_multiply_add(acc1.data(), a.data(), b.data(), half);
  portable.complex_multiply_add(acc2.data(), a.data(), b.data(), half);
  for (size_t i = 0; i < 2 * half; ++i) EXPECT_NEAR(acc1[i], acc2[i], 1e-6 * (1 + std::abs(acc2[i])));
  std::vector<int64_t> ints(2 * half);
  for (auto& v : ints) v = static_cast<int64_t>(rng.next_u64());  // full 64-bit range (key material)
  FourierBuffer t1(2 * half), t2(2 * half);
  fast.twist_int64(t1.data(), ints.data(), twist.data(), half);
  portable.twist_int64(t2.data(), ints.data(), twist.data(), half);
  for (size_t i = 0; i < 2 * half; ++i) EXPECT_NEAR(t1[i], t2[i], 1e-12 * std::abs(t2[i]) + 1e-3);
  // untwist: values far beyond 2^64 wrap to the same integers
  FourierBuffer big(2 * half);
  for (size_t i = 0; i < 2 * half; ++i) big[i] = rng.standard_normal() * 0x1p90;
  std::vector<uint64_t> o1(2 * half, 5), o2(2 * half, 5);
  fast.untwist_to_torus(o1.data(), big.data(), twist.data(), half, true);
  portable.untwist_to_torus(o2.data(), big.data(), twist.data(), half, true);
  for (size_t i = 0; i < 2 * half; ++i) {
    const auto diff = static_cast<int64_t>(o1[i] - o2[i]);
    EXPECT_LE(std::abs(static_cast<double>(diff)), 0x1p40) << i;  // both within one ulp of a ~2^90 product
  }
  std::vector<uint64_t> row(1000), s1(1000, 3), s2(1000, 3);
  rng.fill_uniform(row);
  fast.subtract_scaled(s1.data(), row.data(), -7, 1000);
  portable.subtract_scaled(s2.data(), row.data(), -7, 1000);
  EXPECT_EQ(s1, s2);
}

// The own FFT: the vector passes equal the reference stages, the backward undoes the forward (times m), and the
// forward is a DFT (in bit-reversed order): checked against the direct sum for one size.
TEST(Kernels, FftVectorPassesMatchTheReferenceAndInvert) {
  const auto& fast = kernels::active();
  Csprng rng = Csprng::for_tests_only(7);
  for (size_t m : {2, 4, 8, 16, 32, 64, 512, 1024, 2048}) {
    FourierBuffer twiddles(2 * m);
    for (size_t h = m / 2; h >= 1; h /= 2) {
      for (size_t j = 0; j < h; ++j) {
        twiddles[kernels::fft_twiddle_offset(m, h) + j] =
            std::cos(M_PI * static_cast<double>(j) / static_cast<double>(h));
        twiddles[kernels::fft_twiddle_offset(m, h) + h + j] =
            -std::sin(M_PI * static_cast<double>(j) / static_cast<double>(h));
      }
    }
    FourierBuffer data(2 * m), expected(2 * m);
    for (auto& v : data) v = rng.standard_normal();
    const FourierBuffer original = data;
    expected = data;
    fast.fft_forward(data.data(), twiddles.data(), m);
    kernels::fft_forward_reference(expected.data(), twiddles.data(), m);
    for (size_t i = 0; i < 2 * m; ++i) ASSERT_NEAR(data[i], expected[i], 1e-12 * static_cast<double>(m)) << m;
    if (m == 16) {  // output slot s holds the DFT at frequency bitreverse(s)
      for (size_t s = 0; s < m; ++s) {
        size_t f = 0;
        for (size_t b = 1, r = m / 2; b < m; b <<= 1, r >>= 1) f |= (s & b) ? r : 0;
        double re = 0, im = 0;
        for (size_t t = 0; t < m; ++t) {
          const double angle = -2 * M_PI * static_cast<double>(f * t) / static_cast<double>(m);
          re += original[t] * std::cos(angle) - original[t + m] * std::sin(angle);
          im += original[t] * std::sin(angle) + original[t + m] * std::cos(angle);
        }
        EXPECT_NEAR(data[s], re, 1e-12);
        EXPECT_NEAR(data[s + m], im, 1e-12);
      }
    }
    FourierBuffer back = data;
    fast.fft_backward(back.data(), twiddles.data(), m);
    kernels::fft_backward_reference(data.data(), twiddles.data(), m);
    for (size_t i = 0; i < 2 * m; ++i) {
      ASSERT_NEAR(back[i], data[i], 1e-10 * static_cast<double>(m)) << m;
      ASSERT_NEAR(back[i] / static_cast<double>(m), original[i], 1e-12) << m;
    }
  }
}

TEST(Kernels, FourierGgswMultiplyMatchesTheReference) {
  const auto& fast = kernels::active();
  Csprng rng = Csprng::for_tests_only(8);
  const size_t n = 256;
  // (k + 1) * l rows by k + 1 columns: k = 1, 2 and 4 (the kernel's fixed-width paths) and k = 6 (its general one)
  for (const auto& [rows, columns] : {std::pair<size_t, size_t>{6, 2}, {3, 3}, {2, 2}, {10, 5}, {7, 7}}) {
    FourierBuffer digits(rows * 2 * n), ggsw(rows * columns * 2 * n), out1(columns * 2 * n, 7.0), out2(out1.size());
    for (auto& v : digits) v = rng.standard_normal() * 1e3;
    for (auto& v : ggsw) v = rng.standard_normal() * 1e15;
    fast.fourier_ggsw_multiply(out1.data(), digits.data(), ggsw.data(), rows, columns, n, ggsw.data());
    kernels::fourier_ggsw_multiply_reference(out2.data(), digits.data(), ggsw.data(), rows, columns, n, nullptr);
    for (size_t i = 0; i < out1.size(); ++i)
      ASSERT_NEAR(out1[i], out2[i], 1e-12 * 1e18 * std::sqrt(rows)) << rows << "x" << columns << " at " << i;
  }
}

TEST(Kernels, VectorWrapMatchesScalarWrapOnIntegersAndBoundaries) {
  const auto& fast = kernels::active();
  const auto& portable = kernels::portable_table();
  Csprng rng = Csprng::for_tests_only(9);
  const size_t half = 64;
  std::vector<double> values = {0.0,      -0.0,   1.0,     -1.0,    0.75,    -0.75,           0x1p52 + 1,
                                -0x1p53,  0x1p63, -0x1p63, 0x1p64,  -0x1p64, 0x1p64 + 0x1p20, 0x1p70 + 0x1p30,
                                -0x1p100, 3.0e25, 1e-300,  0x1.8p62};
  while (values.size() < 2 * half)
    values.push_back(std::ldexp(std::trunc(rng.standard_normal() * 0x1p40), static_cast<int>(rng.next_u64() % 60)));
  FourierBuffer in(values.begin(), values.end()), identity(2 * half, 0.0);
  std::fill(identity.begin(), identity.begin() + half, 1.0);  // multiply by 1 + 0i
  std::vector<uint64_t> o1(2 * half, 3), o2(2 * half, 3);
  fast.untwist_to_torus(o1.data(), in.data(), identity.data(), half, false);
  portable.untwist_to_torus(o2.data(), in.data(), identity.data(), half, false);
  EXPECT_EQ(o1, o2);
}

TEST(Kernels, WrapToTorusHandlesHugeAndBoundaryValues) {
  EXPECT_EQ(kernels::wrap_to_torus(0x1p64 + 0x1p20), uint64_t{1} << 20);
  EXPECT_EQ(kernels::wrap_to_torus(-3.0), static_cast<uint64_t>(-3));
  EXPECT_EQ(kernels::wrap_to_torus(0x1p63), uint64_t{1} << 63);
  EXPECT_EQ(kernels::wrap_to_torus(0x1p100), 0u);
  EXPECT_EQ(kernels::wrap_to_torus(0x1p80 + 0x1p30), uint64_t{0} + (uint64_t{1} << 30));
}

std::vector<Torus> random_torus(size_t n, Csprng& rng) {
  std::vector<Torus> v(n);
  rng.fill_uniform(v);
  return v;
}

TEST(NegacyclicProduct, MonomialMultiplicationMatchesSchoolbook) {
  Csprng rng = Csprng::for_tests_only(9);
  const size_t N = 64;
  const auto a = random_torus(N, rng);
  for (size_t power : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{127}}) {
    std::vector<Torus> monomial(N, 0), expected(N), got(N);
    if (power < N) {
      monomial[power] = 1;
    } else {
      monomial[power - N] = Torus{0} - 1;
    }
    negacyclic_product_schoolbook(a, monomial, expected);
    multiply_by_monomial(a, power, got);
    EXPECT_EQ(got, expected) << power;
  }
}

TEST(NegacyclicProduct, FftMatchesSchoolbookWithinThePrecisionBound) {
  Csprng rng = Csprng::for_tests_only(10);
  for (size_t N : {size_t{64}, size_t{512}, size_t{2048}}) {
    const auto a = random_torus(N, rng);
    std::vector<int64_t> digits(N);
    std::vector<Torus> digits_torus(N);
    for (size_t j = 0; j < N; ++j) {
      digits[j] = static_cast<int64_t>(rng.next_u64() % 256) - 128;  // base 2^8 digits
      digits_torus[j] = static_cast<Torus>(digits[j]);
    }
    std::vector<Torus> expected(N), got(N);
    negacyclic_product_schoolbook(a, digits_torus, expected);
    negacyclic_product_fft(a, digits, got);
    double max_error = 0;
    for (size_t j = 0; j < N; ++j) {
      max_error = std::max(max_error, std::abs(torus_to_signed_double(got[j] - expected[j])));
    }
    // |result| ~ 2^63 * 2^7 * sqrt(N); double precision loses ~2^-53 of it (times a log N factor): the FFT
    // noise term, far below any noise level of the sets.
    EXPECT_LT(max_error, std::ldexp(1.0, -53 + 8 + 4) * std::sqrt(static_cast<double>(N))) << "N=" << N;
  }
}

TEST(NegacyclicProduct, ExactLimbProductEqualsSchoolbook) {
  Csprng rng = Csprng::for_tests_only(11);
  for (size_t N : {size_t{64}, size_t{1024}}) {
    const auto a = random_torus(N, rng);
    std::vector<int64_t> key(N);
    std::vector<Torus> key_torus(N);
    for (size_t j = 0; j < N; ++j) {
      key[j] = static_cast<int64_t>(rng.next_u64() & 1);
      key_torus[j] = static_cast<Torus>(key[j]);
    }
    const ExactSmallProduct product(key, PolynomialSize(N));
    FourierBuffer scratch(product.scratch_size());
    std::vector<Torus> expected(N), got(N, 0);
    negacyclic_product_schoolbook(a, key_torus, expected);
    product.multiply_add(a, got, scratch);
    EXPECT_EQ(got, expected) << "N=" << N;
  }
}

}  // namespace
}  // namespace fhenn::tfhe
