/* Requantisation: an int32 accumulator times a real scale given as multiplier / 2^31 * 2^shift, in integers only.
 * Written once here and used by every kernel. This is TFLite's MultiplyByQuantizedMultiplier with its default
 * "double rounding" (what CMSIS-NN computes unless built with CMSIS_NN_USE_SINGLE_ROUNDING):
 *   1. x = acc * 2^max(shift, 0)
 *   2. h = round(x * multiplier / 2^31), ties toward +infinity (the saturating rounding doubling high multiply;
 *      saturation only matters for x = multiplier = INT32_MIN, which a multiplier in [2^30, 2^31) never is)
 *   3. h / 2^max(-shift, 0), rounded to nearest with ties away from zero.
 * Relies on >> of a negative value being an arithmetic shift (GCC and Clang on every target we build for). */
#ifndef MCUNAS_REQUANTIZE_H
#define MCUNAS_REQUANTIZE_H

#include <stdint.h>

/* Step 1 for a left shift (a scale of 1 or more: rare), saturating instead of overflowing (TFLite leaves that case
 * undefined). Out of line, so the common path carries none of its instructions. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int32_t mcunas_saturating_left_shift(int32_t acc, int32_t shift) {
  const int32_t limit = INT32_MAX >> shift;
  return acc > limit ? INT32_MAX : (acc < -limit - 1 ? INT32_MIN : (int32_t)((uint32_t)acc << shift));
}

/* shift in [-31, 31] (deploy/quantize_multiplier.cpp gives no less than -31). Written for 32-bit cores: one 32 x 32
 * -> 64 multiply (SMULL), no 64-bit shifts. */
static inline int32_t mcunas_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  const int32_t x = shift > 0 ? mcunas_saturating_left_shift(acc, shift) : acc;
  const int32_t h = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
  if (shift >= 0) return h;
  const int32_t right = -shift;
  const int32_t mask = (int32_t)((1u << right) - 1u);
  const int32_t remainder = h & mask;
  const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
  return (h >> right) + (remainder > threshold ? 1 : 0);
}

/* The int8 output: requantised, offset, clamped to [act_min, act_max]. */
static inline int8_t mcunas_requantize_to_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                             int32_t act_min, int32_t act_max) {
  int32_t v = mcunas_requantize(acc, multiplier, shift) + output_offset;
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return (int8_t)v;
}

/* The fast form, for the hot loops: the same bits as mcunas_requantize in about a third of its instructions, on a
 * sum the kernel accumulated doubled (acc2 = 2 * acc, from doubled weights and bias: no extra instruction) and a
 * channel mcunas_requantize_doubled_fits() accepts (a right shift r = -shift in [1, 31], |acc| < 2^30).
 * Why the bits are the same:
 *   - the high multiply: SMMULR gives floor((acc2 * m + 2^31) / 2^32) = floor((acc * m + 2^30) / 2^31), step 2
 *     exactly, in one instruction instead of a 64-bit multiply-add and two shifts;
 *   - the rounding shift: with h = q * 2^r + rem (0 <= rem < 2^r) and n = 1 for h < 0, else 0,
 *     (h + 2^(r-1) - n) >> r = q + [rem >= 2^(r-1) + n], which is step 3's "rem above half, or at half and h >= 0"
 *     (ties away from zero), with no mask, compare or select. |h| < 2^30 and 2^(r-1) <= 2^30 keep the sum in range.
 * `round` is the channel's 2^(r-1), computed once per channel (mcunas_requantize_round). tests/deploy/
 * requantize_test.cpp compares the two forms over every shift and the extremes of the range. */
static inline int32_t mcunas_requantize_round(int32_t right) { return (int32_t)(1u << (right - 1)); }

/* The fast form's high multiply alone (step 2): floor((acc * m + 2^30) / 2^31) from acc2 = 2 * acc, which is
 * mcunas_requantize's whole result for a shift of 0. */
static inline int32_t mcunas_high_multiply_doubled(int32_t acc2, int32_t multiplier) {
#if defined(__ARM_FEATURE_DSP) && !defined(MCUNAS_PORTABLE_KERNELS)
  int32_t h;
  __asm("smmulr %0, %1, %2" : "=r"(h) : "r"(acc2), "r"(multiplier));
  return h;
#else
  return (int32_t)(((int64_t)acc2 * multiplier + ((int64_t)1 << 31)) >> 32);
#endif
}

/* The high multiply with a constant added: h + add, in one SMMLAR on a DSP core (add * 2^32 is a multiple of 2^32, so
 * the high word is h + add exactly; the sum must fit an int32). */
