// Shared test helpers: the long-test switch.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace fhenn::testing {

inline bool long_tests_enabled() {
  const char* v = std::getenv("FHENN_LONG_TESTS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace fhenn::testing

// Long sweeps run only with FHENN_LONG_TESTS=1 (`make test-long`).
#define FHENN_SKIP_UNLESS_LONG_TESTS() \
  if (!::fhenn::testing::long_tests_enabled()) GTEST_SKIP() << "long test: run with FHENN_LONG_TESTS=1 (make test-long)"
