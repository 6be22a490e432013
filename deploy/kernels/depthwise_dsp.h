/* The depthwise convolution's DSP path (Cortex-M4/M7, MCUNAS_DSP_PATH): each channel through its own plane
 * (plane_dsp.h). Internal to depthwise_conv_s8.c (not part of the interface). */
#ifndef MCUNAS_DEPTHWISE_DSP_H
#define MCUNAS_DEPTHWISE_DSP_H

#include "depthwise_groups_dsp.h"
#include "plane_dsp.h"

#ifdef MCUNAS_DSP_PATH

/* The whole layer; returns 0 (nothing written) when it does not fit the planes (mcunas_plane_fits). A narrow map
 * runs its channels four at a time instead (depthwise_groups_dsp.h). */
static int mcunas_depthwise_planar(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                   const mcunas_dims *in_dims, const int8_t *input, const mcunas_dims *f_dims,
                                   const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                                   int8_t *output, void *scratch) {
  if (!mcunas_plane_fits(p, in_dims, f_dims, out_dims, 1)) return 0;
  const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c;
  const int32_t k_h = f_dims->h, k_w = f_dims->w;
  const int32_t out_h = out_dims->h, out_w = out_dims->w;
  const int32_t pitch = mcunas_plane_pitch(in_w, p->pad_w);
  const ptrdiff_t plane_values = (ptrdiff_t)mcunas_plane_rows(in_h, p->pad_h) * pitch;
  if (mcunas_depthwise_groups_fit(p, in_dims, f_dims, out_dims)) {
    for (int32_t b = 0; b < in_dims->n; ++b)
      mcunas_depthwise_groups(p, q, in_dims, input + (ptrdiff_t)b * in_h * in_w * c, f_dims, weights, bias, out_dims,
                              output + (ptrdiff_t)b * out_h * out_w * c,
                              (uint32_t *)mcunas_plane_start(scratch, plane_values, 4));
    return 1;
  }
  int16_t *plane = mcunas_plane_start(scratch, plane_values, 1);
  const int32_t input_offset = p->input_offset, output_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int full_range = act_min == -128 && act_max == 127;
  uint32_t wp[MCUNAS_PLANE_MAX_PAIRS];
  const int32_t bound = mcunas_requantize_bias_bound(k_h * k_w);
  for (int32_t b = 0; b < in_dims->n; ++b) {
    const int8_t *in_batch = input + (ptrdiff_t)b * in_h * in_w * c;
    int8_t *out_batch = output + (ptrdiff_t)b * out_h * out_w * c;
    for (int32_t ch = 0; ch < c; ++ch) {
      const int32_t multiplier = q->multiplier[ch], shift = q->shift[ch], b0 = bias ? bias[ch] : 0;
      const int fast = mcunas_requantize_shift_fits(shift) && mcunas_requantize_bias_fits(b0, bound);
      mcunas_plane_weights(wp, weights + ch, c, k_h, k_w, fast ? 2 : 1);
      mcunas_plane_gather(plane, pitch, in_batch, in_h, in_w, c, ch, p->pad_h, p->pad_w, input_offset);
      int8_t *out = out_batch + ch;
      if (!fast)
        mcunas_plane_outputs(plane, 0, 1, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w, b0, out, c,
                             0, multiplier, shift, output_offset, act_min, act_max);
      else if (full_range)
        mcunas_plane_outputs(plane, 0, 1, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w, 2 * b0, out,
                             c, 1, multiplier, shift, output_offset, act_min, act_max);
      else
        mcunas_plane_outputs(plane, 0, 1, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w, 2 * b0, out,
                             c, 2, multiplier, shift, output_offset, act_min, act_max);
    }
  }
  return 1;
}

#endif /* MCUNAS_DSP_PATH */
#endif /* MCUNAS_DEPTHWISE_DSP_H */
