/* 2-D convolution, int8 in and out, int32 accumulation, per-channel requantisation (mcunas_kernels.h). Offsets are
 * ptrdiff_t: native width on the core (64-bit arithmetic costs a Cortex-M extra instructions per address). */
#include <stddef.h>

#include "conv_dsp.h"
#include "conv_planar_dsp.h"
#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

/* Every output channel of one output pixel: the window's taps against each filter, two channels at a time so the DSP
 * path splits each input word once for both. In NHWC input and OHWI weights the taps of one window row are
 * contiguous (run = window width x in_c values), so each row is one dot product. */
static void convolve_pixel(const mcunas_conv_params *p, const mcunas_channel_quant *q, const int8_t *in_batch,
                           int32_t in_w, int32_t in_c, const mcunas_window *win, int32_t k_h, int32_t k_w,
                           const int8_t *weights, const int32_t *bias, int32_t out_c, int8_t *out) {
  const ptrdiff_t filter_size = (ptrdiff_t)k_h * k_w * in_c;
  const int32_t run = (win->x_end - win->x_begin) * in_c;
  int32_t o = 0;
  for (; o + 2 <= out_c; o += 2) {
    int32_t acc0 = bias ? bias[o] : 0, acc1 = bias ? bias[o + 1] : 0;
    for (int32_t iy = win->y_begin; iy < win->y_end; ++iy) {
      const int8_t *w0 = weights + (((ptrdiff_t)o * k_h + (iy - win->y0)) * k_w + (win->x_begin - win->x0)) * in_c;
      mcunas_dot2_s8(&acc0, &acc1, in_batch + ((ptrdiff_t)iy * in_w + win->x_begin) * in_c, w0, w0 + filter_size, run,
                     p->input_offset);
    }
    out[o] = mcunas_requantize_to_s8(acc0, q->multiplier[o], q->shift[o], p->output_offset, p->act_min, p->act_max);
    out[o + 1] = mcunas_requantize_to_s8(acc1, q->multiplier[o + 1], q->shift[o + 1], p->output_offset, p->act_min,
                                         p->act_max);
  }
  for (; o < out_c; ++o) {
    int32_t acc = bias ? bias[o] : 0;
    for (int32_t iy = win->y_begin; iy < win->y_end; ++iy)
      acc = mcunas_dot_s8(acc, in_batch + ((ptrdiff_t)iy * in_w + win->x_begin) * in_c,
                          weights + (((ptrdiff_t)o * k_h + (iy - win->y0)) * k_w + (win->x_begin - win->x0)) * in_c, run,
                          p->input_offset);
    out[o] = mcunas_requantize_to_s8(acc, q->multiplier[o], q->shift[o], p->output_offset, p->act_min, p->act_max);
  }
}

#ifdef MCUNAS_DSP_PATH
/* The DSP path's requantisation for the whole call (mcunas_conv_two_pixels' `mode`). */
static int requantize_mode(const mcunas_conv_params *p, const mcunas_channel_quant *q, const int32_t *bias,
                           int32_t out_c, int32_t taps) {
  if (!mcunas_requantize_doubled_fits_all(bias, q->shift, out_c, taps)) return 0;
  return p->act_min == -128 && p->act_max == 127 ? 2 : 1;
}
#endif

