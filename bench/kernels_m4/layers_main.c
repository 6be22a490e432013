/* The reference layers of bench/kernels_m4, each run once between two marker instructions that
 * deploy/firmware/qemu_icount_plugin.c counts between: int8 conv 3x3 on 16x16x16 -> 16 channels with padding 1
 * (589,824 MACs, the layer DESIGN.md gives CMSIS-NN's 2.33 instructions/MAC for), conv 1x1 on the same input
 * (65,536 MACs), depthwise 3x3 with padding 1 (36,864 MACs), fully connected 1024 -> 16 (16,384 MACs). */
#include <stddef.h>
#include <stdint.h>

#include "mcunas_kernels.h"
#include "semihosting.h"

#define MARK() __asm volatile("mov r11, r11")

static int8_t input[16 * 16 * 16], weights[16 * 3 * 3 * 16], output[16 * 16 * 16];
static int32_t bias[16], multiplier[16], shift[16];
static int16_t scratch[2 * 3 * 3 * 16]; /* two im2col columns (mcunas_conv_s8_scratch_bytes) */
static int16_t plane[(2 * 18 * 20 + 4) / 2]; /* one padded channel (mcunas_depthwise_conv_s8_scratch_bytes) */

int main(void) {
  uint32_t state = 7u;
  for (int i = 0; i < (int)sizeof input; ++i) input[i] = (int8_t)((state = state * 1664525u + 1013904223u) >> 24);
  for (int i = 0; i < (int)sizeof weights; ++i) weights[i] = (int8_t)((state = state * 1664525u + 1013904223u) >> 24);
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
  MARK();
  mcunas_conv_s8(&padded, &q, &in, input, &f3, weights, bias, &out, output, scratch);
  MARK();
  mcunas_conv_s8(&unpadded, &q, &in, input, &f1, weights, bias, &out, output, NULL);
  MARK();
  mcunas_depthwise_conv_s8(&padded, &q, &in, input, &dw, weights, bias, &out, output, plane);
  MARK();
  mcunas_fully_connected_s8(&fc, 1, 1024, input, 16, weights, bias, output);
  MARK();
  return 0;
}
