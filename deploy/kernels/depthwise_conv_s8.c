/* Depthwise 2-D convolution (channel multiplier 1), int8, per-channel requantisation (mcunas_kernels.h). */
#include <stddef.h>
#include <string.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

#ifdef MCUNAS_DSP_PATH
/* Channels ch..ch+3 of one output pixel on the DSP path: NHWC input and 1HWC weights keep four channels in one word
 * at every tap. SXTAB16 / SXTB16 split both words into the halves of channels (0, 2) and (1, 3) (the input offset
 * added on the way), and SMLABB / SMLATT multiply-accumulate each half into its channel's sum: 4 MACs for 2 loads,
 * 4 splits and 4 multiplies, where the portable loop spends a load pair and address arithmetic on every MAC. */
static void depthwise_four_channels(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                    const int8_t *in_batch, int32_t in_w, int32_t c, const mcunas_window *win,
                                    int32_t k_w, const int8_t *weights, const int32_t *bias, int32_t ch,
                                    int8_t *out) {
  const int16x2_t offset = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) | ((uint32_t)p->input_offset << 16));
  int32_t a0 = bias ? bias[ch] : 0, a1 = bias ? bias[ch + 1] : 0, a2 = bias ? bias[ch + 2] : 0,
          a3 = bias ? bias[ch + 3] : 0;
  const ptrdiff_t taps = win->x_end - win->x_begin;
  for (int32_t iy = win->y_begin; iy < win->y_end; ++iy) {
    const int8_t *x = in_batch + ((ptrdiff_t)iy * in_w + win->x_begin) * c + ch;
    const int8_t *w = weights + ((ptrdiff_t)(iy - win->y0) * k_w + (win->x_begin - win->x0)) * c + ch;
    for (ptrdiff_t t = 0; t < taps; ++t, x += c, w += c) {
      const uint32_t xv = mcunas_load_word(x), wv = mcunas_load_word(w);
      const int16x2_t x02 = __sxtab16(offset, (int8x4_t)xv), x13 = mcunas_sxtab16_ror8(offset, xv);
      const int16x2_t w02 = __sxtb16((int8x4_t)wv), w13 = mcunas_sxtb16_ror8(wv);
      a0 = __smlabb(x02, w02, a0);
      a2 = __smlatt(x02, w02, a2);
      a1 = __smlabb(x13, w13, a1);
      a3 = __smlatt(x13, w13, a3);
    }
  }
  const int32_t sums[4] = {a0, a1, a2, a3}, out_offset = p->output_offset, lo = p->act_min, hi = p->act_max;
  int8_t results[4]; /* stored together at the end: an int8 store may alias the parameters */
  for (int32_t i = 0; i < 4; ++i)
    results[i] = mcunas_requantize_to_s8(sums[i], q->multiplier[ch + i], q->shift[ch + i], out_offset, lo, hi);
  memcpy(out + ch, results, 4);
}
#endif

void mcunas_depthwise_conv_s8(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                              const mcunas_dims *in_dims, const int8_t *input, const mcunas_dims *f_dims,
                              const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                              int8_t *output) {
  const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c;
  const int32_t k_h = f_dims->h, k_w = f_dims->w;
  const int32_t out_h = out_dims->h, out_w = out_dims->w;
  for (int32_t b = 0; b < in_dims->n; ++b) {
    const int8_t *in_batch = input + (int64_t)b * in_h * in_w * c;
    int8_t *out_batch = output + (int64_t)b * out_h * out_w * c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      for (int32_t ox = 0; ox < out_w; ++ox) {
        /* Only the taps inside the input: padding stands for the zero point and adds nothing. */
        const mcunas_window win =
            mcunas_clip_window(oy, ox, p->stride_h, p->stride_w, p->pad_h, p->pad_w, k_h, k_w, in_h, in_w);
        int32_t ch = 0;
#ifdef MCUNAS_DSP_PATH
        for (; ch + 4 <= c; ch += 4)
          depthwise_four_channels(p, q, in_batch, in_w, c, &win, k_w, weights, bias, ch,
                                  out_batch + ((ptrdiff_t)oy * out_w + ox) * c);
#endif
        for (; ch < c; ++ch) {
          int32_t acc = bias ? bias[ch] : 0;
          for (int32_t iy = win.y_begin; iy < win.y_end; ++iy)
            for (int32_t ix = win.x_begin; ix < win.x_end; ++ix)
              acc += ((int32_t)in_batch[((int64_t)iy * in_w + ix) * c + ch] + p->input_offset) *
                     (int32_t)weights[((int64_t)(iy - win.y0) * k_w + (ix - win.x0)) * c + ch];
          out_batch[((int64_t)oy * out_w + ox) * c + ch] =
              mcunas_requantize_to_s8(acc, q->multiplier[ch], q->shift[ch], p->output_offset, p->act_min, p->act_max);
        }
      }
    }
  }
}

/* Neither path uses a buffer (the DSP path reads four channels per word in place). The bytes are CMSIS-NN's
 * reservation, one int16 patch of c * k_h * k_w values, which the cost model prices (cost_models/kernel_scratch.h);
 * dropping it would change the RAM estimate of every stored search. */
int32_t mcunas_depthwise_conv_s8_scratch_bytes(const mcunas_dims *input_dims, const mcunas_dims *filter_dims) {
  return 2 * input_dims->c * filter_dims->h * filter_dims->w;
}
