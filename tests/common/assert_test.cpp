// FHENN_REQUIRE stays on in builds without assertions; FHENN_ASSERT is compiled out there.
#undef FHENN_ENABLE_ASSERTS
#include "fhenn/common/assert.hpp"

#include <gtest/gtest.h>

namespace fhenn {
namespace {

TEST(AssertDeathTest, RequireIsOnWithoutAssertionsAndShowsBothValues) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  const size_t expected = 631, got = 630;
  EXPECT_DEATH(FHENN_REQUIRE_EQ(got, expected), "got == expected \\(left = 630, right = 631\\)");
  FHENN_ASSERT(got == expected);  // compiled out in this translation unit: no abort
  FHENN_REQUIRE_LE(got, expected);
}

}  // namespace
}  // namespace fhenn
