/* Depthwise 2-D convolution (channel multiplier 1), int8, per-channel requantisation (mcunas_kernels.h). */
#include <stddef.h>
#include <string.h>

#include "depthwise_dsp.h"
#include "depthwise_groups_dsp.h"
#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

#ifndef MCUNAS_DSP_PATH
/* The portable path through planes, one channel at a time (the DSP path's order, plane_dsp.h, in int8): the
 * channel's values are copied into the scratch with padding rows and columns holding the input's zero point, whose
 * taps then add (zero point + input_offset) * w = 0, so every window is a whole k_h x k_w one with no bounds check.
 * The sums are the pixel loop's (mcunas_depthwise_conv_s8 below), and a channel is copied before any of its outputs
 * is written, which is what lets the output be the input itself (mcunas_depthwise_conv_s8_in_place). */
static void mcunas_depthwise_planes_s8(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                       const mcunas_dims *in_dims, const int8_t *input, const mcunas_dims *f_dims,
                                       const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                                       int8_t *output, int8_t *plane) {
  const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c;
  const int32_t k_h = f_dims->h, k_w = f_dims->w;
  const int32_t out_h = out_dims->h, out_w = out_dims->w;
  const int32_t pitch = mcunas_plane_pitch(in_w, p->pad_w);
  /* input_offset is minus the zero point, an int8 value; the copies below leave the padding as it is */
  memset(plane, -p->input_offset, (size_t)mcunas_plane_rows(in_h, p->pad_h) * (size_t)pitch);
  int8_t *interior = plane + (ptrdiff_t)p->pad_h * pitch + p->pad_w;
  for (int32_t b = 0; b < in_dims->n; ++b) {
    const int8_t *in_batch = input + (ptrdiff_t)b * in_h * in_w * c;
    int8_t *out_batch = output + (ptrdiff_t)b * out_h * out_w * c;
    for (int32_t ch = 0; ch < c; ++ch) {
      for (int32_t y = 0; y < in_h; ++y)
        for (int32_t x = 0; x < in_w; ++x)
          interior[(ptrdiff_t)y * pitch + x] = in_batch[((ptrdiff_t)y * in_w + x) * c + ch];
      const int32_t multiplier = q->multiplier[ch], shift = q->shift[ch], b0 = bias ? bias[ch] : 0;
      for (int32_t oy = 0; oy < out_h; ++oy)
        for (int32_t ox = 0; ox < out_w; ++ox) {
          const int8_t *window = plane + (ptrdiff_t)oy * p->stride_h * pitch + (ptrdiff_t)ox * p->stride_w;
          int32_t acc = b0;
          for (int32_t ky = 0; ky < k_h; ++ky)
            for (int32_t kx = 0; kx < k_w; ++kx)
              acc += ((int32_t)window[(ptrdiff_t)ky * pitch + kx] + p->input_offset) *
                     (int32_t)weights[((ptrdiff_t)ky * k_w + kx) * c + ch];
          out_batch[((ptrdiff_t)oy * out_w + ox) * c + ch] =
              mcunas_requantize_to_s8(acc, multiplier, shift, p->output_offset, p->act_min, p->act_max);
        }
    }
  }
}
#endif

void mcunas_depthwise_conv_s8(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                              const mcunas_dims *in_dims, const int8_t *input, const mcunas_dims *f_dims,
                              const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                              int8_t *output, void *scratch) {
#ifdef MCUNAS_DSP_PATH
  if (scratch && mcunas_depthwise_planar(p, q, in_dims, input, f_dims, weights, bias, out_dims, output, scratch))
    return;
#else
  if (scratch && mcunas_plane_fits(p, in_dims, f_dims, out_dims, 1)) {
    mcunas_depthwise_planes_s8(p, q, in_dims, input, f_dims, weights, bias, out_dims, output, (int8_t *)scratch);
    return;
  }
#endif
  /* Without a plane (no scratch, or padding the plane does not hold): pixel by pixel, all channels of a window at
   * once; the output must not overlap the input. */
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

/* In place needs the channel-at-a-time order, which both paths take when the layer fits a plane, and an output that
 * covers exactly the input's values (each output then lands on a value of its own channel, already copied). */
int mcunas_depthwise_conv_s8_in_place(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                      const mcunas_dims *filter_dims, const mcunas_dims *output_dims) {
  return output_dims->h == input_dims->h && output_dims->w == input_dims->w && output_dims->c == input_dims->c &&
         output_dims->n == input_dims->n && mcunas_plane_fits(params, input_dims, filter_dims, output_dims, 1);
}

int mcunas_depthwise_conv_s8_groups(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                    const mcunas_dims *filter_dims, const mcunas_dims *output_dims) {
  return mcunas_depthwise_groups_fit(params, input_dims, filter_dims, output_dims);
}

/* The DSP path's plane of one channel (plane_dsp.h): the padded input rows and columns as int16, a row pitch
 * of mcunas_plane_pitch values, and 4 bytes to align it to a word wherever the scratch lies; the portable path's
 * int8 plane takes the first half. A narrow map of four channels or more needs the group plane of four channels
 * instead (depthwise_groups_dsp.h). Written on every build, so the arena the host plans is the one the firmware
 * needs; the cost model prices the same bytes (cost_models/kernel_scratch.h, held equal by
 * tests/deploy/scratch_bytes_test.cpp). */
int32_t mcunas_depthwise_conv_s8_scratch_bytes(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                               const mcunas_dims *filter_dims) {
  if (mcunas_depthwise_groups_sized(input_dims, filter_dims))
    return mcunas_depthwise_groups_scratch_bytes(params, input_dims);
  return 2 * mcunas_plane_rows(input_dims->h, params->pad_h) * mcunas_plane_pitch(input_dims->w, params->pad_w) + 4;
}
