// The kernels' scratch-size functions and the cost model's scratch formulas (cost_models/kernel_scratch.h) are
// written twice (the cost model must also price soft channel counts); they must agree, or the search would price
// an arena the firmware cannot use.
#include <gtest/gtest.h>

#include <random>

#include "cost_models/kernel_scratch.h"
#include "mcunas_kernels.h"

namespace nas::deploy {
namespace {

TEST(ScratchBytes, KernelsReserveWhatTheCostModelPrices) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int32_t> channels(1, 300);
  std::uniform_int_distribution<int32_t> odd_kernel(0, 3);
  std::uniform_int_distribution<int32_t> stride(1, 2);
  for (int trial = 0; trial < 500; ++trial) {
    const int32_t cin = channels(rng), cout = channels(rng), k = 2 * odd_kernel(rng) + 1, s = stride(rng);
    const mcunas_dims input{1, 16, 16, cin};
    const mcunas_dims filter{cout, k, k, cin};
    const mcunas_conv_params params{s, s, k / 2, k / 2, 0, 0, -128, 127};
    const double priced = k == 1 ? cost_models::scratch::conv1x1_bytes(double(cin))
                                 : cost_models::scratch::conv_bytes(double(cin), k);
    EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &input, &filter), priced) << "conv " << k << "x" << k;
    const mcunas_dims dw_filter{1, k, k, cin};
    EXPECT_EQ(mcunas_depthwise_conv_s8_scratch_bytes(&params, &input, &dw_filter),
              cost_models::scratch::depthwise_bytes<double>(input.h, input.w, k / 2));
    EXPECT_EQ(mcunas_avg_pool_s8_scratch_bytes(&input), cost_models::scratch::avg_pool_bytes(double(cin)));
    EXPECT_EQ(mcunas_global_avg_pool_s8_scratch_bytes(&input), cost_models::scratch::avg_pool_bytes(double(cin)));
    EXPECT_EQ(mcunas_max_pool_s8_scratch_bytes(&input), cost_models::scratch::none<double>());
    EXPECT_EQ(mcunas_add_s8_scratch_bytes(cin * 256), cost_models::scratch::none<double>());
    EXPECT_EQ(mcunas_fully_connected_s8_scratch_bytes(cin), cost_models::scratch::none<double>());
  }
}

TEST(ScratchBytes, OnlyAPaddedOneByOneConvolutionNeedsABuffer) {
  // The search's 1×1 convolutions are unpadded (padding k/2 = 0) and read their input in place at any stride.
  const mcunas_dims input{1, 8, 8, 5};
  const mcunas_dims filter{7, 1, 1, 5};
  const mcunas_conv_params strided{2, 2, 0, 0, 0, 0, -128, 127};
  const mcunas_conv_params padded{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&strided, &input, &filter), 0);
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&padded, &input, &filter), 2 * 2 * 5);
}

}  // namespace
}  // namespace nas::deploy
