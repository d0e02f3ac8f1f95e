// Tests of LWE/GLWE/GGSW encryption, linear operations, key switching, external product, CMUX, blind rotation,
// sample extraction and modulus switching, each against its definition.
#include <gtest/gtest.h>

#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/bootstrap.hpp"
#include "fhenn/tfhe/glwe.hpp"
#include "fhenn/tfhe/lwe.hpp"
#include "tfhe_test_support.hpp"

namespace fhenn::tfhe {
namespace {

const NoiseDistribution kSmallNoise = NoiseDistribution::gaussian(0x1p-40);

double phase_error(Torus phase, Torus expected) { return std::abs(torus_to_signed_double(phase - expected)); }

TEST(Lwe, EncryptDecryptRecoversThePlaintextUpToNoise) {
  Csprng rng = Csprng::for_tests_only(20);
  const auto key = LweSecretKey::generate(LweDimension(500), rng);
  for (int64_t m = 0; m < 16; ++m) {
    const auto ct = encrypt_lwe(key, encode_message(m, 4), kSmallNoise, rng);
    EXPECT_EQ(decode_message(decrypt_lwe_phase(key, ct.data), 4), static_cast<uint64_t>(m));
    EXPECT_LT(phase_error(decrypt_lwe_phase(key, ct.data), encode_message(m, 4)), 0x1p-35);
  }
}

TEST(Lwe, LinearOperationsActOnPhases) {
  Csprng rng = Csprng::for_tests_only(21);
  const auto key = LweSecretKey::generate(LweDimension(300), rng);
  const size_t p = 6;
  const auto a = encrypt_lwe(key, encode_message(5, p), kSmallNoise, rng);
  const auto b = encrypt_lwe(key, encode_message(9, p), kSmallNoise, rng);
  LweCiphertext out(key.dimension());
  auto decode = [&](const LweCiphertext& c) { return decode_message(decrypt_lwe_phase(key, c.data), p); };
  add_lwe(a.data, b.data, out.data);
  EXPECT_EQ(decode(out), 14u);
  subtract_lwe(b.data, a.data, out.data);
  EXPECT_EQ(decode(out), 4u);
  negate_lwe(a.data, out.data);
  EXPECT_EQ(decode(out), 128u - 5u);  // modulo 2^(p+1) with the padding bit
  multiply_lwe_by_integer(a.data, -3, out.data);
  EXPECT_EQ(decode(out), 128u - 15u);
  add_plaintext_to_lwe(out.data, encode_message(20, p));
  EXPECT_EQ(decode(out), 5u);
}

TEST(Lwe, DotProductMatchesItsDefinition) {
  Csprng rng = Csprng::for_tests_only(22);
  const auto key = LweSecretKey::generate(LweDimension(200), rng);
  const size_t p = 8, count = 30, size = 201;
  std::vector<Torus> cts(count * size);
  std::vector<int64_t> weights(count), messages(count);
  int64_t expected = 0;
  for (size_t i = 0; i < count; ++i) {
    messages[i] = static_cast<int64_t>(rng.next_u64() % 4);
    weights[i] = static_cast<int64_t>(rng.next_u64() % 7) - 3;
    expected += messages[i] * weights[i];
    encrypt_lwe(key, encode_message(messages[i], p), kSmallNoise, rng, rng, {cts.data() + i * size, size});
  }
  std::vector<Torus> out(size);
  lwe_dot_product(cts, weights, out);
  EXPECT_EQ(decode_message(decrypt_lwe_phase(key, out), p), static_cast<uint64_t>(expected) & 511u);
  // matrix form: two rows, the second the negated weights
  std::vector<int64_t> matrix(weights);
  for (auto w : weights) matrix.push_back(-w);
  std::vector<Torus> outs(2 * size);
  lwe_matrix_product(cts, count, matrix, outs);
  EXPECT_EQ(std::vector<Torus>(outs.begin(), outs.begin() + size), out);
  EXPECT_EQ(decode_message(decrypt_lwe_phase(key, {outs.data() + size, size}), p),
            static_cast<uint64_t>(-expected) & 511u);
}

TEST(Keyswitch, ChangesTheKeyAndKeepsThePhase) {
  Csprng rng = Csprng::for_tests_only(23);
  const auto big = LweSecretKey::generate(LweDimension(1024), rng);
  const auto small = LweSecretKey::generate(LweDimension(400), rng);
  const auto seeded = generate_seeded_keyswitch_key(big, small, DecompositionBaseLog(4), DecompositionLevelCount(5),
                                                    kSmallNoise, rng);
  const auto ksk = decompress_keyswitch_key(seeded);
  // definition: row (i, j) decrypts to s_big[i] * 2^(64 - 4 j)
  for (size_t i : {size_t{0}, size_t{17}, size_t{1023}}) {
    for (size_t j = 1; j <= 5; ++j) {
      std::span<const Torus> row(ksk.data.data() + (i * 5 + j - 1) * 401, 401);
      EXPECT_LT(phase_error(decrypt_lwe_phase(small, row), big.bits[i] << (64 - 4 * j)), 0x1p-35);
    }
  }
  for (int64_t m = 0; m < 16; ++m) {
    const auto ct = encrypt_lwe(big, encode_message(m, 4), kSmallNoise, rng);
    LweCiphertext out(small.dimension());
    keyswitch_lwe(ksk, ct.data, out.data);
    // error: rounding at 20 bits (1024/2 terms of 2^-21 / sqrt(3) each) plus tiny key noise
    EXPECT_LT(phase_error(decrypt_lwe_phase(small, out.data), decrypt_lwe_phase(big, ct.data)), 0x1p-12);
    EXPECT_EQ(decode_message(decrypt_lwe_phase(small, out.data), 4), static_cast<uint64_t>(m));
  }
}

struct GlweFixture : ::testing::Test {
  Csprng rng = Csprng::for_tests_only(30);
  GlweDimension k{2};
  PolynomialSize N{256};
  GlweSecretKey key = GlweSecretKey::generate(k, N, rng);
  GlweKeyProducts products{key};