void mcunas_conv_s8(const mcunas_conv_params *p, const mcunas_channel_quant *q, const mcunas_dims *in_dims,
                    const int8_t *input, const mcunas_dims *f_dims, const int8_t *weights, const int32_t *bias,
                    const mcunas_dims *out_dims, int8_t *output, void *scratch) {
  const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
  const int32_t k_h = f_dims->h, k_w = f_dims->w;
  const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
  if (k_h == 1 && k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
      out_h == in_h && out_w == in_w) {
    /* 1x1, stride 1, no padding: the input is one row of pixels and each window is one of them, so the window
     * arithmetic drops out. */
    const int32_t pixels = in_dims->n * in_h * in_w;
    int32_t px = 0;
#ifdef MCUNAS_DSP_PATH
    const int mode = requantize_mode(p, q, bias, out_c, in_c);
    if (scratch) { /* the two pixels split into int16 columns once, for every output channel's assembly loop */
      int16_t *columns = mcunas_columns_align(scratch);
      for (; px + 2 <= pixels; px += 2) {
        const int8_t *x = input + (ptrdiff_t)px * in_c;
        mcunas_pixel_column(columns, 0, x, in_c, p->input_offset);
        mcunas_pixel_column(columns, 1, x + in_c, in_c, p->input_offset);
        mcunas_conv_two_pixels(p, q, columns, 0, in_c, weights, bias, out_c, mode, output + (ptrdiff_t)px * out_c);
      }
    }
    for (; px + 2 <= pixels; px += 2)
      mcunas_conv_two_pixels(p, q, input + (ptrdiff_t)px * in_c, 1, in_c, weights, bias, out_c, mode,
                             output + (ptrdiff_t)px * out_c);
    if (px < pixels) { /* an odd last pixel, or the only one (a fully connected layer) */
      mcunas_conv_one_pixel(p, q, input + (ptrdiff_t)px * in_c, in_c, weights, bias, out_c, mode,
                            output + (ptrdiff_t)px * out_c);
      ++px;
    }
#endif
    for (; px < pixels; ++px) {
      const mcunas_window win = {0, px, 0, 1, px, px + 1};
      convolve_pixel(p, q, input, pixels, in_c, &win, 1, 1, weights, bias, out_c, output + (ptrdiff_t)px * out_c);
    }
    return;
  }
#ifdef MCUNAS_DSP_PATH
  if (scratch && mcunas_conv_planar(p, q, in_dims, input, f_dims, weights, bias, out_dims, output, scratch)) return;
  if (scratch) { /* two im2col columns, then blocks of 2 pixels x 2 channels (conv_dsp.h) */
    int16_t *columns = mcunas_columns_align(scratch);
    const ptrdiff_t k = (ptrdiff_t)k_h * k_w * in_c;
    const int mode = requantize_mode(p, q, bias, out_c, (int32_t)k);
    for (int32_t b = 0; b < in_dims->n; ++b) {
      const int8_t *in_batch = input + (ptrdiff_t)b * in_h * in_w * in_c;
      int8_t *out_batch = output + (ptrdiff_t)b * out_h * out_w * out_c;
      const int32_t pixels = out_h * out_w;
      for (int32_t px = 0; px < pixels; ++px) {
        const int32_t oy = px / out_w, ox = px % out_w;
        if (px + 1 == pixels) { /* an odd last pixel alone */
          const mcunas_window win =
              mcunas_clip_window(oy, ox, p->stride_h, p->stride_w, p->pad_h, p->pad_w, k_h, k_w, in_h, in_w);
          convolve_pixel(p, q, in_batch, in_w, in_c, &win, k_h, k_w, weights, bias, out_c,
                         out_batch + (ptrdiff_t)px * out_c);
          break;
        }
        const int32_t oy1 = (px + 1) / out_w, ox1 = (px + 1) % out_w;
        mcunas_im2col_s8(columns, 0, in_batch, in_h, in_w, in_c, oy * p->stride_h - p->pad_h,
                         ox * p->stride_w - p->pad_w, k_h, k_w, p->input_offset);
        mcunas_im2col_s8(columns, 1, in_batch, in_h, in_w, in_c, oy1 * p->stride_h - p->pad_h,
                         ox1 * p->stride_w - p->pad_w, k_h, k_w, p->input_offset);
        mcunas_conv_two_pixels(p, q, columns, 0, k, weights, bias, out_c, mode, out_batch + (ptrdiff_t)px * out_c);
        ++px;
      }
    }
    return;
  }
#else
  (void)scratch;
#endif
  for (int32_t b = 0; b < in_dims->n; ++b) {
    const int8_t *in_batch = input + (ptrdiff_t)b * in_h * in_w * in_c;
    int8_t *out_batch = output + (ptrdiff_t)b * out_h * out_w * out_c;
    for (int32_t oy = 0; oy < out_h; ++oy)
      for (int32_t ox = 0; ox < out_w; ++ox) {
        /* Only the taps inside the input: padding stands for the zero point and adds nothing. */
        const mcunas_window win =
            mcunas_clip_window(oy, ox, p->stride_h, p->stride_w, p->pad_h, p->pad_w, k_h, k_w, in_h, in_w);
        convolve_pixel(p, q, in_batch, in_w, in_c, &win, k_h, k_w, weights, bias, out_c,
                       out_batch + ((ptrdiff_t)oy * out_w + ox) * out_c);
      }
  }
}

/* The portable path needs no buffer. The bytes returned are the reservation for the Cortex-M DSP path (two
 * int16-expanded im2col columns of c_in * k_h * k_w values, as CMSIS-NN's arm_convolve_s8 keeps; for a 1x1
 * convolution the two pixels' values, split once for every output channel), so the arena the host plans is the
 * arena the firmware needs. A single pixel (fully connected) is read in place. The memory planner's cost model
 * (cost_models/kernel_scratch.h) uses the same sizes; tests/deploy checks they agree. */
int32_t mcunas_conv_s8_scratch_bytes(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                     const mcunas_dims *filter_dims) {
  if (input_dims->h * input_dims->w == 1 && filter_dims->h == 1 && filter_dims->w == 1) return 0;
  const int32_t columns = 2 * 2 * input_dims->c * filter_dims->h * filter_dims->w + MCUNAS_COLUMNS_SLACK;
  if (input_dims->c > MCUNAS_CONV_PLANAR_MAX_IN || !mcunas_plane_has_loop(filter_dims->h, filter_dims->w))
    return columns;
  /* Few input channels: one plane each (conv_planar_dsp.h), at least the columns, which a layer too large for
   * the planes' weight pairs falls back to. */
  const int32_t planes = input_dims->c * 2 * mcunas_plane_rows(input_dims->h, params->pad_h) *
                             mcunas_plane_pitch(input_dims->w, params->pad_w) + 4;
  return planes > columns ? planes : columns;
}
