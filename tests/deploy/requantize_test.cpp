// Requantisation against a double-precision reference: with two rounding steps (the high multiply, then the
// shift) the integer result is within 1 of the exact real acc * multiplier / 2^31 * 2^shift, and exactly the
// rounded value when the shift is not negative (one rounding only).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

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
