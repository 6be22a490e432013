/* Element-wise add of two int8 tensors with different quantisations, TFLite's int8 ADD: both inputs are brought to
 * a common scale (shifted up by left_shift for precision, then each requantised), added, and requantised to the
 * output (mcunas_kernels.h). */
#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

#ifdef MCUNAS_DSP_PATH
#if defined(__GNUC__)
#define MCUNAS_ADD_INLINE inline __attribute__((always_inline))
#else
#define MCUNAS_ADD_INLINE inline
#endif

/* The DSP path's fast requantisation (requantize.h) for all three steps: an input shifted up by left_shift <= 21
 * stays below 255 * 2^21 < 2^30, each rescaled input below 2^29, so their sum below 2^30; each step's value is
 * formed doubled by shifting one bit further. About a third of the exact form's instructions per element. An input
 * shift may be 0: TFLite's ADD divides both input scales by twice the larger one, so the input with the larger
 * scale always gets exactly 0.5 (multiplier 2^30, shift 0) — every real residual join has one such input. */
static int add_fits(const mcunas_add_params *p) {
  return p->left_shift >= 0 && p->left_shift <= 21 && p->input1_shift <= 0 && p->input1_shift >= -31 &&
         p->input2_shift <= 0 && p->input2_shift >= -31 && p->output_shift <= -1 && p->output_shift >= -31;
}

/* One input's rescale for a right shift of 0..31 without a branch: (h + round + (h >> 31 & negative)) >> right is
 * mcunas_requantize_doubled's rounding shift for right >= 1 (round = 2^(right-1), negative = -1) and the high
 * multiply alone, mcunas_requantize's result for a shift of 0, for right = 0 (round = 0, negative = 0). */
typedef struct {
  int32_t multiplier, right, round, negative;
} add_rescale;

static add_rescale add_rescale_of(int32_t multiplier, int32_t shift) {
  add_rescale r;
  r.multiplier = multiplier;
  r.right = -shift;
  r.round = r.right > 0 ? mcunas_requantize_round(r.right) : 0;
  r.negative = r.right > 0 ? -1 : 0;
  return r;
}

static MCUNAS_ADD_INLINE int32_t add_rescaled(int32_t x2, const add_rescale *r) {
  /* The sign from x2, not h, as mcunas_requantize_doubled takes it (the same bits for a multiplier >= 0). */
  return (mcunas_high_multiply_add_doubled(x2, r->multiplier, r->round) + ((x2 >> 31) & r->negative)) >> r->right;
}

/* full_range: the clamp is the whole int8 range (one SSAT, and two registers fewer in the loop). */
static MCUNAS_ADD_INLINE void add_fast(const mcunas_add_params *p, int32_t size, const int8_t *input1,
                                       const int8_t *input2, int8_t *output, int full_range) {
  const int32_t up = 1 << (p->left_shift + 1), off1 = p->input1_offset, off2 = p->input2_offset;
  const add_rescale r1 = add_rescale_of(p->input1_multiplier, p->input1_shift);
  const add_rescale r2 = add_rescale_of(p->input2_multiplier, p->input2_shift);
  const int32_t mo = p->output_multiplier, ro = -p->output_shift, roundo = mcunas_requantize_round(ro);
  const int32_t out_offset = p->output_offset, lo = p->act_min, hi = p->act_max;
  for (int32_t i = 0; i < size; ++i) {
    const int32_t a = add_rescaled((input1[i] + off1) * up, &r1);
    const int32_t b = add_rescaled((input2[i] + off2) * up, &r2);
    output[i] = full_range ? mcunas_requantize_doubled_full_s8(2 * (a + b), mo, ro, roundo, out_offset)
                           : mcunas_requantize_doubled_to_s8(2 * (a + b), mo, ro, roundo, out_offset, lo, hi);
  }
}
#endif

void mcunas_add_s8(const mcunas_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2,
                   int8_t *output) {
#ifdef MCUNAS_DSP_PATH
  if (add_fits(p)) {
    if (p->act_min == -128 && p->act_max == 127)
      add_fast(p, size, input1, input2, output, 1);
    else
      add_fast(p, size, input1, input2, output, 0);
    return;
  }
#endif
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v1 = ((int32_t)input1[i] + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = ((int32_t)input2[i] + p->input2_offset) * (1 << p->left_shift);
    const int32_t sum = mcunas_requantize(v1, p->input1_multiplier, p->input1_shift) +
                        mcunas_requantize(v2, p->input2_multiplier, p->input2_shift);
    output[i] = mcunas_requantize_to_s8(sum, p->output_multiplier, p->output_shift, p->output_offset, p->act_min,
                                        p->act_max);
  }
}

int32_t mcunas_add_s8_scratch_bytes(int32_t size) {
  (void)size;
  return 0;
}
