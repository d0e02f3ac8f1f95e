// Assertions for broken internal invariants: abort with both mismatched values shown.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace fhenn::detail {

[[noreturn]] inline void assertion_failed(const char* expression, const std::string& values, const char* file,
                                          int line) {
  std::fprintf(stderr, "fhenn: internal assertion failed: %s%s at %s:%d\n", expression, values.c_str(), file, line);
  std::abort();
}

template <typename A, typename B>
std::string describe_pair(const A& a, const B& b) {
  std::ostringstream out;
  out << " (left = " << a << ", right = " << b << ")";
  return out.str();
}

}  // namespace fhenn::detail

// Always on, in every build: O(1) checks at the engine's public entry points (span sizes against the key's
// dimensions), so that a wrong-sized argument aborts with both values instead of reading or writing out of
// bounds, as TFHE-rs's assert!s do. O(n) checks stay FHENN_ASSERT (debug builds only).
#define FHENN_REQUIRE(condition)                                                             \
  do {                                                                                       \
    if (!(condition)) ::fhenn::detail::assertion_failed(#condition, "", __FILE__, __LINE__); \
  } while (false)
#define FHENN_REQUIRE_OP(a, op, b)                                                                          \
  do {                                                                                                      \
    const auto& fhenn_a_ = (a);                                                                             \
    const auto& fhenn_b_ = (b);                                                                             \
    if (!(fhenn_a_ op fhenn_b_))                                                                            \
      ::fhenn::detail::assertion_failed(#a " " #op " " #b, ::fhenn::detail::describe_pair(fhenn_a_, fhenn_b_), \
                                        __FILE__, __LINE__);                                                \
  } while (false)
#define FHENN_REQUIRE_EQ(a, b) FHENN_REQUIRE_OP(a, ==, b)
#define FHENN_REQUIRE_LE(a, b) FHENN_REQUIRE_OP(a, <=, b)
#define FHENN_REQUIRE_LT(a, b) FHENN_REQUIRE_OP(a, <, b)

#if defined(FHENN_ENABLE_ASSERTS)
#define FHENN_ASSERT(condition) FHENN_REQUIRE(condition)
#define FHENN_ASSERT_OP(a, op, b) FHENN_REQUIRE_OP(a, op, b)
#else
#define FHENN_ASSERT(condition) ((void)0)
#define FHENN_ASSERT_OP(a, op, b) ((void)0)
#endif

#define FHENN_ASSERT_EQ(a, b) FHENN_ASSERT_OP(a, ==, b)
#define FHENN_ASSERT_LT(a, b) FHENN_ASSERT_OP(a, <, b)
#define FHENN_ASSERT_LE(a, b) FHENN_ASSERT_OP(a, <=, b)
