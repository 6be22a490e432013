/* Global average pooling with its own output quantisation (TFLite's int8 MEAN over height and width): the mean of
 * a map is usually far smaller than its largest value, so keeping the input's scale (as mcunas_avg_pool_s8 must)
 * would leave the classifier a few dozen levels; here the output gets a scale of its own. */
#include "mcunas_kernels.h"
#include "requantize.h"

void mcunas_global_avg_pool_s8(const mcunas_mean_params *p, const mcunas_dims *in, const int8_t *input,
                               int8_t *output) {
  const int32_t c = in->c;
  const int32_t pixels = in->h * in->w;
  for (int32_t b = 0; b < in->n; ++b) {
    const int8_t *image = input + (int64_t)b * pixels * c;
    for (int32_t ch = 0; ch < c; ++ch) {
      int32_t sum = 0; /* |sum| <= 255 * pixels: no overflow below 8 M pixels */
      for (int32_t i = 0; i < pixels; ++i) sum += image[(int64_t)i * c + ch] + p->input_offset;
      output[(int64_t)b * c + ch] =
          mcunas_requantize_to_s8(sum, p->multiplier, p->shift, p->output_offset, p->act_min, p->act_max);
    }
  }
}

int32_t mcunas_global_avg_pool_s8_scratch_bytes(const mcunas_dims *input_dims) {
  return mcunas_avg_pool_s8_scratch_bytes(input_dims);
}
