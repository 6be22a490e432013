#include "supernet/activation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

// Inputs kept at least 0.1 away from the kinks at 0 and 6, where the derivative is not defined.
float away_from_kinks(float draw, int64_t) {
  float x = 4.0f * draw;
  if (std::abs(x) < 0.1f) x = x < 0 ? -0.1f - x : 0.1f + x;
  if (std::abs(x - 6.0f) < 0.1f) x = 6.2f;
  return x;
}

TEST(Relu, GradientsMatchCentralDifferences) {
  Relu relu;
  const auto report = testing::gradcheck(relu, {{2, 3, 3, 4}}, {.input_value = away_from_kinks});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Relu6, GradientsMatchCentralDifferences) {
  Relu relu6(6.0f);
  const auto report = testing::gradcheck(relu6, {{2, 3, 3, 4}}, {.input_value = away_from_kinks});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Relu6, ClampsToZeroAndSix) {
  Relu relu6(6.0f);
  Tensor in({1, 1, 1, 3}), out;
  in[0] = -2.0f;
  in[1] = 3.0f;
  in[2] = 9.0f;
  const Tensor* ins[] = {&in};
  relu6.forward(ins, out, true);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 3.0f);
  EXPECT_EQ(out[2], 6.0f);
}

}  // namespace
}  // namespace nas::supernet
