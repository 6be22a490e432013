/* Fully connected layer, int8, one requantisation scale for the whole output (mcunas_kernels.h). */
#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

void mcunas_fully_connected_s8(const mcunas_fc_params *p, int32_t batches, int32_t in_features, const int8_t *input,
                               int32_t out_features, const int8_t *weights, const int32_t *bias, int8_t *output) {
#ifdef MCUNAS_DSP_PATH /* one scale for every output: the fast requantisation's test once per call */
  int fast = mcunas_requantize_doubled_fits(0, p->shift, in_features);
  for (int32_t o = 0; fast && bias && o < out_features; ++o)
    fast = mcunas_requantize_doubled_fits(bias[o], p->shift, in_features);
  const int32_t right = -p->shift, round = fast ? mcunas_requantize_round(right) : 0;
#endif
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *in = input + (int64_t)b * in_features;
    for (int32_t o = 0; o < out_features; ++o) {
      const int32_t acc = mcunas_dot_s8(bias ? bias[o] : 0, in, weights + (int64_t)o * in_features, in_features,
                                        p->input_offset);
#ifdef MCUNAS_DSP_PATH
      if (fast) {
        output[(int64_t)b * out_features + o] = mcunas_requantize_doubled_to_s8(
            acc * 2, p->multiplier, right, round, p->output_offset, p->act_min, p->act_max);
        continue;
      }
#endif
      output[(int64_t)b * out_features + o] =
          mcunas_requantize_to_s8(acc, p->multiplier, p->shift, p->output_offset, p->act_min, p->act_max);
    }
  }
}

int32_t mcunas_fully_connected_s8_scratch_bytes(int32_t in_features) {
  (void)in_features;
  return 0;
}
