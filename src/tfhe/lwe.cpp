// LWE encryption, linear operations, gadget decomposition and key switching.
#include "fhenn/tfhe/lwe.hpp"

#include <algorithm>

#include "fhenn/common/assert.hpp"
#include "kernels.hpp"

namespace fhenn::tfhe {

LweSecretKey LweSecretKey::generate(LweDimension n, Csprng& rng) {
  LweSecretKey key;
  key.bits.resize(n.value);
  rng.fill_binary(key.bits);
  return key;
}

Torus sample_noise(const NoiseDistribution& noise, Csprng& rng) {
  if (noise.kind == NoiseDistribution::Kind::kGaussian) return rng.gaussian_torus(noise.gaussian_stddev);
  return rng.t_uniform_torus(noise.tuniform_bound_log2);
}

namespace {

Torus inner_product(std::span<const Torus> mask, std::span<const uint64_t> key) {
  Torus sum = 0;
  for (size_t i = 0; i < mask.size(); ++i) sum += mask[i] * key[i];
  return sum;
}

}  // namespace

void encrypt_lwe(const LweSecretKey& key, Torus plaintext, const NoiseDistribution& noise, Csprng& mask_rng,
                 Csprng& noise_rng, std::span<Torus> out) {
  const size_t n = key.bits.size();
  FHENN_REQUIRE_EQ(out.size(), n + 1);
  mask_rng.fill_uniform(out.first(n));
  out[n] = inner_product(out.first(n), key.bits) + sample_noise(noise, noise_rng) + plaintext;
}

LweCiphertext encrypt_lwe(const LweSecretKey& key, Torus plaintext, const NoiseDistribution& noise, Csprng& rng) {
  LweCiphertext ct(key.dimension());
  encrypt_lwe(key, plaintext, noise, rng, rng, ct.data);
  return ct;
}

Torus decrypt_lwe_phase(const LweSecretKey& key, std::span<const Torus> ciphertext) {
  FHENN_REQUIRE_EQ(ciphertext.size(), key.bits.size() + 1);
  return ciphertext.back() - inner_product(ciphertext.first(key.bits.size()), key.bits);
}

void add_lwe(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out) {
  FHENN_REQUIRE_EQ(a.size(), b.size());
  FHENN_REQUIRE_EQ(a.size(), out.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
}

void subtract_lwe(std::span<const Torus> a, std::span<const Torus> b, std::span<Torus> out) {
  FHENN_REQUIRE_EQ(a.size(), b.size());
  FHENN_REQUIRE_EQ(a.size(), out.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] - b[i];
}

void negate_lwe(std::span<const Torus> a, std::span<Torus> out) {
  FHENN_REQUIRE_EQ(a.size(), out.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = Torus{0} - a[i];
}

void multiply_lwe_by_integer(std::span<const Torus> a, int64_t factor, std::span<Torus> out) {
  FHENN_REQUIRE_EQ(a.size(), out.size());
  const Torus f = static_cast<Torus>(factor);
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] * f;
}

void add_scaled_lwe(std::span<Torus> out, std::span<const Torus> a, Torus factor) {
  FHENN_REQUIRE_EQ(a.size(), out.size());
  // subtract_scaled computes out -= digit * a modulo 2^64: the digit is -factor.
  kernels::active().subtract_scaled(out.data(), a.data(), static_cast<int64_t>(Torus{0} - factor), out.size());
}

void add_plaintext_to_lwe(std::span<Torus> ciphertext, Torus plaintext) {
  ciphertext.back() += plaintext;
}

void lwe_dot_product(std::span<const Torus> ciphertexts, std::span<const int64_t> weights, std::span<Torus> out) {
  const size_t size = out.size();
  FHENN_REQUIRE_EQ(ciphertexts.size(), weights.size() * size);
  std::fill(out.begin(), out.end(), Torus{0});
  const auto& k = kernels::active();
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] != 0) k.subtract_scaled(out.data(), ciphertexts.data() + i * size, -weights[i], size);
  }
}

void lwe_matrix_product(std::span<const Torus> ciphertexts, size_t input_count, std::span<const int64_t> weights,
                        std::span<Torus> outputs) {
  FHENN_REQUIRE(input_count > 0);
  const size_t size = ciphertexts.size() / input_count;
  FHENN_REQUIRE_EQ(ciphertexts.size(), input_count * size);
  const size_t output_count = weights.size() / input_count;
  FHENN_REQUIRE_EQ(weights.size(), output_count * input_count);
  FHENN_REQUIRE_EQ(outputs.size(), output_count * size);
  for (size_t o = 0; o < output_count; ++o) {
    lwe_dot_product(ciphertexts, weights.subspan(o * input_count, input_count), outputs.subspan(o * size, size));
  }
}

SignedDecomposer::SignedDecomposer(DecompositionBaseLog base_log, DecompositionLevelCount levels)
    : base_log_(base_log.value), levels_(levels.value) {
  FHENN_ASSERT(base_log_ >= 1 && levels_ >= 1 && base_log_ * levels_ < 64);
}

