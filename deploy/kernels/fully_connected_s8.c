/* Fully connected layer, int8, one requantisation scale for the whole output (mcunas_kernels.h). On the DSP path
 * four outputs at a time (mcunas_dot4_rows_wide_s8): each input word is split once for four weight rows; the last
 * outputs two at a time (mcunas_dot2_s8), as the portable path does all of them. (The networks we deploy run their
 * linear layers as a one-pixel 1x1 convolution with per-channel scales, conv_s8.c, which uses the same four-row
 * product with the shorter code.) */
#include <stddef.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

/* The sums of `count` outputs to int8, with the call's one scale: the form chosen once for the whole run (the fast
 * one with a single SSAT where the clamp is the whole int8 range), not per output. */
static void requantize_run(int8_t *out, const int32_t *sums, int32_t count, int fast, int32_t multiplier, int32_t shift,
                           int32_t round, int32_t out_offset, int32_t lo, int32_t hi) {
  const int32_t right = -shift;
  if (fast && lo == -128 && hi == 127)
    for (int32_t j = 0; j < count; ++j)
      out[j] = mcunas_requantize_doubled_full_s8(sums[j] * 2, multiplier, right, round, out_offset);
  else if (fast)
    for (int32_t j = 0; j < count; ++j)
      out[j] = mcunas_requantize_doubled_to_s8(sums[j] * 2, multiplier, right, round, out_offset, lo, hi);
  else
    for (int32_t j = 0; j < count; ++j)
      out[j] = mcunas_requantize_to_s8(sums[j], multiplier, shift, out_offset, lo, hi);
}

void mcunas_fully_connected_s8(const mcunas_fc_params *p, int32_t batches, int32_t in_features, const int8_t *input,
                               int32_t out_features, const int8_t *weights, const int32_t *bias, int8_t *output) {
  const int32_t multiplier = p->multiplier, shift = p->shift, out_offset = p->output_offset;
  const int32_t lo = p->act_min, hi = p->act_max;
  int fast = 0;
#ifdef MCUNAS_DSP_PATH /* one scale for every output: the fast requantisation's test once per call */
  const int32_t bound = mcunas_requantize_bias_bound(in_features);
  fast = mcunas_requantize_shift_fits(shift) && mcunas_requantize_bias_fits(0, bound);
  for (int32_t o = 0; fast && bias && o < out_features; ++o) fast = mcunas_requantize_bias_fits(bias[o], bound);
#endif
  const int32_t right = -shift, round = fast ? mcunas_requantize_round(right) : 0;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *in = input + (ptrdiff_t)b * in_features;
    int8_t *out = output + (ptrdiff_t)b * out_features;
    int32_t o = 0;
#ifdef MCUNAS_DSP_PATH
    int32_t sums[MCUNAS_DOT4_ROWS_CHUNK]; /* four rows at a time in one call, then requantised */
    while (out_features - o >= 4) {
      const int32_t left = (out_features - o) & ~3;
      const int32_t chunk = left < MCUNAS_DOT4_ROWS_CHUNK ? left : MCUNAS_DOT4_ROWS_CHUNK;
      mcunas_dot4_rows_wide_s8(sums, bias ? bias + o : NULL, chunk / 4, in, weights + (ptrdiff_t)o * in_features,
                               in_features, p->input_offset);
      requantize_run(out + o, sums, chunk, fast, multiplier, shift, round, out_offset, lo, hi);
      o += chunk;
    }
#endif
    for (; o < out_features; o += 2) {
      const int8_t *w0 = weights + (ptrdiff_t)o * in_features;
      const int pair = o + 1 < out_features;
      int32_t acc[2] = {bias ? bias[o] : 0, bias && pair ? bias[o + 1] : 0};
      mcunas_dot2_s8(&acc[0], &acc[1], in, w0, pair ? w0 + in_features : w0, in_features, p->input_offset);
      requantize_run(out + o, acc, 1 + pair, fast, multiplier, shift, round, out_offset, lo, hi);
    }
  }
}

int32_t mcunas_fully_connected_s8_scratch_bytes(int32_t in_features) {
  (void)in_features;
  return 0;
}
