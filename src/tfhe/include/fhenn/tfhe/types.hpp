// Torus, strong size types and the message encoding of the TFHE engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

namespace fhenn::tfhe {

// An element of the discretised torus T_q = (1/q) Z / Z with q = 2^64: arithmetic is uint64_t wrap-around.
using Torus = uint64_t;

// A size that cannot be silently swapped with another kind of size (n vs N vs k...).
template <typename Tag>
struct StrongSize {
  size_t value = 0;
  constexpr StrongSize() = default;
  constexpr explicit StrongSize(size_t v) : value(v) {}
  constexpr auto operator<=>(const StrongSize&) const = default;
  friend std::ostream& operator<<(std::ostream& out, StrongSize s) { return out << s.value; }
};

using LweDimension = StrongSize<struct LweDimensionTag>;                        // n
using GlweDimension = StrongSize<struct GlweDimensionTag>;                      // k
using PolynomialSize = StrongSize<struct PolynomialSizeTag>;                    // N, a power of two
using DecompositionBaseLog = StrongSize<struct DecompositionBaseLogTag>;        // log2 of the gadget base B
using DecompositionLevelCount = StrongSize<struct DecompositionLevelCountTag>;  // l
using MessageBits = StrongSize<struct MessageBitsTag>;                          // p (plus one padding bit)

// n + 1 words of an LWE ciphertext (mask then body), k + 1 polynomials of a GLWE ciphertext.
constexpr size_t lwe_size(LweDimension n) { return n.value + 1; }
constexpr size_t glwe_size(GlweDimension k) { return k.value + 1; }

// A standard deviation relative to the torus (multiply by 2^64 for integer units).
struct NoiseStdDev {
  double value = 0.0;
  constexpr NoiseStdDev() = default;
  constexpr explicit NoiseStdDev(double v) : value(v) {}
};

// Encoding: a p-bit message m in [0, 2^p) with one padding bit is the torus value m * 2^(63-p),
// i.e. m * Delta with Delta = 2^-(p+1). Signed messages wrap modulo 2^(p+1) (the padding bit absorbs the sign).
constexpr Torus encode_message(int64_t m, size_t message_bits) {
  return static_cast<Torus>(m) << (63 - message_bits);
}

// Rounds a torus value to the nearest multiple of Delta and returns the message modulo 2^(p+1) (padding included).
constexpr uint64_t decode_message(Torus phase, size_t message_bits) {
  const size_t shift = 63 - message_bits;
  const Torus rounded = phase + (Torus{1} << (shift - 1));
  return (rounded >> shift) & ((uint64_t{1} << (message_bits + 1)) - 1);
}

// Torus <-> real number in [-1/2, 1/2) (for noise measurements).
constexpr double torus_to_signed_double(Torus t) { return static_cast<double>(static_cast<int64_t>(t)) * 0x1p-64; }

}  // namespace fhenn::tfhe
