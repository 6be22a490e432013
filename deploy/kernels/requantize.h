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

#endif /* MCUNAS_REQUANTIZE_H */
