// Cryptographically secure randomness: AES-256-CTR (OpenSSL EVP) seeded from the OS, with the TFHE distributions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "fhenn/tfhe/types.hpp"

namespace fhenn::tfhe {

// A 256-bit AES key that seeds a generator. Public mask seeds of compressed keys are Seeds too.
using Seed = std::array<uint8_t, 32>;

// Output = AES-256-CTR keystream (key = seed, counter block = stream id || 0). Forward-secure enough for key
// generation; every secret, mask and noise sample of the engine comes from one of these, passed explicitly.
class Csprng {
 public:
  // Seeded from the operating system (OpenSSL RAND_bytes): the only constructor for real keys.
  static Csprng from_os();
  // Deterministic generator for a public seed (mask regeneration of seed-compressed keys); `stream`
  // selects an independent keystream (e.g. one per GGSW of a bootstrap key).
  static Csprng from_seed(const Seed& seed, uint64_t stream = 0);
  // FOR TESTS ONLY: a reproducible generator from a small integer. Never use for data that needs protection.
  static Csprng for_tests_only(uint64_t test_seed);

  Csprng(Csprng&&) noexcept;
  Csprng& operator=(Csprng&&) noexcept;
  ~Csprng();

  uint64_t next_u64();
  void fill_bytes(std::span<uint8_t> out);
  // Uniform torus elements (LWE/GLWE masks).
  void fill_uniform(std::span<Torus> out);
  // Uniform bits 0/1 stored as words (binary secret keys).
  void fill_binary(std::span<uint64_t> out);
  // Uniform in [0, 1) with 53 bits.
  double uniform_unit();
  // Standard normal (Box-Muller on 53-bit uniforms).
  double standard_normal();
  // Rounded Gaussian on the 2^64 torus: round(N(0, (stddev * 2^64)^2)) mod 2^64.
  Torus gaussian_torus(double stddev);
  // TFHE-rs TUniform(b): integers in [-2^b, 2^b], endpoints with probability 2^-(b+2), others 2^-(b+1).
  Torus t_uniform_torus(int bound_log2);
  // A fresh seed (child generators, public mask seeds).
  Seed next_seed();

 private:
  struct State;
  explicit Csprng(std::unique_ptr<State> state);
  void refill();
  std::unique_ptr<State> state_;
};

}  // namespace fhenn::tfhe
