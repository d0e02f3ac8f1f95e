// Bootstrap key generation, modulus switch, blind rotation, sample extraction, test polynomials, PBS.
#include "fhenn/tfhe/bootstrap.hpp"

#include <algorithm>
#include <bit>
#include <vector>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"

namespace fhenn::tfhe {

SeededBootstrapKey generate_seeded_bootstrap_key(const LweSecretKey& lwe_key, const GlweSecretKey& glwe_key,
                                                 DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                                 const NoiseDistribution& noise, Csprng& rng, int threads) {
  const size_t n = lwe_key.bits.size();
  const size_t k = glwe_key.glwe_dimension.value;
  const size_t N = glwe_key.polynomial_size.value;
  const size_t rows = (k + 1) * levels.value;
  SeededBootstrapKey key{
      lwe_key.dimension(), glwe_key.glwe_dimension,         glwe_key.polynomial_size, base_log, levels,
      rng.next_seed(),     std::vector<Torus>(n * rows * N)};
  std::vector<Seed> noise_seeds(n);
  for (auto& s : noise_seeds) s = rng.next_seed();
  const GlweKeyProducts products(glwe_key);
  const size_t ggsw_words = ggsw_size(glwe_key.glwe_dimension, glwe_key.polynomial_size, levels);
  parallel_for(n, threads, [&](size_t i, int) {
    Csprng mask_rng = Csprng::from_seed(key.mask_seed, i);
    Csprng noise_rng = Csprng::from_seed(noise_seeds[i], 0);
    std::vector<Torus> ggsw(ggsw_words);
    encrypt_ggsw(products, static_cast<int64_t>(lwe_key.bits[i]), base_log, levels, noise, mask_rng, noise_rng, ggsw);
    for (size_t r = 0; r < rows; ++r) {
      std::copy_n(ggsw.begin() + (r * (k + 1) + k) * N, N, key.bodies.begin() + (i * rows + r) * N);
    }
  });
  return key;
}

FourierBootstrapKey decompress_bootstrap_key(const SeededBootstrapKey& seeded, int threads) {
  const size_t n = seeded.lwe_dimension.value;
  const size_t k = seeded.glwe_dimension.value;
  const size_t N = seeded.polynomial_size.value;
  const size_t rows = (k + 1) * seeded.levels.value;
  FourierBootstrapKey key{seeded.lwe_dimension, seeded.glwe_dimension, seeded.polynomial_size,
                          seeded.base_log,      seeded.levels,         {}};
  const size_t ggsw_words = ggsw_size(seeded.glwe_dimension, seeded.polynomial_size, seeded.levels);
  FHENN_REQUIRE_EQ(seeded.bodies.size(), n * rows * N);
  key.data.resize(n * ggsw_words);
  FourierTransform::get(seeded.polynomial_size);  // plan once before the workers start
  parallel_for(n, threads, [&](size_t i, int) {
    Csprng mask_rng = Csprng::from_seed(seeded.mask_seed, i);
    std::vector<Torus> ggsw(ggsw_words);
    for (size_t r = 0; r < rows; ++r) {
      Torus* row = ggsw.data() + r * (k + 1) * N;
      mask_rng.fill_uniform({row, k * N});
      std::copy_n(seeded.bodies.begin() + (i * rows + r) * N, N, row + k * N);
    }
    ggsw_to_fourier(ggsw, seeded.glwe_dimension, seeded.polynomial_size, seeded.levels,
                    key.data.data() + i * ggsw_words);
  });
  return key;
}

void modulus_switch(std::span<const Torus> lwe, PolynomialSize N, std::span<uint32_t> out) {
  FHENN_REQUIRE_EQ(lwe.size(), out.size());
  const int log2_two_n = std::countr_zero(N.value) + 1;
  const int shift = 64 - log2_two_n;
  const Torus mask = (Torus{1} << log2_two_n) - 1;
  for (size_t i = 0; i < lwe.size(); ++i) {
    out[i] = static_cast<uint32_t>(((lwe[i] + (Torus{1} << (shift - 1))) >> shift) & mask);
  }
}

size_t blind_rotate_scratch_size(const FourierBootstrapKey& key) {
  return cmux_scratch_size(key.glwe_dimension, key.polynomial_size, key.levels);
}

void blind_rotate(const FourierBootstrapKey& key, std::span<const uint32_t> switched_mask, std::span<Torus> acc,
                  std::span<double> scratch) {
  FHENN_REQUIRE_EQ(switched_mask.size(), key.lwe_dimension.value);
  const size_t n = switched_mask.size();
  for (size_t i = 0; i < n; ++i) {
    const double* next = i + 1 < n ? key.ggsw(i + 1).data : nullptr;
    cmux_rotate_prefetching(key.ggsw(i), switched_mask[i], acc, scratch, next);
  }
}

void sample_extract(std::span<const Torus> glwe, GlweDimension k, PolynomialSize N, std::span<Torus> lwe_out) {
  const size_t n_poly = N.value;
  FHENN_REQUIRE_EQ(glwe.size(), glwe_size(k) * n_poly);
  FHENN_REQUIRE_EQ(lwe_out.size(), k.value * n_poly + 1);
  for (size_t i = 0; i < k.value; ++i) {
    const Torus* a = glwe.data() + i * n_poly;
    Torus* out = lwe_out.data() + i * n_poly;
    out[0] = a[0];
    for (size_t j = 1; j < n_poly; ++j) out[j] = Torus{0} - a[n_poly - j];
  }
  lwe_out.back() = glwe[k.value * n_poly];
}

LookupTable::LookupTable(size_t input_bits, std::vector<int64_t> values, size_t output_bits)
    : input_bits_(input_bits), output_bits_(output_bits), values_(std::move(values)) {
  FHENN_CHECK(input_bits >= 1 && input_bits <= 16, "lookup table: input bits must be in 1..16, got ", input_bits);
  FHENN_CHECK(output_bits >= 1 && output_bits <= 62, "lookup table: output bits must be in 1..62, got ", output_bits);
  FHENN_CHECK(values_.size() == (size_t{1} << input_bits), "lookup table: ", input_bits, " input bits need ",
              size_t{1} << input_bits, " values, got ", values_.size());
}

LookupTable LookupTable::from_function(size_t input_bits, const std::function<int64_t(uint64_t)>& function,
                                       size_t output_bits) {
  FHENN_CHECK(input_bits >= 1 && input_bits <= 16, "lookup table: input bits must be in 1..16, got ", input_bits);
  std::vector<int64_t> values(size_t{1} << input_bits);
  for (size_t m = 0; m < values.size(); ++m) values[m] = function(m);
  return LookupTable(input_bits, std::move(values), output_bits);
}

void LookupTable::write_test_polynomial(PolynomialSize N, std::span<Torus> out) const {
  const size_t n_poly = N.value;
  FHENN_REQUIRE_EQ(out.size(), n_poly);
  const size_t box = n_poly >> input_bits_;
  FHENN_ASSERT(box >= 2);
  const size_t half_box = box / 2;
  // Unrotated, coefficient j holds f(j / box); the half-box rotation X^(-box/2) moves f(m) to
  // [m box - box/2, m box + box/2), and the first half box of f(0) wraps to the end negated.
  for (size_t j = 0; j < n_poly; ++j) {
    const size_t source = j + half_box;
    if (source < n_poly) {
      out[j] = encode_message(values_[source / box], output_bits_);
    } else {
      out[j] = Torus{0} - encode_message(values_[0], output_bits_);
    }
  }
}

size_t programmable_bootstrap_scratch_size(const FourierBootstrapKey& key) {
  return programmable_bootstrap_group_scratch_size(key, 1);
}

void programmable_bootstrap(const FourierBootstrapKey& key, std::span<const Torus> lwe_in, const LookupTable& table,
                            std::span<Torus> lwe_out, std::span<double> scratch) {
  const std::span<const Torus> ins[] = {lwe_in};
  const LookupTable* tables[] = {&table};
  const std::span<Torus> outs[] = {lwe_out};
  programmable_bootstrap_group(key, ins, tables, outs, scratch);
}

namespace {

// Doubles of scratch per ciphertext of a group: its accumulator ((k + 1) N words), then its switched
// ciphertext (n + 1 uint32), rounded up to whole 64-byte lines.
size_t group_member_doubles(const FourierBootstrapKey& key) {
  const size_t switched = (key.lwe_dimension.value + 2) / 2;
  const size_t doubles = glwe_size(key.glwe_dimension) * key.polynomial_size.value + switched;
  return (doubles + 7) / 8 * 8;
}

}  // namespace

size_t programmable_bootstrap_group_scratch_size(const FourierBootstrapKey& key, size_t group) {
  return blind_rotate_scratch_size(key) + group * group_member_doubles(key) + 8;
}

void programmable_bootstrap_group(const FourierBootstrapKey& key, std::span<const std::span<const Torus>> lwe_in,
                                  std::span<const LookupTable* const> tables, std::span<const std::span<Torus>> lwe_out,
                                  std::span<double> scratch) {
  const size_t n = key.lwe_dimension.value;
  const size_t N = key.polynomial_size.value;
  const size_t k = key.glwe_dimension.value;
  const size_t group = lwe_in.size();
  FHENN_REQUIRE(tables.size() == group && lwe_out.size() == group);
  FHENN_REQUIRE_LE(programmable_bootstrap_group_scratch_size(key, group), scratch.size());
  // scratch: [blind rotation (shared, 64-byte aligned) | per ciphertext: accumulator, switched ciphertext]
  const size_t rotate_doubles = blind_rotate_scratch_size(key);
  const auto rotate_scratch = scratch.first(rotate_doubles);
  std::vector<std::span<Torus>> acc(group);
  std::vector<std::span<uint32_t>> switched(group);
  for (size_t b = 0; b < group; ++b) {
    FHENN_REQUIRE_EQ(lwe_in[b].size(), n + 1);
    FHENN_REQUIRE_EQ(lwe_out[b].size(), k * N + 1);
    FHENN_REQUIRE(tables[b]->input_bits() + 1 <= static_cast<size_t>(std::countr_zero(N)));
    double* member = scratch.data() + rotate_doubles + b * group_member_doubles(key);
    acc[b] = {reinterpret_cast<Torus*>(member), (k + 1) * N};
    switched[b] = {reinterpret_cast<uint32_t*>(member + (k + 1) * N), n + 1};
    // 1. modulus switch to 2N
    modulus_switch(lwe_in[b], key.polynomial_size, switched[b]);
    // 2. acc = trivial GLWE of X^(-b~) * v(X) (lwe_out, k N + 1 >= N words, as temporary storage)
    std::fill(acc[b].begin(), acc[b].end(), Torus{0});
    auto test_polynomial = lwe_out[b].first(N);
    tables[b]->write_test_polynomial(key.polynomial_size, test_polynomial);
    multiply_by_monomial(test_polynomial, (2 * N - switched[b][n]) % (2 * N), acc[b].subspan(k * N, N));
  }
  // 3. blind rotation: acc = X^(-b~ + sum a~_i s_i) v = X^(-phase~) v, step i for the whole group
  for (size_t i = 0; i < n; ++i) {
    const double* next = i + 1 < n ? key.ggsw(i + 1).data : nullptr;
    for (size_t b = 0; b < group; ++b) {
      cmux_rotate_prefetching(key.ggsw(i), switched[b][i], acc[b], rotate_scratch, b == 0 ? next : nullptr);
    }
  }
  // 4. sample extraction of the constant coefficient (v at the phase, negacyclically)
  for (size_t b = 0; b < group; ++b) sample_extract(acc[b], key.glwe_dimension, key.polynomial_size, lwe_out[b]);
}

}  // namespace fhenn::tfhe
