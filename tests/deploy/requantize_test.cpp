// Requantisation against a double-precision reference: with two rounding steps (the high multiply, then the
// shift) the integer result is within 1 of the exact real acc * multiplier / 2^31 * 2^shift, and exactly the
// rounded value when the shift is not negative (one rounding only).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "requantize.h"

namespace {

long double exact(int32_t acc, int32_t multiplier, int32_t shift) {
  return std::ldexp(static_cast<long double>(acc) * multiplier, shift - 31);
}

TEST(Requantize, WithinItsDocumentedRoundingOfTheExactProduct) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> multiplier(1 << 30, INT32_MAX), shift(-31, 2);
  std::uniform_int_distribution<int32_t> acc(-(1 << 22), 1 << 22);  // accumulators of real layers, no saturation
  long double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = acc(rng), m = multiplier(rng), s = shift(rng);
    const long double error = std::fabs(static_cast<long double>(mcunas_requantize(a, m, s)) - exact(a, m, s));
    worst = std::max(worst, error);
    ASSERT_LE(error, 1.0L) << a << " " << m << " " << s;
    if (s >= 0) {
      ASSERT_LE(error, 0.5L) << a << " " << m << " " << s;  // one rounding: nearest
    }
  }
  EXPECT_GT(worst, 0.5L);  // the double rounding does show: the bound above is the tight one
}

TEST(Requantize, TiesAfterTheShiftGoAwayFromZero) {
  const int32_t half = 1 << 30;  // multiplier 0.5 exactly
  EXPECT_EQ(mcunas_requantize(6, half, -1), 2);    // 6 * 0.5 = 3, / 2 = 1.5 -> 2
  EXPECT_EQ(mcunas_requantize(-6, half, -1), -2);  // -1.5 -> -2 (away from zero, not toward +infinity)
  EXPECT_EQ(mcunas_requantize(10, half, -2), 1);   // 1.25 -> 1
  EXPECT_EQ(mcunas_requantize(0, half, -5), 0);
}

TEST(Requantize, SaturatesALeftShiftThatWouldOverflow) {
  EXPECT_EQ(mcunas_requantize(INT32_MAX, INT32_MAX, 2), INT32_MAX - 1);  // (2^31 - 1) * (1 - 2^-31), saturated x
  EXPECT_EQ(mcunas_requantize(1 << 30, 1 << 30, 2), 1 << 30);            // x saturates to 2^31 - 1, times 0.5
}

TEST(Requantize, ClampsToTheActivationRangeAfterTheOffset) {
  EXPECT_EQ(mcunas_requantize_to_s8(1000, 1 << 30, 0, 10, -128, 127), 127);
  EXPECT_EQ(mcunas_requantize_to_s8(-1000, 1 << 30, 0, 10, 10, 127), 10);  // ReLU: act_min = zero point
  EXPECT_EQ(mcunas_requantize_to_s8(40, 1 << 30, 0, -3, -128, 127), 17);
}

}  // namespace

// The fast form the DSP kernels use (requantize.h): on every channel mcunas_requantize_doubled_fits accepts, the
// same integer as the exact form, for every right shift, random sums and the edges of the accepted range.
TEST(Requantize, TheDoubledFormGivesTheExactFormsBits) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> multiplier(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> acc(-(1 << 30) + 1, (1 << 30) - 1);
  const int32_t edges[] = {0, 1, -1, 2, -2, (1 << 30) - 1, -(1 << 30) + 1, 12345, -12345};
  const int32_t multiplier_edges[] = {0, 1 << 30, INT32_MAX, (1 << 30) + 1, 1518500250};  // 0: a zero scale
  for (int32_t shift = -31; shift <= -1; ++shift) {
    const int32_t right = -shift, round = mcunas_requantize_round(right);
    auto check = [&](int32_t a, int32_t m) {
      ASSERT_EQ(mcunas_requantize_doubled(2 * a, m, right, round), mcunas_requantize(a, m, shift))
          << a << " " << m << " " << shift;
      ASSERT_EQ(mcunas_requantize_doubled_full_s8(2 * a, m, right, round, -7),
                mcunas_requantize_to_s8(a, m, shift, -7, -128, 127));
      ASSERT_EQ(mcunas_requantize_doubled_to_s8(2 * a, m, right, round, 5, -100, 90),
                mcunas_requantize_to_s8(a, m, shift, 5, -100, 90));
    };
    for (const int32_t a : edges)
      for (const int32_t m : multiplier_edges) check(a, m);
    for (int i = 0; i < 20000; ++i) check(acc(rng), multiplier(rng));
    // Ties of the rounding shift: h = (2k + 1) * 2^(right - 1) exactly, with the multiplier 0.5 (h = acc / 2).
    for (int32_t k = -3; k <= 3; ++k) {
      const int64_t tie = (2 * int64_t{k} + 1) << right;  // acc = 2h
      if (tie > -(int64_t{1} << 30) && tie < (int64_t{1} << 30)) check(static_cast<int32_t>(tie), 1 << 30);
    }
  }
}

