/* The firmware of `nas calibrate`: every kernel call of the grid in benchmark_cases.h, each between two marker
 * instructions, so our QEMU plugin (qemu_icount_plugin.c) counts the instructions of each call. The calls are made
 * the way the generated model makes them (deploy/kernel_call.cpp): fully connected layers as 1x1 convolutions,
 * general convolutions with their im2col scratch. Inputs and weights come from a fixed generator, so the counts are
 * the same on every run. */
#include <stddef.h>
#include <stdint.h>

#include "benchmark_cases.h" /* MCUNAS_BENCH_CASES, mcunas_bench_cases[], the MCUNAS_BENCH_MAX_* buffer sizes */
#include "mcunas_kernels.h"

#define MARK() __asm volatile("mov r11, r11")

static int8_t input[MCUNAS_BENCH_MAX_INPUT], input2[MCUNAS_BENCH_MAX_INPUT], output[MCUNAS_BENCH_MAX_OUTPUT];
static int8_t weights[MCUNAS_BENCH_MAX_WEIGHTS], scratch[MCUNAS_BENCH_MAX_SCRATCH + 1];
static int32_t bias[MCUNAS_BENCH_MAX_CHANNELS], multiplier[MCUNAS_BENCH_MAX_CHANNELS],
    shift[MCUNAS_BENCH_MAX_CHANNELS];

static void fill(int8_t *v, int32_t n, uint32_t *state) {
  for (int32_t i = 0; i < n; ++i) v[i] = (int8_t)((*state = *state * 1664525u + 1013904223u) >> 24);
}

static void run_case(const mcunas_bench_case *c) {
  const int32_t out_h = (c->in_h + 2 * c->pad - c->kernel) / c->stride + 1;
  const int32_t out_w = (c->in_w + 2 * c->pad - c->kernel) / c->stride + 1;
  const mcunas_conv_params conv = {c->stride, c->stride, c->pad, c->pad, 3, -5, -128, 127};
  const mcunas_channel_quant quant = {multiplier, shift};
  const mcunas_dims in = {1, c->in_h, c->in_w, c->in_c};
  switch (c->path) {
    case MCUNAS_BENCH_CONV:
    case MCUNAS_BENCH_CONV_PLANAR:
    case MCUNAS_BENCH_CONV1X1: {
      const mcunas_dims filter = {c->out_c, c->kernel, c->kernel, c->in_c}, out = {1, out_h, out_w, c->out_c};
      MARK();
      /* The scratch at an odd address, as the arena may place it. */
      mcunas_conv_s8(&conv, &quant, &in, input, &filter, weights, bias, &out, output, scratch + 1);
      break;
    }
    case MCUNAS_BENCH_FULLY_CONNECTED: {
      const mcunas_dims flat = {1, 1, 1, c->in_c}, filter = {c->out_c, 1, 1, c->in_c}, out = {1, 1, 1, c->out_c};
      MARK();
      mcunas_conv_s8(&conv, &quant, &flat, input, &filter, weights, bias, &out, output, NULL);
      break;
    }
    case MCUNAS_BENCH_DEPTHWISE: {
      const mcunas_dims filter = {1, c->kernel, c->kernel, c->in_c}, out = {1, out_h, out_w, c->in_c};
      MARK();
      mcunas_depthwise_conv_s8(&conv, &quant, &in, input, &filter, weights, bias, &out, output, scratch + 1);
      break;
    }
    case MCUNAS_BENCH_MAX_POOL:
    case MCUNAS_BENCH_AVG_POOL: {
      const mcunas_pool_params pool = {c->kernel, c->kernel, c->stride, c->stride, c->pad, c->pad, -128, 127};
      const mcunas_dims out = {1, out_h, out_w, c->in_c};
      MARK();
      if (c->path == MCUNAS_BENCH_MAX_POOL)
        mcunas_max_pool_s8(&pool, &in, input, &out, output);
      else
        mcunas_avg_pool_s8(&pool, &in, input, &out, output);
      break;
    }
    case MCUNAS_BENCH_GLOBAL_AVG_POOL: {
      const mcunas_mean_params mean = {3, -5, 1518500250, -9, -128, 127};
      MARK();
      mcunas_global_avg_pool_s8(&mean, &in, input, output);
      break;
    }
    default: { /* MCUNAS_BENCH_ADD: as TFLite's ADD quantises a residual join, the input with the larger scale
                * rescaled by exactly 0.5 (multiplier 2^30, shift 0), the other by less */
      const mcunas_add_params add = {3, 1073741824, 0, -7, 1518500250, -2, 20, -5, 1518500250, -18, -128, 127};
      MARK();
      mcunas_add_s8(&add, c->in_h * c->in_w * c->in_c, input, input2, output);
      break;
    }
  }
}

int main(void) {
  uint32_t state = 2026u;
  fill(input, MCUNAS_BENCH_MAX_INPUT, &state);
  fill(input2, MCUNAS_BENCH_MAX_INPUT, &state);
  fill(weights, MCUNAS_BENCH_MAX_WEIGHTS, &state);
  for (int32_t c = 0; c < MCUNAS_BENCH_MAX_CHANNELS; ++c) {
    bias[c] = 97 * c - 1000;
    multiplier[c] = 1518500250 + 4099 * c;
    shift[c] = -9 + c % 3;
  }
  for (int32_t i = 0; i < MCUNAS_BENCH_CASES; ++i) run_case(&mcunas_bench_cases[i]);
  MARK();
  return 0;
}
