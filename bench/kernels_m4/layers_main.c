/* The reference layers of bench/kernels_m4, each run once between two marker instructions that
 * deploy/firmware/qemu_icount_plugin.c counts between: int8 conv 3x3 on 16x16x16 -> 16 channels with padding 1
 * (589,824 MACs, the layer DESIGN.md gives CMSIS-NN's 2.33 instructions/MAC for), conv 1x1 on the same input
 * (65,536 MACs), depthwise 3x3 with padding 1 (36,864 MACs), fully connected 1024 -> 16 (16,384 MACs), then the
 * layers issue 18 adds: conv 1x1 with 8 input channels (16x16x8 -> 16, 32,768 MACs), first layers conv 3x3 with one
 * input channel (28x28x1 -> 12, the README network's, 84,672 MACs) and with three (32x32x3 -> 16, 442,368 MACs),
 * the 5x5 layers the searched networks pick (depthwise 5x5 on 16x16x16 with padding 2, 102,400 MACs, and at stride
 * 2, 25,600 MACs; a first layer conv 5x5 28x28x1 -> 16 with padding 2, 313,600 MACs), 1,024 requantisations
 * of the fast and of the exact form (each with its load and store), and the depthwise layers of MLPerf Tiny's
 * small maps, 16 of their channels (four groups of four on the DSP path): DS-CNN's 25x5 (3x3, padding 1, 18,000
 * MACs), MobileNetV1's 6x6 (5,184 MACs) and its 12x12 at stride 2 (5,184 MACs), and a residual join of 4,096
 * elements (int8 ADD). */
#include <stddef.h>
#include <stdint.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "semihosting.h"

#define MARK() __asm volatile("mov r11, r11")

static int8_t input[16 * 16 * 16], weights[16 * 3 * 3 * 16], output[32 * 32 * 16];
static int32_t bias[16], multiplier[16], shift[16], sums[1024];
/* The largest scratch of the layers below: the three-channel first layer's planes
 * (mcunas_conv_s8_scratch_bytes: 3 * 2 * 34 * 34 + 4), at an odd address as the arena may place it. */
static int8_t scratch[3 * 2 * 34 * 34 + 4 + 1];

