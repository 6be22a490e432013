/* Element-wise add of two int8 tensors with different quantisations, TFLite's int8 ADD: both inputs are brought to
 * a common scale (shifted up by left_shift for precision, then each requantised), added, and requantised to the
 * output (mcunas_kernels.h). */
#include <stdint.h>

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

/* Whether an input's rescale is TFLite's exact 0.5 (multiplier 2^30, shift 0): (x + offset) * 2^(left_shift - 1). */
static int add_half(int32_t multiplier, int32_t shift) { return multiplier == (int32_t)(1u << 30) && shift == 0; }

/* The largest output right shift whose rounding constant may carry the output offset (as in depthwise_groups_dsp.h:
 * |h| < 2^30, |offset * 2^r| < 2^29, and adding a multiple of 2^r before the shift adds the offset after it);
 * beyond it the offset is one more instruction per element. */
#define MCUNAS_ADD_MAX_RIGHT 21

/* The usual residual join in 10 instructions per element instead of about 34: TFLite's left shift of 20, one input
 * at exactly 0.5 (add_half), the other's rescaled value looked up in a table of its 256 possible bytes (built per
 * call in the scratch, with the first input's offset and the doubling folded in), the whole int8 range, and the
 * output offset inside the rounding constant (MCUNAS_ADD_MAX_RIGHT). Returns 0 (nothing written) when the call is
 * not of that kind. The same bits as add_fast: the table holds its values. */
static int add_by_table(const mcunas_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2,
                        int8_t *output, void *scratch) {
  if (!scratch || size < MCUNAS_ADD_TABLE_MIN_SIZE || !add_fits(p) || p->left_shift != 20 || p->act_min != -128 ||
      p->act_max != 127)
    return 0;
  const int half1 = add_half(p->input1_multiplier, p->input1_shift);
  if (!half1 && !add_half(p->input2_multiplier, p->input2_shift)) return 0;
  const int8_t *half = half1 ? input1 : input2, *other = half1 ? input2 : input1;
  const int32_t half_offset = half1 ? p->input1_offset : p->input2_offset;
  const int32_t other_offset = half1 ? p->input2_offset : p->input1_offset;
  const add_rescale r = half1 ? add_rescale_of(p->input2_multiplier, p->input2_shift)
                              : add_rescale_of(p->input1_multiplier, p->input1_shift);
  /* table[byte of x] = 2 * rescaled(x) + half_offset * 2^20: with h the half input's byte, the doubled sum of the
   * two rescaled inputs is table[x] + h * 2^20 (|sum| < 2^30, so it stays in range) */
  int32_t *const table = (int32_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
  for (int32_t x = -128; x < 128; ++x)
    table[(uint8_t)x] = 2 * add_rescaled((x + other_offset) * (1 << 21), &r) + half_offset * (1 << 20);
  const int32_t mo = p->output_multiplier, ro = -p->output_shift;
  const int offset_in_round = ro <= MCUNAS_ADD_MAX_RIGHT;
  const int32_t offset = offset_in_round ? 0 : p->output_offset;
  const int32_t round =
      mcunas_requantize_round(ro) + (offset_in_round ? (int32_t)((uint32_t)p->output_offset << ro) : 0);
  int8_t *const end = output + size;
#if defined(__OPTIMIZE__) /* unoptimised, GCC keeps a frame pointer and cannot give the assembly 12 registers */
  int8_t *const pairs_end = output + (size & ~1);
  uint32_t x, h, t, o;
#define MCUNAS_ADD_ELEMENT(add_offset)              \
  "ldrb %[x], [%[other]], #1\n\t"                  \
  "ldrsb %[h], [%[half]], #1\n\t"                  \
  "ldr %[t], [%[table], %[x], lsl #2]\n\t"         \
  "add %[t], %[t], %[h], lsl #20\n\t"              \
  "smmlar %[o], %[t], %[mo], %[round]\n\t"         \
  "add %[o], %[o], %[t], asr #31\n\t"              \
  "asr %[o], %[o], %[ro]\n\t" add_offset           \
  "ssat %[o], #8, %[o]\n\t"                        \
  "strb %[o], [%[out]], #1\n\t"
#define MCUNAS_ADD_LOOP(add_offset)                                                                            \
  __asm volatile("1:\n\t" MCUNAS_ADD_ELEMENT(add_offset) MCUNAS_ADD_ELEMENT(add_offset)                       \
                 "cmp %[out], %[end]\n\t"                                                                      \
                 "bne 1b"                                                                                      \
                 : [other] "+r"(other), [half] "+r"(half), [out] "+r"(output), [x] "=&r"(x), [h] "=&r"(h),    \
                   [t] "=&r"(t), [o] "=&r"(o)                                                                  \
                 : [end] "r"(pairs_end), [table] "r"(table), [mo] "r"(mo), [round] "r"(round), [ro] "r"(ro),  \
                   [offset] "r"(offset)                                                                        \
                 : "cc", "memory")
  if (output != pairs_end && offset_in_round)
    MCUNAS_ADD_LOOP("");
  else if (output != pairs_end)
    MCUNAS_ADD_LOOP("add %[o], %[o], %[offset]\n\t");
#undef MCUNAS_ADD_LOOP
#undef MCUNAS_ADD_ELEMENT
#endif
  for (; output != end; ++output) { /* the rest: an odd size's last element (every element, unoptimised) */
    const int32_t sum2 = table[(uint8_t)*other++] + *half++ * (1 << 20);
    *output = mcunas_requantize_doubled_full_s8(sum2, mo, ro, round, offset);
  }
  return 1;
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
                   int8_t *output, void *scratch) {
#ifdef MCUNAS_DSP_PATH
  if (add_by_table(p, size, input1, input2, output, scratch)) return;
  if (add_fits(p)) {
    if (p->act_min == -128 && p->act_max == 127)
      add_fast(p, size, input1, input2, output, 1);
    else
      add_fast(p, size, input1, input2, output, 0);
    return;
  }
#else
  (void)scratch;
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

int32_t mcunas_add_s8_scratch_bytes(int32_t size) { return size >= MCUNAS_ADD_TABLE_MIN_SIZE ? 256 * 4 + 3 : 0; }
