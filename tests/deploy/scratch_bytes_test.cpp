// The kernels' scratch sizes on layers whose figures are worked out by hand. The cost model takes its scratch from
// these same functions (cost_models/kernel_scratch.h, tests/cost_models/kernel_scratch_test.cpp).
#include <gtest/gtest.h>

#include "cost_models/kernel_path.h"
#include "mcunas_kernels.h"

namespace nas::deploy {
namespace {

TEST(ScratchBytes, ConvPlanarTakesOnePlanePerInputChannel) {
  EXPECT_EQ(MCUNAS_CONV_PLANAR_MAX_IN, cost_models::kConvPlanarMaxInputs);
  EXPECT_EQ(MCUNAS_PLANE_MAX_PAIRS, cost_models::kPlaneMaxPairs);
  // 28×28×1, 3×3 pad 1: one plane of 31 rows (30 and a spare row) by a pitch of 32 (30 and a spare column, even),
  // + 4 to align it.
  const mcunas_dims input{1, 28, 28, 1}, filter{12, 3, 3, 1};
  const mcunas_conv_params params{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &input, &filter), 2 * 31 * 32 + 4);
  // On a 1×1 map the im2col columns are the larger: 2 columns of 9 int16 values, + 3 to align them.
  const mcunas_dims tiny{1, 1, 1, 1};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &tiny, &filter), 2 * 2 * 9 + 3);
}

TEST(ScratchBytes, GeneralConvolutionsDepthwiseAndPoolingByHand) {
  // 16×16×16, 3×3 pad 1: two im2col columns of 16·9 int16 values, + 3 to put them on a 4-byte boundary (the
  // inner loop reads them with LDRD) wherever the arena places the scratch.
  const mcunas_dims input{1, 16, 16, 16}, filter{24, 3, 3, 16}, dw_filter{1, 3, 3, 16};
  const mcunas_conv_params params{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&params, &input, &filter), 2 * 2 * 16 * 9 + 3);
  // Depthwise on at most 16 columns and 4 channels or more: the group plane of four channels, 19 rows (18 and a
  // spare) of pitch 20 (18 and a spare column, even) positions of four int16 values, + 4 to align it, whatever the
  // channel count.
  EXPECT_EQ(mcunas_depthwise_conv_s8_scratch_bytes(&params, &input, &dw_filter), 8 * 19 * 20 + 4);
  const mcunas_dims deep{1, 16, 16, 200}, deep_filter{1, 3, 3, 200};
  EXPECT_EQ(mcunas_depthwise_conv_s8_scratch_bytes(&params, &deep, &deep_filter), 8 * 19 * 20 + 4);
  // Otherwise one channel's plane: 17 columns (pitch 20), or 3 channels.
  const mcunas_dims wide{1, 16, 17, 16}, few{1, 16, 16, 3}, few_filter{1, 3, 3, 3};
  EXPECT_EQ(mcunas_depthwise_conv_s8_scratch_bytes(&params, &wide, &dw_filter), 2 * 19 * 20 + 4);
  EXPECT_EQ(mcunas_depthwise_conv_s8_scratch_bytes(&params, &few, &few_filter), 2 * 19 * 20 + 4);
  // Average pooling, global included: one int32 sum per channel; max pooling: nothing; add: a table of 256 int32
  // values (+ 3 to align it) from 2,048 elements on, nothing below.
  EXPECT_EQ(mcunas_avg_pool_s8_scratch_bytes(&input), 4 * 16);
  EXPECT_EQ(mcunas_global_avg_pool_s8_scratch_bytes(&input), 4 * 16);
  EXPECT_EQ(mcunas_max_pool_s8_scratch_bytes(&input), 0);
  EXPECT_EQ(mcunas_add_s8_scratch_bytes(16 * 16 * 16), 4 * 256 + 3);
  EXPECT_EQ(mcunas_add_s8_scratch_bytes(2048), 4 * 256 + 3);
  EXPECT_EQ(mcunas_add_s8_scratch_bytes(2047), 0);
}

TEST(ScratchBytes, OneByOneConvolutionsHoldTwoPixelsAndFullyConnectedNothing) {
  // A 1×1 convolution at any stride and padding splits two pixels of 5 values into int16 columns (+ 3 to align).
  const mcunas_dims input{1, 8, 8, 5};
  const mcunas_dims filter{7, 1, 1, 5};
  const mcunas_conv_params strided{2, 2, 0, 0, 0, 0, -128, 127};
  const mcunas_conv_params padded{1, 1, 1, 1, 0, 0, -128, 127};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&strided, &input, &filter), 2 * 2 * 5 + 3);
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&padded, &input, &filter), 2 * 2 * 5 + 3);
  // Fully connected runs as a 1×1 convolution of one pixel: read in place.
  const mcunas_dims flat{1, 1, 1, 320}, fc{10, 1, 1, 320};
  EXPECT_EQ(mcunas_conv_s8_scratch_bytes(&strided, &flat, &fc), 0);
}

}  // namespace
}  // namespace nas::deploy
