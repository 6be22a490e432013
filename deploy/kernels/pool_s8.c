/* Max and average pooling, int8; the output keeps the input's quantisation (mcunas_kernels.h). */
#include "mcunas_kernels.h"
#include "window.h"

/* Both poolings walk the same clipped windows; only the reduction differs. */
static void pool(const mcunas_pool_params *p, const mcunas_dims *in, const int8_t *input, const mcunas_dims *out,
                 int8_t *output, int average) {
  const int32_t c = in->c;
  for (int32_t b = 0; b < in->n; ++b)
    for (int32_t oy = 0; oy < out->h; ++oy)
      for (int32_t ox = 0; ox < out->w; ++ox) {
        const mcunas_window w =
            mcunas_clip_window(oy, ox, p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->k_h, p->k_w, in->h, in->w);
        const int32_t count = (w.y_end - w.y_begin) * (w.x_end - w.x_begin); /* padding taps are not counted */
        for (int32_t ch = 0; ch < c; ++ch) {
          int32_t best = INT8_MIN, sum = 0;
          for (int32_t y = w.y_begin; y < w.y_end; ++y)
            for (int32_t x = w.x_begin; x < w.x_end; ++x) {
              const int32_t v = input[(((int64_t)b * in->h + y) * in->w + x) * c + ch];
              if (average)
                sum += v;
              else if (v > best)
                best = v;
            }
          /* The mean rounds half away from zero (C division truncates toward zero); no valid tap gives 0. */
          int32_t v = best;
          if (average) v = count == 0 ? 0 : (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count);
          if (v < p->act_min) v = p->act_min;
          if (v > p->act_max) v = p->act_max;
          output[(((int64_t)b * out->h + oy) * out->w + ox) * c + ch] = (int8_t)v;
        }
      }
}

void mcunas_max_pool_s8(const mcunas_pool_params *p, const mcunas_dims *in, const int8_t *input,
                        const mcunas_dims *out, int8_t *output) {
  pool(p, in, input, out, output, 0);
}

void mcunas_avg_pool_s8(const mcunas_pool_params *p, const mcunas_dims *in, const int8_t *input,
                        const mcunas_dims *out, int8_t *output) {
  pool(p, in, input, out, output, 1);
}

int32_t mcunas_avg_pool_s8_scratch_bytes(const mcunas_dims *input_dims) { return 4 * input_dims->c; }

int32_t mcunas_max_pool_s8_scratch_bytes(const mcunas_dims *input_dims) {
  (void)input_dims;
  return 0;
}
