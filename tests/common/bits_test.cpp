// Tests of bit widths as the reference defines them (Concrete ML documentation).
#include "fhenn/common/bits.hpp"

#include <gtest/gtest.h>

namespace fhenn {
namespace {

TEST(RangeBits, UnsignedRangesUseTheWidthOfTheirMaximum) {
  EXPECT_EQ(range_bits(0, 0), 1);
  EXPECT_EQ(range_bits(0, 1), 1);
  EXPECT_EQ(range_bits(0, 7), 3);
  EXPECT_EQ(range_bits(0, 8), 4);
  EXPECT_EQ(range_bits(3, 255), 8);
}

TEST(RangeBits, SignedRangesNeedBothEndsInTwosComplement) {
  EXPECT_EQ(range_bits(-1, 0), 1);
  EXPECT_EQ(range_bits(-4, 3), 3);
  EXPECT_EQ(range_bits(-5, 3), 4);
  EXPECT_EQ(range_bits(-4, 4), 4);
  EXPECT_EQ(range_bits(-64, 63), 7);
  EXPECT_EQ(range_bits(-1, 64), 8);
}

}  // namespace
}  // namespace fhenn
