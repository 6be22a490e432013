/* Depthwise 2-D convolution (channel multiplier 1), int8, per-channel requantisation (mcunas_kernels.h). */
#include <stddef.h>
#include <string.h>

#include "depthwise_dsp.h"
#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"


void mcunas_depthwise_conv_s8(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                              const mcunas_dims *in_dims, const int8_t *input, const mcunas_dims *f_dims,
                              const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                              int8_t *output, void *scratch) {
#ifdef MCUNAS_DSP_PATH
  if (scratch && mcunas_depthwise_planar(p, q, in_dims, input, f_dims, weights, bias, out_dims, output, scratch))
    return;
#else
  (void)scratch;
#endif
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
        for (int32_t ch = 0; ch < c; ++ch) {
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

/* The DSP path's plane of one channel (plane_dsp.h): the padded input rows and columns as int16, a row pitch
 * of mcunas_plane_pitch values, and 4 bytes to align it to a word wherever the scratch lies. Written on every build,
 * so the arena the host plans is the one the firmware needs; the cost model prices the same bytes
 * (cost_models/kernel_scratch.h, held equal by tests/deploy/scratch_bytes_test.cpp). */
int32_t mcunas_depthwise_conv_s8_scratch_bytes(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                               const mcunas_dims *filter_dims) {
  (void)filter_dims;
  return 2 * mcunas_plane_rows(input_dims->h, params->pad_h) * mcunas_plane_pitch(input_dims->w, params->pad_w) + 4;
}
