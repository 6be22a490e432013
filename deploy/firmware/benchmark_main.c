/* The firmware of `nas calibrate`: every kernel call of the grid, each after a marker instruction, so our QEMU
 * plugin (qemu_icount_plugin.c) counts the instructions of each call. benchmark_cases.h is generated from the int8
 * operator rows (deploy/kernel_benchmark.cpp): each case's function makes its call exactly as generated model code
 * does (the row's emission), with static const arguments, reading the shared buffers below. Inputs and weights come
 * from a fixed generator, so the counts are the same on every run. */
#include <stddef.h>
#include <stdint.h>

#include "mcunas_kernels.h"

#define MARK() __asm volatile("mov r11, r11")

#include "benchmark_cases.h" /* MCUNAS_BENCH_CASES and the MCUNAS_BENCH_MAX_* buffer sizes */

static int8_t input[MCUNAS_BENCH_MAX_INPUT], input2[MCUNAS_BENCH_MAX_INPUT], output[MCUNAS_BENCH_MAX_OUTPUT];
static int8_t bench_weights[MCUNAS_BENCH_MAX_WEIGHTS], scratch[MCUNAS_BENCH_MAX_SCRATCH + 1];
static int32_t bench_bias[MCUNAS_BENCH_MAX_CHANNELS], bench_multiplier[MCUNAS_BENCH_MAX_CHANNELS],
    bench_shift[MCUNAS_BENCH_MAX_CHANNELS];

#define MCUNAS_BENCH_CALLS
#include "benchmark_cases.h" /* one function per case, mcunas_bench_cases[] */

static void fill(int8_t *v, int32_t n, uint32_t *state) {
  for (int32_t i = 0; i < n; ++i) v[i] = (int8_t)((*state = *state * 1664525u + 1013904223u) >> 24);
}

int main(void) {
  uint32_t state = 2026u;
  fill(input, MCUNAS_BENCH_MAX_INPUT, &state);
  fill(input2, MCUNAS_BENCH_MAX_INPUT, &state);
  fill(bench_weights, MCUNAS_BENCH_MAX_WEIGHTS, &state);
  for (int32_t c = 0; c < MCUNAS_BENCH_MAX_CHANNELS; ++c) {
    bench_bias[c] = 97 * c - 1000;
    bench_multiplier[c] = 1518500250 + 4099 * c;
    bench_shift[c] = -9 + c % 3;
  }
  for (int32_t i = 0; i < MCUNAS_BENCH_CASES; ++i) mcunas_bench_cases[i]();
  MARK();
  return 0;
}
