// Tests of the post-training quantizer formulas (Concrete ML documentation) and of rounding shifts for ranges.
#include "fhenn/quant/ptq.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::quant {
namespace {

TEST(NBits, UniformMeansWeightsAndOpInputsNAndModelEndsAtLeastFive) {
  EXPECT_EQ(NBits::uniform(3), (NBits{5, 3, 3, 5}));
  EXPECT_EQ(NBits::uniform(7), (NBits{7, 7, 7, 7}));
  EXPECT_NO_THROW(validate(NBits::uniform(3)));
  EXPECT_THROW(validate(NBits{5, 1, 3, 5}), Error);
  EXPECT_THROW(validate(NBits{5, 3, 17, 5}), Error);
}

TEST(TensorStatistics, TracksMinimumAndMaximum) {
  const std::vector<double> values = {0.5, -1.25, 3.0, 2.0};
  const auto stats = TensorStatistics::of(values);
  EXPECT_FALSE(stats.empty);
  EXPECT_EQ(stats.rmin, -1.25);
  EXPECT_EQ(stats.rmax, 3.0);
}

TEST(SymmetricQuantizer, ScaleIsLargestMagnitudeOverHalfRangeAndZeroPointZero) {
  const std::vector<double> weights = {-0.9, 0.3, 1.2};
  const auto q = symmetric_quantizer(TensorStatistics::of(weights), 3);
  EXPECT_TRUE(q.is_signed);
  EXPECT_EQ(q.zero_point, 0);
  EXPECT_DOUBLE_EQ(q.scale, 1.2 / 3.0);
  EXPECT_EQ(q.qmin(), -4);
  EXPECT_EQ(q.qmax(), 3);
  EXPECT_EQ(q.quantize(1.2), 3);
  EXPECT_EQ(q.quantize(-0.9), -2);  // -2.25 -> -2
  EXPECT_EQ(q.quantize(-5.0), -4);  // clipped to -2^(n-1)
}

TEST(AsymmetricQuantizer, UnsignedWhenNothingNegative) {
  const std::vector<double> activations = {0.0, 0.7, 2.1};
  const auto q = asymmetric_quantizer(TensorStatistics::of(activations), 3);
  EXPECT_FALSE(q.is_signed);
  EXPECT_DOUBLE_EQ(q.scale, 2.1 / 7.0);
  EXPECT_EQ(q.zero_point, 0);
  EXPECT_EQ(q.quantize(2.1), 7);
  EXPECT_EQ(q.quantize(0.0), 0);
}

TEST(AsymmetricQuantizer, SignedWhenSomeValueIsNegativeWithReferenceZeroPoint) {
  const double rmin = -0.03;
  const double rmax = 1.02;
  const std::vector<double> values = {rmin, 0.5, rmax};
  const auto q = asymmetric_quantizer(TensorStatistics::of(values), 5);
  EXPECT_TRUE(q.is_signed);
  EXPECT_EQ(quantizer_offset(5, true), 16);
  EXPECT_DOUBLE_EQ(q.scale, (rmax - rmin) / 31.0);
  const double expected_zp = std::nearbyint((-rmax * 16 - rmin * (31 - 16)) / (rmax - rmin));
  EXPECT_EQ(q.zero_point, static_cast<int64_t>(expected_zp));
  // The calibration range maps onto the signed integer range.
  EXPECT_EQ(q.quantize(rmin), -16);
  EXPECT_EQ(q.quantize(rmax), 15);
}

TEST(AsymmetricQuantizer, ConstantTensorGetsItsMagnitudeAsScale) {
  const std::vector<double> values = {2.5, 2.5};
  const auto q = asymmetric_quantizer(TensorStatistics::of(values), 3);
  EXPECT_DOUBLE_EQ(q.scale, 2.5);
  EXPECT_EQ(q.zero_point, 0);
  const std::vector<double> zeros = {0.0};
  EXPECT_DOUBLE_EQ(asymmetric_quantizer(TensorStatistics::of(zeros), 3).scale, 1.0);
  EXPECT_DOUBLE_EQ(symmetric_quantizer(TensorStatistics::of(zeros), 3).scale, 1.0);
}

TEST(PtqQuantizers, RejectEmptyOrNonFiniteStatistics) {
  EXPECT_THROW(asymmetric_quantizer(TensorStatistics{}, 3), Error);
  const std::vector<double> bad = {0.0, std::numeric_limits<double>::quiet_NaN(), 1.0};
  EXPECT_THROW(symmetric_quantizer(TensorStatistics::of(bad), 3), Error);
  const std::vector<double> inf = {0.0, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(asymmetric_quantizer(TensorStatistics::of(inf), 3), Error);
}

TEST(RoundingShiftForRange, RoundedRangeFitsAndShiftIsSmallest) {
  // [0, 1023] is 10 bits; 5 bits by the plain formula would be shift 5, but 1023 rounds to 32 (6 bits).
  EXPECT_EQ(rounding_shift(10, 5), 5);
  EXPECT_EQ(range_bits(round_msbs(0, 5), round_msbs(1023, 5)), 6);
  const int shift = rounding_shift_for_range(0, 1023, 5);
  EXPECT_EQ(shift, 6);
  EXPECT_LE(range_bits(round_msbs(0, shift), round_msbs(1023, shift)), 5);
  EXPECT_EQ(rounding_shift_for_range(-100, 100, 8), 0);
  for (int64_t hi : {37, 250, 4000, 123456}) {
    for (int r = 2; r <= 8; ++r) {
      const int s = rounding_shift_for_range(-hi, hi / 2, r);
      EXPECT_LE(range_bits(round_msbs(-hi, s), round_msbs(hi / 2, s)), r);
      if (s > 0) {
        EXPECT_GT(range_bits(round_msbs(-hi, s - 1), round_msbs(hi / 2, s - 1)), r);
      }
    }
  }
  EXPECT_THROW(rounding_shift_for_range(0, 10, 0), Error);
}

}  // namespace
}  // namespace fhenn::quant
