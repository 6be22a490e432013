// The cost model's scratch table (cost_models/kernel_scratch.h): each kernel path asks the kernel it runs, and a
// soft channel count is priced between the kernel's own figures at the whole counts around it.
#include "cost_models/kernel_scratch.h"

#include <gtest/gtest.h>

#include <random>

#include "cost_models/dual.h"
#include "cost_models/kernel_work.h"

namespace nas::cost_models {
namespace {

ScratchCall random_call(std::mt19937& rng, int32_t channels) {
  std::uniform_int_distribution<int32_t> side(1, 40), odd_kernel(0, 3), stride(1, 2);
  const int32_t k = 2 * odd_kernel(rng) + 1;
  ScratchCall call = conv_scratch_call(side(rng), side(rng), k, stride(rng), k / 2);
  call.input.c = call.filter.c = channels;
  call.elements = call.input.h * call.input.w * channels;
  return call;
}

TEST(KernelScratchTest, EveryPathAsksTheKernelItRuns) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int32_t> channels(1, 300);
  for (int trial = 0; trial < 300; ++trial) {
    const ScratchCall c = random_call(rng, trial % 4 == 0 ? 1 + trial % 5 : channels(rng));
    const int32_t conv = mcunas_conv_s8_scratch_bytes(&c.conv, &c.input, &c.filter);
    for (const KernelPath path : {KernelPath::conv, KernelPath::conv1x1, KernelPath::conv_planar,
                                  KernelPath::fully_connected})
      EXPECT_EQ(kernel_scratch_bytes(path, c), conv) << name_of(path);
    EXPECT_EQ(kernel_scratch_bytes(KernelPath::depthwise, c),
              mcunas_depthwise_conv_s8_scratch_bytes(&c.conv, &c.input, &c.filter));
    EXPECT_EQ(kernel_scratch_bytes(KernelPath::max_pool, c), mcunas_max_pool_s8_scratch_bytes(&c.input));
    EXPECT_EQ(kernel_scratch_bytes(KernelPath::avg_pool, c), mcunas_avg_pool_s8_scratch_bytes(&c.input));
    EXPECT_EQ(kernel_scratch_bytes(KernelPath::global_avg_pool, c),
              mcunas_global_avg_pool_s8_scratch_bytes(&c.input));
    EXPECT_EQ(kernel_scratch_bytes(KernelPath::add, c), mcunas_add_s8_scratch_bytes(c.elements));
  }
}

// The paths whose scratch grows with the input channels must differ on this call, or the rows above could be
// swapped unnoticed: a 3×3 convolution's columns, a depthwise group plane (four channels), the pooling sums.
TEST(KernelScratchTest, TheRowsDifferWhereTheKernelsDo) {
  ScratchCall c = conv_scratch_call(16, 16, 3, 1, 1);
  c.input.c = c.filter.c = 16;
  EXPECT_EQ(kernel_scratch_bytes(KernelPath::conv, c), 2 * 2 * 16 * 9 + 3);  // 3 bytes to align the columns
  EXPECT_EQ(kernel_scratch_bytes(KernelPath::depthwise, c), 8 * 19 * 20 + 4);  // 18 rows and a spare
  EXPECT_EQ(kernel_scratch_bytes(KernelPath::depthwise_groups, c), 8 * 19 * 20 + 4);
  EXPECT_EQ(kernel_scratch_bytes(KernelPath::avg_pool, c), 4 * 16);
  EXPECT_EQ(kernel_scratch_bytes(KernelPath::max_pool, c), 0);
}

TEST(KernelScratchTest, SoftChannelCountsLieBetweenTheKernelsFiguresWithTheirSlope) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> channels(1, 100);
  std::uniform_real_distribution<double> fraction(0.05, 0.95);
  for (int trial = 0; trial < 200; ++trial) {
    const int32_t n = trial % 5 == 0 ? 1 + trial % 6 : channels(rng);  // across conv_planar's limit too
    const ScratchCall call = random_call(rng, n);
    for (size_t p = 0; p < kKernelPathCount; ++p) {
      const auto path = static_cast<KernelPath>(p);
      ScratchCall next = call;
      next.input.c = next.filter.c = n + 1;
      next.elements = next.input.h * next.input.w * (n + 1);
      const double low = kernel_scratch_bytes(path, call), high = kernel_scratch_bytes(path, next);
      // A whole count is the kernel's figure, for double and Dual alike.
      EXPECT_EQ(kernel_scratch_bytes(path, call, double(n)), low) << name_of(path);
      EXPECT_EQ(kernel_scratch_bytes(path, call, Dual(n)).v, low) << name_of(path);
      // In between: linear, and the gradient is the slope (a channel count that is the first of 1 variable).
      const double t = fraction(rng);
      const Dual soft = kernel_scratch_bytes(path, call, Dual::variable(n + t, 0, 1));
      EXPECT_NEAR(soft.v, low + t * (high - low), 1e-9 * (1 + high)) << name_of(path);
      EXPECT_NEAR(soft.grad(0), high - low, 1e-9 * (1 + high)) << name_of(path);
    }
  }
}

// The depthwise kernel's scratch is one plane: the work model's plane pitch and rows (kernel_work.h) must be the
// kernels'.
TEST(KernelScratchTest, TheWorkModelsPlanePitchIsTheKernels) {
  for (int32_t in_w = 1; in_w <= 40; ++in_w)
    for (int32_t pad = 0; pad <= 3; ++pad) {
      ScratchCall c = conv_scratch_call(7, in_w, 2 * pad + 1, 1, pad);
      c.input.c = c.filter.c = 3;
      EXPECT_EQ(kernel_scratch_bytes(KernelPath::depthwise, c), 2 * plane_rows(7, pad) * plane_pitch(in_w, pad) + 4)
          << "in_w " << in_w << " pad " << pad;
    }
}

}  // namespace
}  // namespace nas::cost_models
