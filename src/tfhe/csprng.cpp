// AES-256-CTR generator (OpenSSL EVP) and the noise distributions of the cited parameter sets.
#include "fhenn/tfhe/csprng.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::tfhe {

struct Csprng::State {
  EVP_CIPHER_CTX* ctx = nullptr;
  std::array<uint8_t, 4096> buffer{};
  size_t position = 4096;
  bool has_spare_normal = false;
  double spare_normal = 0.0;
  ~State() {
    if (ctx != nullptr) EVP_CIPHER_CTX_free(ctx);
  }
};

Csprng::Csprng(std::unique_ptr<State> state) : state_(std::move(state)) {}
Csprng::Csprng(Csprng&&) noexcept = default;
Csprng& Csprng::operator=(Csprng&&) noexcept = default;
Csprng::~Csprng() = default;

Csprng Csprng::from_os() {
  Seed seed;
  FHENN_CHECK(RAND_bytes(seed.data(), static_cast<int>(seed.size())) == 1,
              "the operating system's random generator (OpenSSL RAND_bytes) failed; cannot generate keys");
  return from_seed(seed, 0);
}

Csprng Csprng::from_seed(const Seed& seed, uint64_t stream) {
  auto state = std::make_unique<State>();
  state->ctx = EVP_CIPHER_CTX_new();
  FHENN_CHECK(state->ctx != nullptr, "OpenSSL: cannot allocate a cipher context");
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), &stream, sizeof(stream));  // counter block = stream id || 64-bit block counter
  FHENN_CHECK(EVP_EncryptInit_ex(state->ctx, EVP_aes_256_ctr(), nullptr, seed.data(), iv.data()) == 1,
              "OpenSSL: AES-256-CTR initialisation failed");
  return Csprng(std::move(state));
}

Csprng Csprng::for_tests_only(uint64_t test_seed) {
  Seed seed{};
  std::memcpy(seed.data(), &test_seed, sizeof(test_seed));
  seed[31] = 0x7e;  // domain separation from from_seed() of small public seeds
  return from_seed(seed, 0x7e57);
}

void Csprng::refill() {
  static const std::array<uint8_t, 4096> zeros{};
  int written = 0;
  FHENN_CHECK(EVP_EncryptUpdate(state_->ctx, state_->buffer.data(), &written, zeros.data(),
                                static_cast<int>(zeros.size())) == 1 &&
                  written == static_cast<int>(zeros.size()),
              "OpenSSL: AES-256-CTR keystream generation failed");
  state_->position = 0;
}

uint64_t Csprng::next_u64() {
  if (state_->position + 8 > state_->buffer.size()) refill();
  uint64_t v;
  std::memcpy(&v, state_->buffer.data() + state_->position, 8);
  state_->position += 8;
  return v;
}

void Csprng::fill_bytes(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (state_->position == state_->buffer.size()) refill();
    const size_t n = std::min(out.size() - done, state_->buffer.size() - state_->position);
    std::memcpy(out.data() + done, state_->buffer.data() + state_->position, n);
    state_->position += n;
    done += n;
  }
}

void Csprng::fill_uniform(std::span<Torus> out) {
  fill_bytes({reinterpret_cast<uint8_t*>(out.data()), out.size_bytes()});
}

void Csprng::fill_binary(std::span<uint64_t> out) {
  uint64_t bits = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i % 64 == 0) bits = next_u64();
    out[i] = (bits >> (i % 64)) & 1;
  }
}

double Csprng::uniform_unit() { return static_cast<double>(next_u64() >> 11) * 0x1p-53; }

double Csprng::standard_normal() {
  if (state_->has_spare_normal) {
    state_->has_spare_normal = false;
    return state_->spare_normal;
  }
  const double u1 = 1.0 - uniform_unit();  // (0, 1]
  const double u2 = uniform_unit();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  state_->spare_normal = radius * std::sin(angle);
  state_->has_spare_normal = true;
  return radius * std::cos(angle);
}

Torus Csprng::gaussian_torus(double stddev) {
  const double integer_units = std::nearbyint(standard_normal() * stddev * 0x1p64);
  // |value| < 2^63 for any stddev below ~2^-4; reduce modulo 2^64 otherwise.
  const double reduced = integer_units - std::nearbyint(integer_units * 0x1p-64) * 0x1p64;
  return static_cast<Torus>(static_cast<int64_t>(reduced));
}

Torus Csprng::t_uniform_torus(int bound_log2) {
  FHENN_ASSERT(bound_log2 >= 0 && bound_log2 <= 61);
  const uint64_t r = next_u64() & ((uint64_t{1} << (bound_log2 + 2)) - 1);
  const int64_t value = static_cast<int64_t>((r >> 1) + (r & 1)) - (int64_t{1} << bound_log2);
  return static_cast<Torus>(value);
}

Seed Csprng::next_seed() {
  Seed seed;
  fill_bytes(seed);
  return seed;
}

}  // namespace fhenn::tfhe
