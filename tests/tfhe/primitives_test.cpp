// Tests of the CSPRNG, encoding, gadget decomposition, FFT products and the vector kernels (AVX2, AVX-512) against
// references.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "../../src/tfhe/kernels.hpp"
#include "fhenn/tfhe/csprng.hpp"
#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/lwe.hpp"
#include "statistics.hpp"
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
  EXPECT_TRUE(testing::variance_within_chi_square(xs, stddev * stddev));  // exact: normal samples
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
  EXPECT_TRUE(testing::variance_within_chi_square(xs, variance));               // conservative: TUniform is platykurtic
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

// The vector builds of the kernels this CPU runs (AVX2, AVX-512); active() alone when it runs neither.
std::vector<const kernels::Table*> vector_tables() {
  std::vector<const kernels::Table*> tables;
  if (kernels::avx2_supported()) tables.push_back(&kernels::avx2_table());
  if (kernels::avx512_supported()) tables.push_back(&kernels::avx512_table());
  if (tables.empty()) tables.push_back(&kernels::active());
  return tables;
}

// The twiddle table of an m-point FFT (layout of kernels::fft_twiddle_offset), as FourierTransform builds it.
FourierBuffer fft_twiddles(size_t m) {
  FourierBuffer twiddles(2 * m);
  for (size_t h = m / 2; h >= 1; h /= 2) {
    for (size_t j = 0; j < h; ++j) {
      twiddles[kernels::fft_twiddle_offset(m, h) + j] =
          std::cos(M_PI * static_cast<double>(j) / static_cast<double>(h));
      twiddles[kernels::fft_twiddle_offset(m, h) + h + j] =
          -std::sin(M_PI * static_cast<double>(j) / static_cast<double>(h));
    }
  }
  return twiddles;
}

// The twist zeta^j and the inverse twist zeta^-j / half (zeta = e^(i pi / N), N = 2 half), split.
std::pair<FourierBuffer, FourierBuffer> fft_twists(size_t half) {
  FourierBuffer twist(2 * half), inverse(2 * half);
  for (size_t j = 0; j < half; ++j) {
    const double angle = M_PI * static_cast<double>(j) / static_cast<double>(2 * half);
    twist[j] = std::cos(angle);
    twist[j + half] = std::sin(angle);
    inverse[j] = std::cos(angle) / static_cast<double>(half);
    inverse[j + half] = -std::sin(angle) / static_cast<double>(half);
  }
  return {twist, inverse};
}

// Bit-for-bit equality of two double arrays (the AVX-512 build repeats the AVX2 build's operations exactly).
template <typename A, typename B>
void expect_same_bits(const A& got, const B& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  size_t differing = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::bit_cast<uint64_t>(static_cast<double>(got[i])) !=
            std::bit_cast<uint64_t>(static_cast<double>(expected[i])) &&
        differing++ == 0)
      first = i;
  }
  EXPECT_EQ(differing, 0u) << what << ": first at " << first << " (" << got[first] << " vs " << expected[first] << ")";
}

