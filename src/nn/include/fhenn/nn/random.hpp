// A portable seeded random generator (SplitMix64) with the draws nn needs: same seed, same numbers everywhere.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

namespace fhenn::nn {

// SplitMix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, then two xor-shift-multiply rounds.
// Unlike std::normal_distribution or std::shuffle, every draw below is defined here, so a seed gives the same
// data, initial weights and sample order with any standard library. Not for anything secret.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform01(); }

  // Uniform integer in [0, bound), bound >= 1, without modulo bias (rejection of the short last interval).
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do {
      r = next();
    } while (r >= limit);
    return r % bound;
  }

  // Standard normal by the Box-Muller transform; the second value of each pair is kept for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform01();  // in (0, 1]: log(u1) is finite
    const double u2 = uniform01();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// A uniformly random permutation of 0..n-1 (Fisher-Yates, from the last position down).
inline std::vector<size_t> random_permutation(size_t n, SplitMix64& rng) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

// An independent stream for a named purpose derived from one user seed (e.g. data noise vs. shuffling).
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  SplitMix64 mixer(seed ^ (0xD1B54A32D192ED03ULL * (stream + 1)));
  return mixer.next();
}

}  // namespace fhenn::nn