static inline int32_t mcunas_high_multiply_add_doubled(int32_t acc2, int32_t multiplier, int32_t add) {
#if defined(__ARM_FEATURE_DSP) && !defined(MCUNAS_PORTABLE_KERNELS)
  int32_t g;
  __asm("smmlar %0, %1, %2, %3" : "=r"(g) : "r"(acc2), "r"(multiplier), "r"(add));
  return g;
#else
  return mcunas_high_multiply_doubled(acc2, multiplier) + add;
#endif
}

/* The whole fast form: the rounding constant added in the multiply, and the sign correction n taken from the sum
 * instead of from h: with a multiplier m >= 0 (deploy/quantize_multiplier.cpp gives 0 or [2^30, 2^31)), acc >= 0
 * gives h >= 0 and acc < 0 gives h <= 0, where h = 0 rounds to 0 with n = 0 or 1 alike (its remainder 0 is below
 * 2^(r-1)). Three instructions (SMMLAR, ADD with ASR #31, ASR) instead of five. */
static inline int32_t mcunas_requantize_doubled(int32_t acc2, int32_t multiplier, int32_t right, int32_t round) {
  return (mcunas_high_multiply_add_doubled(acc2, multiplier, round) + (acc2 >> 31)) >> right;
}

/* Whether every sum of a channel (bias plus `taps` products of an input in [-255, 255], input_offset added, and a
 * weight in [-128, 127]) may take the fast form: |acc| < 2^30, so acc2 fits, and a right shift. Checked once per
 * channel and call; a channel that fails (a scale of 1/2 or more, or a huge bias) takes mcunas_requantize.
 * In two parts, so a call tests each channel's bias in 32 bits against one bound: the bound on |bias| that `taps`
 * products leave, 2^30 - 255 * 128 * taps (0 where the products alone may reach 2^30: no bias fits then). */
static inline int32_t mcunas_requantize_bias_bound(int32_t taps) {
  const int64_t bound = ((int64_t)1 << 30) - (int64_t)255 * 128 * taps;
  return bound > 0 ? (int32_t)bound : 0;
}

/* |bias| < bound, in one unsigned compare: bias + bound - 1 lies in [0, 2 * bound - 2] exactly when it holds (a very
 * negative bias wraps above it; bound <= 2^30 keeps the sum of a positive one below 2^32). */
static inline int mcunas_requantize_bias_fits(int32_t bias, int32_t bound) {
  const uint32_t span = bound > 0 ? 2u * (uint32_t)bound - 1u : 0u; /* a bound of 0: nothing is below a span of 0 */
  return (uint32_t)bias + (uint32_t)bound - 1u < span;
}

/* A right shift of 1 to 31 (shift in [-31, -1]), in one unsigned compare. */
static inline int mcunas_requantize_shift_fits(int32_t shift) { return (uint32_t)shift + 31u < 31u; }

static inline int mcunas_requantize_doubled_fits(int32_t bias, int32_t shift, int32_t taps) {
  return mcunas_requantize_shift_fits(shift) && mcunas_requantize_bias_fits(bias, mcunas_requantize_bias_bound(taps));
}

/* mcunas_requantize_doubled_fits for every channel of a call: one flag per call, so the hot loop holds no per-channel
 * test. bias may be NULL. */
static inline int mcunas_requantize_doubled_fits_all(const int32_t *bias, const int32_t *shift, int32_t channels,
                                                     int32_t taps) {
  const int32_t bound = mcunas_requantize_bias_bound(taps);
  for (int32_t i = 0; i < channels; ++i)
    if (!mcunas_requantize_shift_fits(shift[i]) || !mcunas_requantize_bias_fits(bias ? bias[i] : 0, bound)) return 0;
  return 1;
}

/* The fast form's int8 output; the clamp bounds are the kernel's (constants where it knows them, so the compiler
 * can fold the clamp to [-128, 127] into one SSAT). */
static inline int8_t mcunas_requantize_doubled_to_s8(int32_t acc2, int32_t multiplier, int32_t right, int32_t round,
                                                     int32_t output_offset, int32_t act_min, int32_t act_max) {
  int32_t v = mcunas_requantize_doubled(acc2, multiplier, right, round) + output_offset;
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return (int8_t)v;
}

/* The same, for a layer whose clamp is the whole int8 range (no activation, or ReLU on an output whose zero point is
 * -128): one SSAT on a DSP core, where GCC leaves the two compares as they are. */
static inline int8_t mcunas_requantize_doubled_full_s8(int32_t acc2, int32_t multiplier, int32_t right, int32_t round,
                                                       int32_t output_offset) {
  int32_t v = mcunas_requantize_doubled(acc2, multiplier, right, round) + output_offset;
#if defined(__ARM_FEATURE_DSP) && !defined(MCUNAS_PORTABLE_KERNELS)
  __asm("ssat %0, #8, %1" : "=r"(v) : "r"(v));
#else
  v = v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
  return (int8_t)v;
}

#endif /* MCUNAS_REQUANTIZE_H */
