/* The convolution's DSP path for few input channels (a first layer: 1 to 3), through one plane per input channel
 * (plane_dsp.h), instead of an im2col copied value by value: each output channel sums its kernel over the planes.
 * Internal to conv_s8.c (not part of the interface). */
#ifndef MCUNAS_CONV_PLANAR_DSP_H
#define MCUNAS_CONV_PLANAR_DSP_H

#include "plane_dsp.h"

#ifdef MCUNAS_DSP_PATH

/* The whole layer; returns 0 (nothing written) when it does not fit the planes (mcunas_plane_fits) or its kernel
 * has no loop of its own there (3x3, 5x5, 7x7: mcunas_plane_sums): a first layer of another shape runs faster on
 * the im2col columns (DS-CNN's 10x4 layer: 2.7 instructions per MAC there, 5.2 on the planes' generic loop). */
static int mcunas_conv_planar(const mcunas_conv_params *p, const mcunas_channel_quant *q, const mcunas_dims *in_dims,
                              const int8_t *input, const mcunas_dims *f_dims, const int8_t *weights,
                              const int32_t *bias, const mcunas_dims *out_dims, int8_t *output, void *scratch) {
  const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
  if (in_c > MCUNAS_CONV_PLANAR_MAX_IN || !mcunas_plane_has_loop(f_dims->h, f_dims->w) ||
      !mcunas_plane_fits(p, in_dims, f_dims, out_dims, in_c))
    return 0; /* the scratch holds planes only for these (mcunas_conv_s8_scratch_bytes) */
  const int32_t k_h = f_dims->h, k_w = f_dims->w, pairs = (k_w + 1) / 2;
  const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
  const int32_t pitch = mcunas_plane_pitch(in_w, p->pad_w);
  const ptrdiff_t plane_values = (ptrdiff_t)mcunas_plane_rows(in_h, p->pad_h) * pitch;
  const ptrdiff_t filter = (ptrdiff_t)k_h * k_w * in_c;
  int16_t *planes = mcunas_plane_start(scratch, plane_values, in_c);
  const int32_t output_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int full_range = act_min == -128 && act_max == 127;
  const int32_t bound = mcunas_requantize_bias_bound((int32_t)filter);
  uint32_t wp[MCUNAS_PLANE_MAX_PAIRS];
  for (int32_t b = 0; b < in_dims->n; ++b) {
    const int8_t *in_batch = input + (ptrdiff_t)b * in_h * in_w * in_c;
    int8_t *out_batch = output + (ptrdiff_t)b * out_h * out_w * out_c;
    for (int32_t ci = 0; ci < in_c; ++ci)
      mcunas_plane_gather(planes + ci * plane_values, pitch, in_batch, in_h, in_w, in_c, ci, p->pad_h, p->pad_w,
                          p->input_offset);
    for (int32_t o = 0; o < out_c; ++o) {
      const int32_t multiplier = q->multiplier[o], shift = q->shift[o], b0 = bias ? bias[o] : 0;
      const int fast = mcunas_requantize_shift_fits(shift) && mcunas_requantize_bias_fits(b0, bound);
      for (int32_t ci = 0; ci < in_c; ++ci) /* OHWI: filter o's taps of channel ci lie in_c apart */
        mcunas_plane_weights(wp + (ptrdiff_t)ci * k_h * pairs, weights + o * filter + ci, in_c, k_h, k_w,
                             fast ? 2 : 1);
      int8_t *out = out_batch + o;
      if (!fast)
        mcunas_plane_outputs(planes, plane_values, in_c, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w,
                             b0, out, out_c, 0, multiplier, shift, output_offset, act_min, act_max);
      else if (full_range)
        mcunas_plane_outputs(planes, plane_values, in_c, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w,
                             2 * b0, out, out_c, 1, multiplier, shift, output_offset, act_min, act_max);
      else
        mcunas_plane_outputs(planes, plane_values, in_c, pitch, wp, k_h, k_w, p->stride_h, p->stride_w, out_h, out_w,
                             2 * b0, out, out_c, 2, multiplier, shift, output_offset, act_min, act_max);
    }
  }
  return 1;
}

#endif /* MCUNAS_DSP_PATH */
#endif /* MCUNAS_CONV_PLANAR_DSP_H */
