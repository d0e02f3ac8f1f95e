// Shared test helpers: the long-test switch, and checking an error's message.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include "fhenn/common/error.hpp"

namespace fhenn::testing {

inline bool long_tests_enabled() {
  const char* v = std::getenv("FHENN_LONG_TESTS");
  return v != nullptr && std::string_view(v) == "1";
}

// `action` throws fhenn::Error whose message contains `fragment` (a test failure otherwise).
inline void expect_error_containing(const std::function<void()>& action, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace fhenn::testing

// Long sweeps run only with FHENN_LONG_TESTS=1 (`make test-long`).
#define FHENN_SKIP_UNLESS_LONG_TESTS()                                                                         \
  if (!::fhenn::testing::long_tests_enabled()) GTEST_SKIP() << "long test: run with FHENN_LONG_TESTS=1 (make " \
                                                               "test-long)"