int main(void) {
  uint32_t state = 7u;
  for (int i = 0; i < (int)sizeof input; ++i) input[i] = (int8_t)((state = state * 1664525u + 1013904223u) >> 24);
  for (int i = 0; i < (int)sizeof weights; ++i) weights[i] = (int8_t)((state = state * 1664525u + 1013904223u) >> 24);
  for (int i = 0; i < 1024; ++i) sums[i] = (int32_t)((state = state * 1664525u + 1013904223u) >> 12) - (1 << 19);
  for (int c = 0; c < 16; ++c) {
    bias[c] = 100 * c - 800;
    multiplier[c] = 1518500250;
    shift[c] = -9;
  }
  const mcunas_channel_quant q = {multiplier, shift};
  const mcunas_dims in = {1, 16, 16, 16}, out = {1, 16, 16, 16};
  const mcunas_conv_params padded = {1, 1, 1, 1, 3, -5, -128, 127}, unpadded = {1, 1, 0, 0, 3, -5, -128, 127};
  const mcunas_dims f3 = {16, 3, 3, 16}, f1 = {16, 1, 1, 16}, dw = {1, 3, 3, 16};
  const mcunas_fc_params fc = {3, -5, 1518500250, -9, -128, 127};
  const mcunas_dims in8 = {1, 16, 16, 8}, f1_8 = {16, 1, 1, 8};
  const mcunas_dims in1 = {1, 28, 28, 1}, out1 = {1, 28, 28, 12}, f3_1 = {12, 3, 3, 1};
  const mcunas_dims in3 = {1, 32, 32, 3}, out3 = {1, 32, 32, 16}, f3_3 = {16, 3, 3, 3};
  const mcunas_conv_params padded2 = {1, 1, 2, 2, 3, -5, -128, 127}, strided2 = {2, 2, 2, 2, 3, -5, -128, 127};
  const mcunas_dims dw5 = {1, 5, 5, 16}, out5 = {1, 28, 28, 16}, f5_1 = {16, 5, 5, 1}, half = {1, 8, 8, 16};
  const mcunas_dims fc_in = {1, 1, 1, 1024}, fc_filter = {16, 1, 1, 1024}, fc_out = {1, 1, 1, 16};
  const mcunas_dims kws = {1, 25, 5, 16}, small = {1, 6, 6, 16}, small_in2 = {1, 12, 12, 16};
  const mcunas_conv_params strided = {2, 2, 0, 0, 3, -5, -128, 127}; /* TensorFlow "same" at stride 2: 0 on top */
  const int32_t right = 9, round = mcunas_requantize_round(right);
  MARK();
  mcunas_conv_s8(&padded, &q, &in, input, &f3, weights, bias, &out, output, scratch + 1);
  MARK();
  mcunas_conv_s8(&unpadded, &q, &in, input, &f1, weights, bias, &out, output, scratch + 1);
  MARK();
  mcunas_depthwise_conv_s8(&padded, &q, &in, input, &dw, weights, bias, &out, output, scratch + 1);
  MARK();
  mcunas_fully_connected_s8(&fc, 1, 1024, input, 16, weights, bias, output);
  MARK();
  mcunas_conv_s8(&unpadded, &q, &in8, input, &f1_8, weights, bias, &out, output, scratch + 1);
  MARK();
  mcunas_conv_s8(&padded, &q, &in1, input, &f3_1, weights, bias, &out1, output, scratch + 1);
  MARK();
  mcunas_conv_s8(&padded, &q, &in3, input, &f3_3, weights, bias, &out3, output, scratch + 1);
  MARK();
  mcunas_depthwise_conv_s8(&padded2, &q, &in, input, &dw5, weights, bias, &out, output, scratch + 1);
  MARK();
  mcunas_depthwise_conv_s8(&strided2, &q, &in, input, &dw5, weights, bias, &half, output, scratch + 1);
  MARK();
  mcunas_conv_s8(&padded2, &q, &in1, input, &f5_1, weights, bias, &out5, output, scratch + 1);
  MARK();
  /* The fully connected layer as the generated code runs it: a one-pixel 1x1 convolution, per-channel scales. */
  mcunas_conv_s8(&unpadded, &q, &fc_in, input, &fc_filter, weights, bias, &fc_out, output, NULL);
  MARK();
  for (int i = 0; i < 1024; ++i)
    output[i] = mcunas_requantize_doubled_full_s8(2 * sums[i], 1518500250, right, round, -5);
  MARK();
  for (int i = 0; i < 1024; ++i) output[i] = mcunas_requantize_to_s8(sums[i], 1518500250, -9, -5, -128, 127);
  MARK();
  mcunas_depthwise_conv_s8(&padded, &q, &kws, input, &dw, weights, bias, &kws, output, scratch + 1);
  MARK();
  mcunas_depthwise_conv_s8(&padded, &q, &small, input, &dw, weights, bias, &small, output, scratch + 1);
  MARK();
  mcunas_depthwise_conv_s8(&strided, &q, &small_in2, input, &dw, weights, bias, &small, output, scratch + 1);
  MARK();
  /* A residual join of two 16x16x16 tensors as TFLite's int8 ADD quantises it (left shift 20, the larger input
   * scale's exact 0.5, output shift -18), with its table in the scratch; the second input is the upper half of the
   * output buffer, which the layers above wrote. */
  const mcunas_add_params join = {3, 1073741824, 0, -7, 1518500250, -2, 20, -5, 1518500250, -18, -128, 127};
  mcunas_add_s8(&join, 4096, input, output + 8192, output, scratch + 1);
  MARK();
  return 0;
}
