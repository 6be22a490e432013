// The quantities the latency model prices (cost_models/kernel_work.h), against counts done by hand.
#include "cost_models/kernel_work.h"

#include <gtest/gtest.h>

#include "cost_models/dual.h"

namespace nas::cost_models {
namespace {

TEST(KernelWork, ValidTapsLeaveOutThePadding) {
  // 4 wide, 3×3, pad 1: per row of outputs 2 + 3 + 3 + 2 = 10 taps, so 10·10 = 100 of the nominal 144.
  EXPECT_EQ(valid_taps({4, 4, 4, 4, 3, 1, 1}), 100.0);
  EXPECT_EQ(valid_taps({5, 5, 3, 3, 3, 1, 0}), 81.0);  // no padding: 9 taps at each of 9 positions
  EXPECT_EQ(valid_taps({9, 9, 5, 5, 5, 2, 2}), 21.0 * 21.0);
}

TEST(KernelWork, ConvSplitsItsIm2colByChannelCount) {
  OpInfo<double> conv;
  conv.path = KernelPath::conv;
  set_kernel_work(conv, 8.0, 16.0, {8, 8, 8, 8, 3, 1, 1});
  EXPECT_EQ(conv.macs, 8.0 * 16 * 64 * 9);
  EXPECT_EQ(conv.executed_macs, conv.macs);  // im2col multiplies the padding's zeros too
  EXPECT_EQ(conv.outputs, 16.0 * 64);
  EXPECT_EQ(conv.patch_values, 72.0 * 64);
  EXPECT_EQ(conv.scalar_patch_values, 0.0);
  EXPECT_EQ(conv.window_rows, 64.0 * 3);
  EXPECT_EQ(conv.tail_macs, 0.0);  // 72 values a window: whole SIMD steps
  EXPECT_EQ(conv.tail_outputs, 0.0);
  EXPECT_EQ(conv.scalar_taps, 0.0);  // copied word by word
  OpInfo<double> first;
  first.path = KernelPath::conv;
  set_kernel_work(first, 1.0, 16.0, {8, 8, 8, 8, 3, 1, 1});
  EXPECT_EQ(first.patch_values, 0.0);
  EXPECT_EQ(first.scalar_patch_values, 9.0 * 64);
  EXPECT_EQ(first.tail_macs, 16.0 * 64 * 1);  // 9 mod 4 = 1 value per output outside the SIMD steps
  EXPECT_EQ(first.tail_outputs, 16.0 * 64);   // every output runs the tail loop's set-up
  EXPECT_EQ(first.scalar_taps, 9.0 * 64);     // one bounds check per tap
}

TEST(KernelWork, DepthwisePlanesAndWholeWindows) {
  OpInfo<double> dw;
  dw.path = KernelPath::depthwise;
  set_kernel_work(dw, 6.0, 6.0, {4, 4, 4, 4, 3, 1, 1});
  EXPECT_EQ(dw.macs, 6.0 * 16 * 9);
  EXPECT_EQ(dw.executed_macs, dw.macs);          // both paths' planes run whole windows, padding included
  EXPECT_EQ(dw.patch_values, 6.0 * 16);          // each channel gathered into its plane once
  EXPECT_EQ(dw.scalar_patch_values, 7.0 * 8);    // 6 rows and a spare of pitch (4 + 2 + 2) zeroed once per call
  EXPECT_EQ(dw.window_rows, 6.0 * 1);            // the 4 output rows of 4 fit one pass of 64 sums
  EXPECT_EQ(dw.scalar_taps, 6.0 * (4 + 4));      // rows gathered and rows summed
  EXPECT_EQ(dw.tail_outputs, 6.0 * 16);          // 3×3 at stride 1: the four-outputs-per-pass loop
  EXPECT_EQ(dw.tail_macs, 0.0);
  OpInfo<double> strided;  // 5×5 at stride 2, rows of 4 outputs: all in the four-output loop, 2.5 units each
  strided.path = KernelPath::depthwise;
  set_kernel_work(strided, 6.0, 6.0, {8, 8, 4, 4, 5, 2, 2});
  EXPECT_EQ(strided.tail_outputs, 6.0 * 16 * 2.5);
  EXPECT_EQ(strided.tail_macs, 0.0);
  EXPECT_EQ(strided.valid_row_outputs, 0.0);
  OpInfo<double> ragged;  // 5×5 at stride 1, rows of 7: 4 outputs in the four-output loop, 3 in the two-output one
  ragged.path = KernelPath::depthwise;
  set_kernel_work(ragged, 6.0, 6.0, {7, 7, 7, 7, 5, 1, 2});
  EXPECT_DOUBLE_EQ(ragged.tail_outputs, 6.0 * 7 * 4 * 2.5);
  EXPECT_DOUBLE_EQ(ragged.tail_macs, 6.0 * 7 * 3 * 5 * 6);  // rows of 5 taps as 3 pairs
  EXPECT_DOUBLE_EQ(ragged.valid_row_outputs, 6.0 * 7 * 3 * 5);
  OpInfo<double> large;  // 7×7: the two-output loop only
  large.path = KernelPath::depthwise;
  set_kernel_work(large, 6.0, 6.0, {8, 8, 8, 8, 7, 1, 3});
  EXPECT_EQ(large.tail_macs, 6.0 * 64 * 7 * 8);
  EXPECT_EQ(large.tail_outputs, 0.0);
  EXPECT_EQ(plane_passes({8, 100, 4, 100, 3, 1, 1}), 4.0 * 2);  // rows of 100 outputs: two pieces of 64 each
  EXPECT_EQ(plane_passes({8, 8, 28, 28, 3, 1, 1}), 14.0);       // 2 rows of 28 per pass
}

TEST(KernelWork, SoftChannelsCarryTheirGradientThroughTheMainTerms) {
  OpInfo<Dual> pw;
  pw.path = KernelPath::conv1x1;
  const Dual cin = Dual::variable(6.0, 0, 2), cout = Dual::variable(10.0, 1, 2);
  set_kernel_work(pw, cin, cout, {7, 7, 7, 7, 1, 1, 0});
  EXPECT_EQ(pw.executed_macs.v, 6.0 * 10 * 49);
  EXPECT_EQ(pw.executed_macs.d[0], 10.0 * 49);  // d/dcin
  EXPECT_EQ(pw.tail_macs.v, 10.0 * 49 * 2);     // 6 mod 4 = 2
  EXPECT_EQ(pw.tail_macs.d[1], 49.0 * 2);       // through the outputs, the remainder held fixed
  EXPECT_EQ(pw.tail_macs.d[0], 0.0);
}

}  // namespace
}  // namespace nas::cost_models
