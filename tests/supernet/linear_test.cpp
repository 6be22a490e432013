#include "supernet/linear.h"

#include <gtest/gtest.h>

#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

TEST(Linear, GradientsMatchCentralDifferences) {
  Linear linear(7);
  const auto report = testing::gradcheck(linear, {{3, 2, 2, 5}});  // flattens 2×2×5 = 20 features
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Linear, WithoutBias) {
  Linear linear(4, false);
  const auto report = testing::gradcheck(linear, {{5, 1, 1, 6}});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

}  // namespace
}  // namespace nas::supernet
