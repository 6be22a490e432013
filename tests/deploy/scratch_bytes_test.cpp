// The kernels' scratch-size functions and the cost model's scratch formulas (cost_models/kernel_scratch.h) are
// written twice (the cost model must also price soft channel counts); they must agree, or the search would price
// an arena the firmware cannot use.
#include <gtest/gtest.h>

#include <random>

#include "cost_models/kernel_path.h"
#include "cost_models/kernel_scratch.h"
#include "mcunas_kernels.h"

namespace nas::deploy {
namespace {

TEST(ScratchBytes, KernelsReserveWhatTheCostModelPrices) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int32_t> channels(1, 300), few(1, 4), side(1, 40);
  std::uniform_int_distribution<int32_t> odd_kernel(0, 3);
  std::uniform_int_distribution<int32_t> stride(1, 2);
  for (int trial = 0; trial < 500; ++trial) {
    // A quarter of the layers with at most 4 input channels (the planes of conv_planar up to 3), on maps of any size.
    const int32_t cin = trial % 4 == 0 ? few(rng) : channels(rng), cout = channels(rng), k = 2 * odd_kernel(rng) + 1,
                  s = stride(rng);
    const mcunas_dims input{1, side(rng), side(rng), cin};
    const mcunas_dims filter{cout, k, k, cin};
    const mcunas_conv_params params{s, s, k / 2, k / 2, 0, 0, -128, 127};
    const double priced = k == 1 ? cost_models::scratch::conv1x1_bytes(double(cin), input.h, input.w)
                          : cin <= cost_models::kConvPlanarMaxInputs
                              ? cost_models::scratch::conv_planar_bytes(double(cin), input.h, input.w, k)
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

TEST(ScratchBytes, TheKernelsAndTheCostModelAgreeOnWhatConvPlanarTakes) {
  EXPECT_EQ(MCUNAS_CONV_PLANAR_MAX_IN, cost_models::kConvPlanarMaxInputs);
  // 28×28×1, 3×3 pad 1: one plane of 30 rows by a pitch of 32 (30 and a spare column, even), + 4 to align it.
  const mcunas_dims input{1, 28, 28, 1}, filter{12, 3, 3, 1};
  const mcunas_conv_params params{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &input, &filter), 2 * 30 * 32 + 4);
  // On a 1×1 map the im2col columns are the larger: 2 columns of 9 int16 values.
  const mcunas_dims tiny{1, 1, 1, 1};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &tiny, &filter), 2 * 2 * 9);
}

TEST(ScratchBytes, OneByOneConvolutionsHoldTwoPixelsAndFullyConnectedNothing) {
  // A 1×1 convolution at any stride and padding splits two pixels of 5 values into int16 columns.
  const mcunas_dims input{1, 8, 8, 5};
  const mcunas_dims filter{7, 1, 1, 5};
  const mcunas_conv_params strided{2, 2, 0, 0, 0, 0, -128, 127};
  const mcunas_conv_params padded{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&strided, &input, &filter), 2 * 2 * 5);
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&padded, &input, &filter), 2 * 2 * 5);
  // Fully connected runs as a 1×1 convolution of one pixel: read in place.
  const mcunas_dims flat{1, 1, 1, 320}, fc{10, 1, 1, 320};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&strided, &flat, &fc), 0);
  EXPECT_EQ(cost_models::scratch::none<double>(), 0.0);
}

}  // namespace
}  // namespace nas::deploy
