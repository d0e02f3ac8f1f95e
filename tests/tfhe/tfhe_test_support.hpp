// Helpers for the TFHE engine tests: sanitizer detection, keys for a named set, sample statistics.
#pragma once

#include <cmath>
#include <vector>

#include "fhenn/tfhe/keys.hpp"

namespace fhenn::tfhe::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct Keys {
  ClientKey client;
  ServerKey server;
};

inline Keys make_keys(const ParameterSet& params, uint64_t seed) {
  Csprng rng = Csprng::for_tests_only(seed);
  ClientKey client = ClientKey::generate(params, rng);
  ServerKey server = ServerKey::generate(client, rng, 2);
  return {std::move(client), std::move(server)};
}

inline double mean(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

// Second moment about zero (the noise is centred): E[x^2].
inline double mean_square(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x * x;
  return s / static_cast<double>(xs.size());
}

// Checks a sample's mean square against a predicted variance with a tolerance of `sigmas` standard errors
// of the estimator (relative standard error sqrt(2 / K) for Gaussian-like noise) plus a model margin.
inline ::testing::AssertionResult variance_matches(const std::vector<double>& xs, double predicted, double sigmas,
                                                   double model_margin) {
  const double measured = mean_square(xs);
  const double relative_error = std::sqrt(2.0 / static_cast<double>(xs.size())) * sigmas + model_margin;
  const double ratio = measured / predicted;
  if (std::abs(ratio - 1.0) <= relative_error) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "measured variance " << measured << " vs predicted " << predicted
                                       << " (ratio " << ratio << ", allowed +-" << relative_error << ")";
}

}  // namespace fhenn::tfhe::testing