TEST(Decomposition, PolynomialKernelsMatchTheScalarDecomposer) {
  Csprng rng = Csprng::for_tests_only(5);
  const size_t count = 1024;
  std::vector<uint64_t> values(count);
  rng.fill_uniform(values);
  std::vector<const kernels::Table*> tables = vector_tables();
  tables.push_back(&kernels::portable_table());
  for (const auto* table : tables) {
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

// One vector build against the portable one on the pointwise loops.
void vector_build_agrees_with_portable(const kernels::Table& fast) {
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

TEST(Kernels, Avx2AndPortableAgree) {
  for (const auto* table : vector_tables()) {
    SCOPED_TRACE(table->name);
    vector_build_agrees_with_portable(*table);
  }
}

// One build's FFT pair against the reference stages (see FftVectorPassesMatchTheReferenceAndInvert).
void fft_passes_match_the_reference_and_invert(const kernels::Table& fast) {
  SCOPED_TRACE(fast.name);
  Csprng rng = Csprng::for_tests_only(7);
  for (size_t m : {2, 4, 8, 16, 32, 64, 512, 1024, 2048}) {
    const FourierBuffer twiddles = fft_twiddles(m);
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

// The own FFT: the vector passes equal the reference stages, the backward undoes the forward (times m), and the
// forward is a DFT (in bit-reversed order): checked against the direct sum for one size.
TEST(Kernels, FftVectorPassesMatchTheReferenceAndInvert) {
  for (const auto* table : vector_tables()) fft_passes_match_the_reference_and_invert(*table);
}

TEST(Kernels, FourierGgswMultiplyMatchesTheReference) {
  Csprng rng = Csprng::for_tests_only(8);
  const size_t n = 256;
  // (k + 1) * l rows by k + 1 columns: k = 1, 2 and 4 (the kernel's fixed-width paths) and k = 6 (its general one)
  for (const auto* table : vector_tables()) {
    const auto& fast = *table;
    SCOPED_TRACE(fast.name);
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
}

TEST(Kernels, VectorWrapMatchesScalarWrapOnIntegersAndBoundaries) {
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
  std::vector<uint64_t> expected(2 * half, 3);
  portable.untwist_to_torus(expected.data(), in.data(), identity.data(), half, false);
  for (const auto* table : vector_tables()) {
    std::vector<uint64_t> got(2 * half, 3);
    table->untwist_to_torus(got.data(), in.data(), identity.data(), half, false);
    EXPECT_EQ(got, expected) << table->name;
  }
}

TEST(Kernels, WrapToTorusHandlesHugeAndBoundaryValues) {
  EXPECT_EQ(kernels::wrap_to_torus(0x1p64 + 0x1p20), uint64_t{1} << 20);
  EXPECT_EQ(kernels::wrap_to_torus(-3.0), static_cast<uint64_t>(-3));
  EXPECT_EQ(kernels::wrap_to_torus(0x1p63), uint64_t{1} << 63);
  EXPECT_EQ(kernels::wrap_to_torus(0x1p100), 0u);
  EXPECT_EQ(kernels::wrap_to_torus(0x1p80 + 0x1p30), uint64_t{0} + (uint64_t{1} << 30));
}

// ---- The AVX-512 build: the AVX2 build's operations on eight lanes, so its results are the AVX2 build's bit for bit
// (and so within the reference's precision bounds, checked above for every vector build).

TEST(Kernels, ActiveIsTheBestSupportedBuildUnlessForced) {
  const auto forced = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && value[0] == '1';
  };
  const std::string name = kernels::active().name;
  if (forced("FHENN_TFHE_PORTABLE")) {
    EXPECT_EQ(name, "portable");
  } else if (kernels::avx512_supported() && !forced("FHENN_TFHE_AVX2")) {
    EXPECT_EQ(name, "avx512");
  } else if (kernels::avx2_supported()) {
    EXPECT_EQ(name, "avx2+fma");
  } else {
    EXPECT_EQ(name, "portable");
  }
  EXPECT_TRUE(!kernels::avx512_supported() || kernels::avx2_supported());
}

// Every FFT size of the parameter sets (m = N/2 = 256 .. 16384) and the small ones (other code paths): forward and
// backward equal the AVX2 build's bit for bit, and the reference stages within the FFT precision bound.
TEST(Kernels, Avx512FftEqualsAvx2BitForBitAtEverySize) {
  if (!kernels::avx512_supported()) GTEST_SKIP() << "this CPU has no AVX-512 F/DQ/VL";
  const auto& avx512 = kernels::avx512_table();
  const auto& avx2 = kernels::avx2_table();
  Csprng rng = Csprng::for_tests_only(11);
  for (size_t m = 2; m <= 16384; m *= 2) {
    const std::string size = "m = " + std::to_string(m);
    const FourierBuffer twiddles = fft_twiddles(m);
    FourierBuffer data(2 * m);
    for (auto& v : data) v = rng.standard_normal() * 0x1p40;
    FourierBuffer forward512 = data, forward2 = data, reference = data;
    avx512.fft_forward(forward512.data(), twiddles.data(), m);
    avx2.fft_forward(forward2.data(), twiddles.data(), m);
    kernels::fft_forward_reference(reference.data(), twiddles.data(), m);
    expect_same_bits(forward512, forward2, "forward, " + size);
    const double bound = 1e-12 * static_cast<double>(m) * 0x1p40;
    for (size_t i = 0; i < 2 * m; ++i) ASSERT_NEAR(forward512[i], reference[i], bound) << size << " at " << i;
    FourierBuffer back512 = forward512, back2 = forward512;
    avx512.fft_backward(back512.data(), twiddles.data(), m);
    avx2.fft_backward(back2.data(), twiddles.data(), m);
    expect_same_bits(back512, back2, "backward, " + size);
    for (size_t i = 0; i < 2 * m; ++i)
      ASSERT_NEAR(back512[i] / static_cast<double>(m), data[i], 1e-12 * 0x1p40) << size << " at " << i;
  }
}

// The fused transforms of FourierTransform (twist + forward, backward + untwist) for N = 512 .. 32768: bit for bit
// the AVX2 build's (Fourier values and torus words), and small integer polynomials come back exactly.
TEST(Kernels, Avx512FusedTransformsEqualAvx2AndRoundTrip) {
  if (!kernels::avx512_supported()) GTEST_SKIP() << "this CPU has no AVX-512 F/DQ/VL";
  const auto& avx512 = kernels::avx512_table();
  const auto& avx2 = kernels::avx2_table();
  Csprng rng = Csprng::for_tests_only(12);
  for (size_t half = 256; half <= 16384; half *= 2) {
    const std::string size = "N = " + std::to_string(2 * half);
    const FourierBuffer twiddles = fft_twiddles(half);
    const auto [twist, inverse_twist] = fft_twists(half);
    std::vector<int64_t> poly(2 * half);
    for (auto& v : poly) v = static_cast<int64_t>(rng.next_u64() % 2001) - 1000;
    FourierBuffer f512(2 * half), f2(2 * half);
    avx512.forward_from_int64(f512.data(), poly.data(), twist.data(), twiddles.data(), half);
    avx2.forward_from_int64(f2.data(), poly.data(), twist.data(), twiddles.data(), half);
    expect_same_bits(f512, f2, "forward_from_int64, " + size);
    // backward (out = ...): the polynomial itself, mod 2^64
    FourierBuffer scratch512 = f512, scratch2 = f512;
    std::vector<uint64_t> t512(2 * half, 9), t2(2 * half, 9);
    avx512.backward_to_torus(t512.data(), scratch512.data(), inverse_twist.data(), twiddles.data(), half, false);
    avx2.backward_to_torus(t2.data(), scratch2.data(), inverse_twist.data(), twiddles.data(), half, false);
    EXPECT_EQ(t512, t2) << size;
    for (size_t i = 0; i < 2 * half; ++i) ASSERT_EQ(t512[i], static_cast<uint64_t>(poly[i])) << size << " at " << i;
    // backward (out += ...) of a full-range torus polynomial's transform: wraps modulo 2^64 like the AVX2 build
    for (auto& v : poly) v = static_cast<int64_t>(rng.next_u64());
    avx512.forward_from_int64(f512.data(), poly.data(), twist.data(), twiddles.data(), half);
    for (size_t i = 0; i < 2 * half; ++i) f512[i] *= 0x1p20;  // products with digits reach far beyond 2^64
    scratch512 = f512;
    scratch2 = f512;
    avx512.backward_to_torus(t512.data(), scratch512.data(), inverse_twist.data(), twiddles.data(), half, true);
    avx2.backward_to_torus(t2.data(), scratch2.data(), inverse_twist.data(), twiddles.data(), half, true);
    EXPECT_EQ(t512, t2) << size;
  }
}

// The pointwise loops on full registers and on masked tails (counts that are not multiples of 8): twist and
// product equal the AVX2 build's bit for bit where that build runs (its aligned loads need multiples of 4), and the
// portable build's within rounding everywhere; the untwist (exact integers, ties away from zero) equals the AVX2
// build's, and the portable one's within an ulp of the product.
TEST(Kernels, Avx512PointwiseLoopsEqualAvx2AndPortable) {
  if (!kernels::avx512_supported()) GTEST_SKIP() << "this CPU has no AVX-512 F/DQ/VL";
  const auto& avx512 = kernels::avx512_table();
  const auto& avx2 = kernels::avx2_table();
  const auto& portable = kernels::portable_table();
  Csprng rng = Csprng::for_tests_only(13);
  for (size_t half : {1, 3, 4, 5, 8, 12, 13, 256, 1024, 16384}) {
    const std::string size = "half = " + std::to_string(half);
    const bool avx2_vector_lanes = half % 4 == 0;
    const auto [twist, inverse_twist] = fft_twists(half);
    // twist of full-range 64-bit integers (key material)
    std::vector<int64_t> ints(2 * half);
    for (auto& v : ints) v = static_cast<int64_t>(rng.next_u64());
    FourierBuffer w512(2 * half), w2(2 * half), wp(2 * half);
    avx512.twist_int64(w512.data(), ints.data(), twist.data(), half);
    portable.twist_int64(wp.data(), ints.data(), twist.data(), half);
    if (avx2_vector_lanes) {
      avx2.twist_int64(w2.data(), ints.data(), twist.data(), half);
      expect_same_bits(w512, w2, "twist_int64, " + size);
    }
    for (size_t i = 0; i < 2 * half; ++i) ASSERT_NEAR(w512[i], wp[i], 1e-15 * 0x1p64) << size << " at " << i;
    // acc += a * b
    FourierBuffer a(2 * half), b(2 * half), acc512(2 * half), acc2(2 * half), accp(2 * half);
    for (size_t i = 0; i < 2 * half; ++i) {
      a[i] = rng.standard_normal() * 1e6;
      b[i] = rng.standard_normal();
      acc512[i] = acc2[i] = accp[i] = rng.standard_normal();
    }
    avx512.complex_multiply_add(acc512.data(), a.data(), b.data(), half);
    portable.complex_multiply_add(accp.data(), a.data(), b.data(), half);
    if (avx2_vector_lanes) {
      avx2.complex_multiply_add(acc2.data(), a.data(), b.data(), half);
      expect_same_bits(acc512, acc2, "complex_multiply_add, " + size);
    }
    // products up to ~3e7: a few ulps (3.7e-9) apart without FMA
    for (size_t i = 0; i < 2 * half; ++i) ASSERT_NEAR(acc512[i], accp[i], 1e-7) << size << " at " << i;
    // untwist to the torus: huge values (wrap mod 2^64), exact ties (away from zero in both vector builds), both
    // with out = and out +=; multiplied by 1 + 0i, the vector builds agree on every lane
    FourierBuffer values(2 * half), identity(2 * half, 0.0);
    std::fill(identity.begin(), identity.begin() + static_cast<std::ptrdiff_t>(half), 1.0);
    // ties, the largest doubles below 1/2, the edges of 2^52, 2^63, 2^64 and of the reduction's range (2^117)
    const double special[] = {2.5,
                              -2.5,
                              0.5,
                              -0.5,
                              0x1.fffffffffffffp-2,
                              -1.5,
                              0x1p51 + 0.5,
                              -0x1p52 + 0.5,
                              0x1p52 + 1,
                              0x1p63,
                              -0x1p63,
                              0x1p63 - 1024,
                              0x1p63 + 2048,
                              0x1.8p63,
                              0x1p64 - 2048,
                              -0x1p64,
                              0x1p117,
                              0x1p117 + 0x1p65,
                              -0x1.8p118,
                              0x1p200,
                              -0.0,
                              1e-300};
    const size_t specials = sizeof(special) / sizeof(special[0]);
    for (size_t i = 0; i < 2 * half; ++i) {
      values[i] = i % 2 == 0 ? special[(i / 2) % specials]
                             : rng.standard_normal() * std::ldexp(1.0, static_cast<int>(rng.next_u64() % 100));
    }
    for (bool add : {false, true}) {
      std::vector<uint64_t> u512(2 * half, 7), u2(2 * half, 7), up(2 * half, 7);
      avx512.untwist_to_torus(u512.data(), values.data(), identity.data(), half, add);
      if (avx2_vector_lanes) {
        avx2.untwist_to_torus(u2.data(), values.data(), identity.data(), half, add);
        EXPECT_EQ(u512, u2) << size << (add ? ", add" : "");
      }
      // the twisted products: the portable build's rounding (no FMA, ties to even) within an ulp of the product
      std::fill(u512.begin(), u512.end(), 7);
      avx512.untwist_to_torus(u512.data(), values.data(), inverse_twist.data(), half, add);
      portable.untwist_to_torus(up.data(), values.data(), inverse_twist.data(), half, add);
      for (size_t i = 0; i < 2 * half; ++i) {
        const size_t j = i % half;
        const double ulps = 0x1p-50 * (std::abs(values[j]) + std::abs(values[j + half])) + 1.0;
        ASSERT_LE(std::abs(static_cast<double>(static_cast<int64_t>(u512[i] - up[i]))), ulps) << size << " at " << i;
      }
    }
  }
}

// The integer loops (exact): the gadget decomposition and the key switch's row update equal the portable build's
// on full registers and masked tails, for the decompositions of the parameter sets.
TEST(Kernels, Avx512IntegerLoopsEqualPortable) {
  if (!kernels::avx512_supported()) GTEST_SKIP() << "this CPU has no AVX-512 F/DQ/VL";
  const auto& avx512 = kernels::avx512_table();
  const auto& portable = kernels::portable_table();
  Csprng rng = Csprng::for_tests_only(14);
  for (size_t count : {1, 7, 13, 867, 1024, 2048}) {
    std::vector<uint64_t> values(count);
    rng.fill_uniform(values);
    for (auto [base_log, levels] : {std::pair<size_t, size_t>{19, 1}, {7, 3}, {5, 3}, {2, 8}, {23, 1}, {15, 2}}) {
      std::vector<int64_t> got(count * levels + 1, 42), expected(count * levels + 1, 42);  // + 1: no overrun
      avx512.decompose(got.data(), values.data(), count, base_log, levels);
      portable.decompose(expected.data(), values.data(), count, base_log, levels);
      EXPECT_EQ(got, expected) << count << " values, " << base_log << "x" << levels;
    }
    // rows at every alignment (the AVX-512 loop aligns its loads from the row)
    for (size_t offset = 0; offset < std::min<size_t>(count, 8); ++offset) {
      std::vector<uint64_t> got(count + 1, 3), expected(count + 1, 3);
      for (int64_t digit : {int64_t{-16}, int64_t{1}, int64_t{15}, int64_t{-(int64_t{1} << 40)}}) {
        avx512.subtract_scaled(got.data(), values.data() + offset, digit, count - offset);
        portable.subtract_scaled(expected.data(), values.data() + offset, digit, count - offset);
      }
      EXPECT_EQ(got, expected) << count << " values, row offset " << offset;
    }
  }
}

// The GGSW product, for the column counts of its fixed-width paths (k = 1, 2, 3, 4) and the general one (k = 6),
// at the sizes of the parameter sets: bit for bit the AVX2 build's (each lane accumulates in the same FMA order).
TEST(Kernels, Avx512FourierGgswMultiplyEqualsAvx2BitForBit) {
  if (!kernels::avx512_supported()) GTEST_SKIP() << "this CPU has no AVX-512 F/DQ/VL";
  Csprng rng = Csprng::for_tests_only(16);
  for (size_t n : {4, 256, 1024}) {
    for (const auto& [rows, columns] : {std::pair<size_t, size_t>{2, 2}, {6, 2}, {3, 3}, {4, 4}, {10, 5}, {7, 7}}) {
      FourierBuffer digits(rows * 2 * n), ggsw(rows * columns * 2 * n), out512(columns * 2 * n, 7.0),
          out2(out512.size(), 5.0);
      for (auto& v : digits) v = std::round(rng.standard_normal() * 1e3);
      for (auto& v : ggsw) v = rng.standard_normal() * 1e15;
      kernels::avx512_table().fourier_ggsw_multiply(out512.data(), digits.data(), ggsw.data(), rows, columns, n,
                                                    ggsw.data());
      kernels::avx2_table().fourier_ggsw_multiply(out2.data(), digits.data(), ggsw.data(), rows, columns, n, nullptr);
      expect_same_bits(out512, out2,
                       std::to_string(rows) + "x" + std::to_string(columns) + ", n = " + std::to_string(n));
    }
  }
}

// The CMUX's input X^power * in - in: every build against the monomial product, for every kind of power (no
// rotation past X^N, past it once, the edges 1, N - 1, N, N + 1, 2N - 1) and sizes with and without masked tails.
TEST(Kernels, RotateDifferenceMatchesTheMonomialProduct) {
  Csprng rng = Csprng::for_tests_only(15);
  std::vector<const kernels::Table*> tables = vector_tables();
  tables.push_back(&kernels::portable_table());
  for (size_t N : {4, 12, 512, 2048}) {
    std::vector<Torus> in(N), rotated(N);
    rng.fill_uniform(in);
    for (size_t power : {size_t{1}, N / 2 + 3, N - 1, N, N + 1, N + N / 3, 2 * N - 1}) {
      multiply_by_monomial(in, power, rotated);
      std::vector<Torus> expected(N);
      for (size_t j = 0; j < N; ++j) expected[j] = rotated[j] - in[j];
      for (const auto* table : tables) {
        std::vector<Torus> got(N + 1, 7);  // + 1: no overrun
        table->rotate_difference(got.data(), in.data(), N, power);
        EXPECT_EQ(got.back(), 7u) << table->name;
        got.pop_back();
        EXPECT_EQ(got, expected) << table->name << ", N = " << N << ", power = " << power;
      }
    }
  }
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