  std::vector<Torus> random_message(size_t p) {
    std::vector<Torus> m(N.value);
    for (auto& v : m) v = encode_message(static_cast<int64_t>(rng.next_u64() % (1u << p)), p);
    return m;
  }
  std::vector<Torus> encrypt(std::span<const Torus> message) {
    std::vector<Torus> ct(glwe_size(k) * N.value);
    encrypt_glwe(products, message, kSmallNoise, rng, rng, ct);
    return ct;
  }
  std::vector<Torus> phase(std::span<const Torus> ct) {
    std::vector<Torus> ph(N.value);
    decrypt_glwe_phase(key, ct, ph);
    return ph;
  }
  FourierBuffer fourier_ggsw(int64_t bit, size_t base_log, size_t levels, std::vector<Torus>* standard = nullptr) {
    std::vector<Torus> ggsw(ggsw_size(k, N, DecompositionLevelCount(levels)));
    encrypt_ggsw(products, bit, DecompositionBaseLog(base_log), DecompositionLevelCount(levels), kSmallNoise, rng, rng,
                 ggsw);
    FourierBuffer f(ggsw.size());
    ggsw_to_fourier(ggsw, k, N, DecompositionLevelCount(levels), f.data());
    if (standard != nullptr) *standard = ggsw;
    return f;
  }
  double max_error(std::span<const Torus> a, std::span<const Torus> b) {
    double e = 0;
    for (size_t i = 0; i < a.size(); ++i) e = std::max(e, phase_error(a[i], b[i]));
    return e;
  }
};

TEST_F(GlweFixture, EncryptDecryptRecoversThePolynomial) {
  const auto m = random_message(5);
  EXPECT_LT(max_error(phase(encrypt(m)), m), 0x1p-35);
}

TEST_F(GlweFixture, GgswRowsHaveTheirDefiningPhases) {
  std::vector<Torus> ggsw;
  fourier_ggsw(1, 8, 2, &ggsw);
  const size_t row = glwe_size(k) * N.value;
  for (size_t i = 0; i <= k.value; ++i) {
    for (size_t j = 1; j <= 2; ++j) {
      const auto ph = phase({ggsw.data() + (i * 2 + j - 1) * row, row});
      std::vector<Torus> expected(N.value, 0);
      const Torus g = Torus{1} << (64 - 8 * j);
      for (size_t c = 0; c < N.value; ++c) {
        expected[c] = i == k.value ? (c == 0 ? g : 0) : Torus{0} - g * key.bits[i * N.value + c];
      }
      EXPECT_LT(max_error(ph, expected), 0x1p-35);
    }
  }
}

TEST_F(GlweFixture, FourierExternalProductMatchesTheReferenceAndItsDefinition) {
  const auto m = random_message(4);
  const auto ct = encrypt(m);
  for (int64_t bit : {0, 1}) {
    std::vector<Torus> ggsw;
    const auto f = fourier_ggsw(bit, 10, 2, &ggsw);
    const FourierGgswView view{f.data(), k, N, DecompositionBaseLog(10), DecompositionLevelCount(2)};
    std::vector<Torus> fast(ct.size(), 0), reference(ct.size());
    FourierBuffer scratch(external_product_scratch_size(k, N, DecompositionLevelCount(2)));
    external_product_add(view, ct, fast, scratch);
    external_product_reference(ggsw, k, N, DecompositionBaseLog(10), DecompositionLevelCount(2), ct, reference);
    EXPECT_LT(max_error(fast, reference), 0x1p-34);  // FFT precision only
    std::vector<Torus> expected(N.value, 0);
    if (bit == 1) expected = m;
    EXPECT_LT(max_error(phase(fast), expected), 0x1p-15);  // decomposition rounding at 20 bits
  }
}

TEST_F(GlweFixture, CmuxSelectsByTheEncryptedBit) {
  const auto m0 = random_message(3), m1 = random_message(3);
  const auto c0 = encrypt(m0), c1 = encrypt(m1);
  for (int64_t bit : {0, 1}) {
    const auto f = fourier_ggsw(bit, 10, 2);
    const FourierGgswView view{f.data(), k, N, DecompositionBaseLog(10), DecompositionLevelCount(2)};
    std::vector<Torus> out(c0.size());
    FourierBuffer scratch(cmux_scratch_size(k, N, DecompositionLevelCount(2)));
    cmux(view, c0, c1, out, scratch);
    EXPECT_LT(max_error(phase(out), bit ? m1 : m0), 0x1p-15);
  }
}

TEST_F(GlweFixture, SampleExtractionGivesTheConstantCoefficientUnderTheFlatKey) {
  const auto m = random_message(6);
  const auto ct = encrypt(m);
  LweCiphertext lwe(LweDimension(k.value * N.value));
  sample_extract(ct, k, N, lwe.data);
  const auto ph = phase(ct);
  EXPECT_EQ(decrypt_lwe_phase(key.as_lwe_key(), lwe.data), ph[0]);  // exact
}

TEST(ModulusSwitch, RoundsToTheNearestMultipleOfOneOver2N) {
  const PolynomialSize N(1024);
  std::vector<Torus> values = {0, Torus{1} << 53, (Torus{1} << 53) - 1, (Torus{3} << 52), ~Torus{0}};
  std::vector<uint32_t> out(values.size());
  modulus_switch(values, N, out);
  // 2N = 2^11: one step is 2^53
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 1, 2, 0}));
}

