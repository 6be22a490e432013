#include "cost_models/dual.h"

#include <gtest/gtest.h>

#include <functional>

namespace nas::cost_models {
namespace {

// f(x, y) exercising every operator, with constants on either side.
template <class S>
S mix(const S& x, const S& y) {
  S z = (x * y + 3.0) / (x - y * 2.0) - (-x) * 1.5;
  z += 2.0 / y;
  z -= x / 4.0;
  z *= 0.5 + y;
  z /= 1.0 + x * x;
  return z - (1.0 - y);
}

TEST(Dual, MatchesCentralDifferences) {
  const double x = 1.3;
  const double y = -0.7;
  const Dual f = mix(Dual::variable(x, 0, 2), Dual::variable(y, 1, 2));
  EXPECT_DOUBLE_EQ(f.v, mix(x, y));
  const double h = 1e-6;
  const double dfdx = (mix(x + h, y) - mix(x - h, y)) / (2 * h);
  const double dfdy = (mix(x, y + h) - mix(x, y - h)) / (2 * h);
  EXPECT_NEAR(f.grad(0), dfdx, 1e-7 * (1 + std::abs(dfdx)));
  EXPECT_NEAR(f.grad(1), dfdy, 1e-7 * (1 + std::abs(dfdy)));
}

TEST(Dual, ConstantsHaveNoGradient) {
  const Dual c = 4.0;
  EXPECT_TRUE(c.d.empty());
  EXPECT_EQ(c.grad(3), 0.0);
  const Dual x = Dual::variable(2.0, 1, 3);
  const Dual y = c * x + c;
  EXPECT_EQ(y.v, 12.0);
  EXPECT_EQ(y.d, (std::vector<double>{0.0, 4.0, 0.0}));
}

TEST(Dual, MaxTakesTheLargerGradientAndTheFirstOnTies) {
  const Dual a = Dual::variable(2.0, 0, 2);
  const Dual b = Dual::variable(3.0, 1, 2) * 2.0;
  EXPECT_EQ(max(a, b).v, 6.0);
  EXPECT_EQ(max(a, b).grad(1), 2.0);
  EXPECT_EQ(max(b, a).grad(1), 2.0);
  const Dual tie = Dual::variable(2.0, 1, 2);
  EXPECT_EQ(max(a, tie).grad(0), 1.0);
  EXPECT_EQ(max(tie, a).grad(1), 1.0);
  EXPECT_EQ(scalar_max(1.0, 2.0), 2.0);
  EXPECT_EQ(scalar_max(a, tie).grad(0), 1.0);
}

TEST(Dual, ComparesValues) {
  const Dual a = Dual::variable(2.0, 0, 1);
  EXPECT_TRUE(a < 3.0);
  EXPECT_TRUE(a > 1.0);
  EXPECT_TRUE(a <= 2.0);
  EXPECT_TRUE(a >= 2.0);
  EXPECT_TRUE(a == Dual(2.0));
  EXPECT_EQ(value_of(a), 2.0);
  EXPECT_EQ(value_of(2.5), 2.5);
}

}  // namespace
}  // namespace nas::cost_models