Torus SignedDecomposer::closest_representable(Torus x) const {
  const size_t shift = 64 - base_log_ * levels_;
  return ((x + (Torus{1} << (shift - 1))) >> shift) << shift;
}

void SignedDecomposer::decompose(Torus x, int64_t* digits) const {
  const size_t shift = 64 - base_log_ * levels_;
  Torus rest = (x + (Torus{1} << (shift - 1))) >> shift;  // the kept base_log * levels bits
  const Torus mask = (Torus{1} << base_log_) - 1;
  const Torus half = Torus{1} << (base_log_ - 1);
  for (size_t j = levels_; j-- > 0;) {
    Torus digit = rest & mask;
    rest >>= base_log_;
    if (digit >= half) {  // balanced: [B/2, B) -> [-B/2, 0) with a carry into the next level
      digits[j] = static_cast<int64_t>(digit) - (int64_t{1} << base_log_);
      rest += 1;
    } else {
      digits[j] = static_cast<int64_t>(digit);
    }
  }
}

Torus SignedDecomposer::recompose(const int64_t* digits) const {
  Torus sum = 0;
  for (size_t j = 0; j < levels_; ++j) sum += static_cast<Torus>(digits[j]) << (64 - (j + 1) * base_log_);
  return sum;
}

SeededLweKeyswitchKey generate_seeded_keyswitch_key(const LweSecretKey& input_key, const LweSecretKey& output_key,
                                                    DecompositionBaseLog base_log, DecompositionLevelCount levels,
                                                    const NoiseDistribution& noise, Csprng& rng) {
  SeededLweKeyswitchKey key{input_key.dimension(), output_key.dimension(), base_log, levels, rng.next_seed(), {}};
  const size_t n_out = output_key.bits.size();
  key.bodies.resize(input_key.bits.size() * levels.value);
  std::vector<Torus> row(n_out + 1);
  for (size_t i = 0; i < input_key.bits.size(); ++i) {
    Csprng mask_rng = Csprng::from_seed(key.mask_seed, i);
    for (size_t j = 1; j <= levels.value; ++j) {
      const Torus message = input_key.bits[i] << (64 - j * base_log.value);
      encrypt_lwe(output_key, message, noise, mask_rng, rng, row);
      key.bodies[i * levels.value + (j - 1)] = row.back();
    }
  }
  return key;
}

LweKeyswitchKey decompress_keyswitch_key(const SeededLweKeyswitchKey& seeded) {
  LweKeyswitchKey key{seeded.input_dimension, seeded.output_dimension, seeded.base_log, seeded.levels, {}};
  const size_t row_size = lwe_size(seeded.output_dimension);
  const size_t levels = seeded.levels.value;
  key.data.resize(seeded.input_dimension.value * levels * row_size);
  for (size_t i = 0; i < seeded.input_dimension.value; ++i) {
    Csprng mask_rng = Csprng::from_seed(seeded.mask_seed, i);
    for (size_t j = 0; j < levels; ++j) {
      std::span<Torus> row(key.data.data() + (i * levels + j) * row_size, row_size);
      mask_rng.fill_uniform(row.first(row_size - 1));
      row.back() = seeded.bodies[i * levels + j];
    }
  }
  return key;
}

void keyswitch_lwe(const LweKeyswitchKey& key, std::span<const Torus> in, std::span<Torus> out) {
  const std::span<const Torus> ins[] = {in};
  const std::span<Torus> outs[] = {out};
  keyswitch_lwe_group(key, ins, outs);
}

void keyswitch_lwe_group(const LweKeyswitchKey& key, std::span<const std::span<const Torus>> in,
                         std::span<const std::span<Torus>> out) {
  const size_t n_in = key.input_dimension.value;
  const size_t row_size = lwe_size(key.output_dimension);
  const size_t levels = key.levels.value;
  FHENN_REQUIRE_EQ(in.size(), out.size());
  for (size_t b = 0; b < in.size(); ++b) {
    FHENN_REQUIRE_EQ(in[b].size(), n_in + 1);
    FHENN_REQUIRE_EQ(out[b].size(), row_size);
    std::fill(out[b].begin(), out[b].end(), Torus{0});
    out[b].back() = in[b].back();
  }
  const SignedDecomposer decomposer(key.base_log, key.levels);
  const auto& k = kernels::active();
  int64_t digits[64];
  for (size_t i = 0; i < n_in; ++i) {
    const Torus* rows = key.data.data() + i * levels * row_size;
    for (size_t b = 0; b < in.size(); ++b) {
      decomposer.decompose(in[b][i], digits);
      for (size_t j = 0; j < levels; ++j) {
        if (digits[j] != 0) k.subtract_scaled(out[b].data(), rows + j * row_size, digits[j], row_size);
      }
    }
  }
}

}  // namespace fhenn::tfhe