TEST(BlindRotation, RotatesTheAccumulatorByThePhaseOfTheSwitchedCiphertext) {
  Csprng rng = Csprng::for_tests_only(31);
  const GlweDimension k(1);
  const PolynomialSize N(256);
  const auto glwe_key = GlweSecretKey::generate(k, N, rng);
  const auto lwe_key = LweSecretKey::generate(LweDimension(20), rng);
  const auto seeded = generate_seeded_bootstrap_key(lwe_key, glwe_key, DecompositionBaseLog(10),
                                                    DecompositionLevelCount(2), kSmallNoise, rng, 1);
  const auto bsk = decompress_bootstrap_key(seeded, 1);
  std::vector<uint32_t> mask(20);
  uint64_t expected_rotation = 0;
  for (size_t i = 0; i < 20; ++i) {
    mask[i] = static_cast<uint32_t>(rng.next_u64() % 512);
    expected_rotation += mask[i] * lwe_key.bits[i];
  }
  // acc = trivial encryption of v(X) = sum_j j * 2^40 X^j
  std::vector<Torus> acc(2 * 256, 0), v(256), expected(256);
  for (size_t j = 0; j < 256; ++j) v[j] = static_cast<Torus>(j) << 40;
  std::copy(v.begin(), v.end(), acc.begin() + 256);
  FourierBuffer scratch(blind_rotate_scratch_size(bsk));
  blind_rotate(bsk, mask, acc, scratch);
  multiply_by_monomial(v, expected_rotation % 512, expected);
  std::vector<Torus> ph(256);
  decrypt_glwe_phase(glwe_key, acc, ph);
  // ~10 CMUXes with bit 1, each adding rounding noise of std ~3 * 2^-20
  for (size_t j = 0; j < 256; ++j) EXPECT_LT(phase_error(ph[j], expected[j]), 0x1p-13) << j;
}

TEST(LookupTable, RejectsInconsistentTables) {
  EXPECT_THROW(LookupTable(3, std::vector<int64_t>(7), 3), Error);
  EXPECT_THROW(LookupTable(0, std::vector<int64_t>(1), 3), Error);
  EXPECT_THROW(LookupTable(3, std::vector<int64_t>(8), 0), Error);
  EXPECT_THROW(LookupTable(3, std::vector<int64_t>(8), 63), Error);
}

TEST(LookupTable, TestPolynomialHasBoxesShiftedByHalfABox) {
  const auto table = LookupTable::from_function(2, [](uint64_t m) { return static_cast<int64_t>(m + 1); }, 3);
  std::vector<Torus> poly(16);
  table.write_test_polynomial(PolynomialSize(16), poly);
  // box = 4, half box = 2: [f0 f0 f1 f1 f1 f1 f2 f2 f2 f2 f3 f3 f3 f3 -f0 -f0]
  const std::vector<int64_t> expected = {1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, -1, -1};
  for (size_t j = 0; j < 16; ++j) EXPECT_EQ(poly[j], encode_message(expected[j], 3)) << j;
}

}  // namespace
}  // namespace fhenn::tfhe
