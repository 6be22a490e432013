/* Max and average pooling, int8; the output keeps the input's quantisation (mcunas_kernels.h). */
#include "mcunas_kernels.h"

/* Visits the valid taps of one window: the window clipped to the input. */
typedef struct {
  int32_t y_begin, y_end, x_begin, x_end;
} window;

static window clip(const mcunas_pool_params *p, const mcunas_dims *in, int32_t oy, int32_t ox) {
  window w;
  const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
  w.y_begin = y0 < 0 ? 0 : y0;
  w.x_begin = x0 < 0 ? 0 : x0;
  w.y_end = y0 + p->k_h > in->h ? in->h : y0 + p->k_h;
  w.x_end = x0 + p->k_w > in->w ? in->w : x0 + p->k_w;
  return w;
}

static int8_t clamp_s8(int32_t v, const mcunas_pool_params *p) {
  if (v < p->act_min) v = p->act_min;
  if (v > p->act_max) v = p->act_max;
  return (int8_t)v;
}

void mcunas_max_pool_s8(const mcunas_pool_params *p, const mcunas_dims *in, const int8_t *input,
                        const mcunas_dims *out, int8_t *output) {
  const int32_t c = in->c;
  for (int32_t b = 0; b < in->n; ++b)
    for (int32_t oy = 0; oy < out->h; ++oy)
      for (int32_t ox = 0; ox < out->w; ++ox) {
        const window w = clip(p, in, oy, ox);
        for (int32_t ch = 0; ch < c; ++ch) {
          int32_t best = INT8_MIN;
          for (int32_t y = w.y_begin; y < w.y_end; ++y)
            for (int32_t x = w.x_begin; x < w.x_end; ++x) {
              const int32_t v = input[(((int64_t)b * in->h + y) * in->w + x) * c + ch];
              if (v > best) best = v;
            }
          output[(((int64_t)b * out->h + oy) * out->w + ox) * c + ch] = clamp_s8(best, p);
        }
      }
}

void mcunas_avg_pool_s8(const mcunas_pool_params *p, const mcunas_dims *in, const int8_t *input,
                        const mcunas_dims *out, int8_t *output) {
  const int32_t c = in->c;
  for (int32_t b = 0; b < in->n; ++b)
    for (int32_t oy = 0; oy < out->h; ++oy)
      for (int32_t ox = 0; ox < out->w; ++ox) {
        const window w = clip(p, in, oy, ox);
        const int32_t count = (w.y_end - w.y_begin) * (w.x_end - w.x_begin);
        for (int32_t ch = 0; ch < c; ++ch) {
          int32_t sum = 0;
          for (int32_t y = w.y_begin; y < w.y_end; ++y)
            for (int32_t x = w.x_begin; x < w.x_end; ++x)
              sum += input[(((int64_t)b * in->h + y) * in->w + x) * c + ch];
          /* Round half away from zero; C division truncates toward zero. A window with no valid tap gives 0. */
          const int32_t avg = count == 0 ? 0 : (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count);
          output[(((int64_t)b * out->h + oy) * out->w + ox) * c + ch] = clamp_s8(avg, p);
        }
      }
}