TEST(Requantize, TheDoubledFormIsRefusedWhereItCouldOverflowOrHasNoRightShift) {
  EXPECT_TRUE(mcunas_requantize_doubled_fits(20000, -9, 9));
  EXPECT_FALSE(mcunas_requantize_doubled_fits(20000, 0, 9));    // no right shift: the exact form
  EXPECT_FALSE(mcunas_requantize_doubled_fits(20000, 1, 9));    // a left shift
  EXPECT_FALSE(mcunas_requantize_doubled_fits(20000, -32, 9));  // beyond the documented range
  EXPECT_FALSE(mcunas_requantize_doubled_fits((1 << 30) - 100, -9, 1));  // |acc| could reach 2^30
  EXPECT_FALSE(mcunas_requantize_doubled_fits(0, -9, 40000));  // 40,000 taps of 255 * 128 pass 2^30
  const int32_t bias[] = {5, -7, 1 << 29}, shift[] = {-3, -4, -5};
  EXPECT_TRUE(mcunas_requantize_doubled_fits_all(bias, shift, 2, 100));
  EXPECT_FALSE(mcunas_requantize_doubled_fits_all(bias, shift, 3, 100000));
  EXPECT_TRUE(mcunas_requantize_doubled_fits_all(nullptr, shift, 3, 9));
}

// The 32-bit test the kernels run per channel (a bound per call, one unsigned compare per bias) accepts exactly the
// biases the 64-bit condition |bias| + 255 * 128 * taps < 2^30 accepts: at and around every edge, for tap counts
// from 0 to past the point where the products alone reach 2^30 (bound 0: no bias fits, not even 0), and at random.
TEST(Requantize, TheBiasTestPerChannelIsTheSixtyFourBitCondition) {
  const auto reference = [](int32_t bias, int32_t taps) {
    const int64_t magnitude = bias < 0 ? -int64_t{bias} : int64_t{bias};
    return magnitude + int64_t{255} * 128 * taps < (int64_t{1} << 30);
  };
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (const int32_t taps : {0, 1, 9, 25, 1024, 32895, 32896, 32897, 40000, 1 << 20}) {
    const int32_t bound = mcunas_requantize_bias_bound(taps);
    const int64_t edge = (int64_t{1} << 30) - int64_t{255} * 128 * taps;
    EXPECT_EQ(bound, edge > 0 ? edge : 0) << taps;
    std::vector<int32_t> biases = {0, 1, -1, INT32_MIN, INT32_MAX, INT32_MIN + 1, 1 << 30, -(1 << 30)};
    for (const int64_t d : {-2, -1, 0, 1, 2})
      for (const int64_t b : {int64_t{bound} + d, -int64_t{bound} + d})
        if (b >= INT32_MIN && b <= INT32_MAX) biases.push_back(static_cast<int32_t>(b));
    for (int i = 0; i < 2000; ++i) biases.push_back(any(rng));
    for (const int32_t bias : biases) {
      EXPECT_EQ(mcunas_requantize_bias_fits(bias, bound) != 0, reference(bias, taps)) << bias << ", " << taps;
      EXPECT_EQ(mcunas_requantize_doubled_fits(bias, -9, taps) != 0, reference(bias, taps)) << bias << ", " << taps;
    }
  }
  for (int32_t shift = -40; shift <= 5; ++shift)
    EXPECT_EQ(mcunas_requantize_shift_fits(shift) != 0, shift >= -31 && shift <= -1) << shift;
}
