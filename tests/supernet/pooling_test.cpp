#include "supernet/pooling.h"

#include <gtest/gtest.h>

#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

// Distinct values 0.05 apart (more than 2h), so no perturbation changes which element wins a max window.
float distinct(float, int64_t index) { return static_cast<float>((index * 7919) % 1000) * 0.05f - 25.0f; }

TEST(MaxPool2d, GradientsMatchCentralDifferences) {
  MaxPool2d pool({2, 2, 0});
  auto report = testing::gradcheck(pool, {{2, 6, 6, 3}}, {.input_value = distinct});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
  MaxPool2d overlapping({3, 2, 1});
  report = testing::gradcheck(overlapping, {{2, 7, 7, 2}}, {.input_value = distinct});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(AvgPool2d, GradientsMatchCentralDifferences) {
  AvgPool2d pool({3, 2, 1});
  const auto report = testing::gradcheck(pool, {{2, 7, 6, 3}});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(GlobalAvgPool, GradientsMatchCentralDifferences) {
  GlobalAvgPool pool;
  const auto report = testing::gradcheck(pool, {{3, 4, 5, 6}});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Pooling, ForwardValuesByHand) {
  // 1×3×3×1 input 1..9; 2×2 windows, stride 1.
  Tensor in({1, 3, 3, 1}), out;
  for (int i = 0; i < 9; ++i) in[i] = static_cast<float>(i + 1);
  const Tensor* ins[] = {&in};
  const Shape shapes[] = {in.shape()};

  MaxPool2d max_pool({2, 1, 0});
  max_pool.output_shape(shapes);
  max_pool.forward(ins, out, true);
  EXPECT_EQ(out.shape(), (Shape{1, 2, 2, 1}));
  EXPECT_EQ(out[0], 5.0f);
  EXPECT_EQ(out[3], 9.0f);

  // Padding 1, kernel 3, stride 2: the corner window holds 1,2,4,5 inside the image: average 3 (not 12/9).
  AvgPool2d avg_pool({3, 2, 1});
  avg_pool.output_shape(shapes);
  avg_pool.forward(ins, out, true);
  EXPECT_EQ(out.shape(), (Shape{1, 2, 2, 1}));
  EXPECT_FLOAT_EQ(out[0], 3.0f);

  GlobalAvgPool gap;
  gap.output_shape(shapes);
  gap.forward(ins, out, true);
  EXPECT_FLOAT_EQ(out[0], 5.0f);
}

}  // namespace
}  // namespace nas::supernet
