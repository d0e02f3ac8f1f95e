// Tests of the uniform quantizer's ranges and rounding, and of accumulator rounding.
#include "fhenn/quant/uniform_quantizer.hpp"

#include <gtest/gtest.h>

#include "fhenn/quant/rounding.hpp"

namespace fhenn::quant {
namespace {

TEST(UniformQuantizer, NarrowSignedThreeBitsSpansMinusThreeToThree) {
  UniformQuantizer q{.bits = 3, .is_signed = true, .narrow_range = true, .scale = 1.0 / 3.0, .zero_point = 0};
  EXPECT_EQ(q.qmin(), -3);
  EXPECT_EQ(q.qmax(), 3);
  EXPECT_EQ(q.quantize(-5.0), -3);
  EXPECT_EQ(q.quantize(0.5), 2);  // 1.5 rounds half to even: 2
  EXPECT_EQ(q.quantize(1.0 / 6.0), 0);  // 0.5 rounds half to even: 0
  EXPECT_DOUBLE_EQ(q.dequantize(3), 1.0);
}

TEST(UniformQuantizer, UnsignedRangesWithAndWithoutNarrow) {
  UniformQuantizer q{.bits = 3, .is_signed = false, .narrow_range = false, .scale = 1.0, .zero_point = 0};
  EXPECT_EQ(q.qmin(), 0);
  EXPECT_EQ(q.qmax(), 7);
  q.narrow_range = true;
  EXPECT_EQ(q.qmax(), 6);
}

TEST(RoundMsbs, RoundsToNearestWithTiesUp) {
  EXPECT_EQ(round_msbs(5, 0), 5);
  EXPECT_EQ(round_msbs(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(round_msbs(-5, 1), -2);  // -2.5 -> -2 (ties up)
  EXPECT_EQ(round_msbs(11, 2), 3);   // 2.75 -> 3
  EXPECT_EQ(round_msbs(-11, 2), -3);
  EXPECT_EQ(rounding_shift(11, 5), 6);
  EXPECT_EQ(rounding_shift(4, 5), 0);
}

}  // namespace
}  // namespace fhenn::quant
