/* Shared by the kernels (not part of the interface): the valid taps of one sliding window, and the dot product of
 * an int8 input run with int8 weights. Building with MCUNAS_PORTABLE_KERNELS keeps the portable path on a DSP core
 * (bench/kernels_m4 compares the two). */
#ifndef MCUNAS_WINDOW_H
#define MCUNAS_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MCUNAS_PORTABLE_KERNELS)
#include <arm_acle.h>
#endif

/* The window of output pixel (oy, ox) clipped to the input: input rows y_begin..y_end-1 and columns
 * x_begin..x_end-1. Taps outside are padding. The window's own origin (y0, x0) may be negative; a tap at input row
 * iy is kernel row iy - y0. */
typedef struct {
  int32_t y0, x0;
  int32_t y_begin, y_end, x_begin, x_end;
} mcunas_window;

static inline mcunas_window mcunas_clip_window(int32_t oy, int32_t ox, int32_t stride_h, int32_t stride_w,
                                               int32_t pad_h, int32_t pad_w, int32_t k_h, int32_t k_w, int32_t in_h,
                                               int32_t in_w) {
  mcunas_window w;
  w.y0 = oy * stride_h - pad_h;
  w.x0 = ox * stride_w - pad_w;
  w.y_begin = w.y0 < 0 ? 0 : w.y0;
  w.x_begin = w.x0 < 0 ? 0 : w.x0;
  w.y_end = w.y0 + k_h > in_h ? in_h : w.y0 + k_h;
  w.x_end = w.x0 + k_w > in_w ? in_w : w.x0 + k_w;
  return w;
}

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MCUNAS_PORTABLE_KERNELS)
#define MCUNAS_DSP_PATH 1

/* Bytes 1 and 3 of a word, sign-extended to two 16-bit halves: SXTB16 with its free rotation by 8 (the ACLE
 * intrinsic has no rotation operand and GCC does not fold a separate ROR into it). */
static inline int16x2_t mcunas_sxtb16_ror8(uint32_t v) {
  int16x2_t r;
  __asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
static inline int16x2_t mcunas_sxtab16_ror8(int16x2_t add, uint32_t v) {
  int16x2_t r;
  __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(add), "r"(v));
  return r;
}
static inline uint32_t mcunas_load_word(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* one (unaligned) LDR */
  return v;
}
#endif

/* acc + Σ (in[i] + input_offset) * w[i] over n values: the inner loop of conv, its 1x1 path and fully connected.
 *
 * On cores with the DSP extension (Cortex-M4/M7: __ARM_FEATURE_DSP) four values at a time: one word of inputs and
 * one of weights, each split by SXTB16 into two pairs of 16-bit values (bytes 0 and 2, then, rotated by 8, bytes 1
 * and 3; SXTAB16 adds the input offset to both halves on the way: x + offset is within [-255, 255], so it fits),
 * and SMLAD adds both 16 x 16 products of a pair to the accumulator. Integer sums in another order: the same bits
 * as the portable loop, which QEMU checks (tests/integration/firmware_qemu_test.sh). */
static inline int32_t mcunas_dot_s8(int32_t acc, const int8_t *in, const int8_t *w, int32_t n, int32_t input_offset) {
  int32_t i = 0;
#ifdef MCUNAS_DSP_PATH
  const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = mcunas_load_word(in + i), k = mcunas_load_word(w + i);
    acc = __smlad(__sxtab16(offset, (int8x4_t)x), __sxtb16((int8x4_t)k), acc);
    acc = __smlad(mcunas_sxtab16_ror8(offset, x), mcunas_sxtb16_ror8(k), acc);
  }
#endif
  for (; i < n; ++i) acc += ((int32_t)in[i] + input_offset) * (int32_t)w[i];
  return acc;
}

/* Two dot products over the same inputs at once, for two output channels (w0, w1): on the DSP path each input word
 * is split once and feeds four SMLADs, eight values a step, which is where a convolution's instructions per MAC
 * come down. */
static inline void mcunas_dot2_s8(int32_t *acc0, int32_t *acc1, const int8_t *in, const int8_t *w0, const int8_t *w1,
                                  int32_t n, int32_t input_offset) {
  int32_t a0 = *acc0, a1 = *acc1, i = 0;
#ifdef MCUNAS_DSP_PATH
  const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = mcunas_load_word(in + i), k0 = mcunas_load_word(w0 + i), k1 = mcunas_load_word(w1 + i);
    const int16x2_t x02 = __sxtab16(offset, (int8x4_t)x), x13 = mcunas_sxtab16_ror8(offset, x);
    a0 = __smlad(x02, __sxtb16((int8x4_t)k0), a0);
    a0 = __smlad(x13, mcunas_sxtb16_ror8(k0), a0);
    a1 = __smlad(x02, __sxtb16((int8x4_t)k1), a1);
    a1 = __smlad(x13, mcunas_sxtb16_ror8(k1), a1);
  }
#endif
  for (; i < n; ++i) {
    const int32_t x = (int32_t)in[i] + input_offset;
    a0 += x * (int32_t)w0[i];
    a1 += x * (int32_t)w1[i];
  }
  *acc0 = a0;
  *acc1 = a1;
}

/* Four dot products over the same inputs, for the four weight rows w, w + n, w + 2n, w + 3n, for `groups` groups of
 * four consecutive rows: sums[4g + r] = bias[4g + r] (0 without a bias) + Σ (in[i] + input_offset)·w[(4g + r)·n + i].
 * For one pixel (a fully connected layer) nothing shares a weight word, so each input word is split once for four
 * rows instead. On the DSP path, optimised, in assembly: per four values of four rows (16 MACs) one input word split
 * once (SXTAB16 adds the offset) and 4 weight words split (SXTB16) into 8 SMLADs, 23 instructions (as C, GCC spills
 * an accumulator). Rows 0 and 1 are read through one pointer and the row length, rows 2 and 3 through a second, so
 * 13 registers do; the loop's end is compared from memory (LDR, CMP, BNE), so the loop takes 32 values a pass while
 * they last (3 instructions per 128 MACs), then 8; the wide form, for mcunas_fully_connected_s8, 64 a pass (that
 * kernel's linear layers are long; the convolution keeps the shorter code, whose flash every network pays). The loads
 * may be unaligned (LDR allows it on v7E-M). Every group in one call, so the caller requantises the sums in a loop of
 * its own: one call per four rows and the requantisation between them cost about 72 instructions per output beyond
 * the products on a 128 -> 128 layer, this way 45. Never inlined: the loop needs 13 registers, which a large caller
 * with its own values live cannot always give (GCC then refuses the constraints). Unoptimised builds keep a frame
 * pointer and leave too few registers: there, on the portable path and for the last n mod 8 values, a plain C loop. */
/* The sums its callers compute before they requantise them: this many output channels at a time (on the stack). */
#define MCUNAS_DOT4_ROWS_CHUNK 32

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void mcunas_dot4_rows_core(int32_t *sums, const int32_t *bias, int32_t groups, const int8_t *in,
                                         const int8_t *w, int32_t n, int32_t input_offset, const int wide) {
  (void)wide; /* a constant in each caller below: the other loop is compiled out */
  const ptrdiff_t row = n;
  for (int32_t *const sums_end = sums + 4 * groups; sums != sums_end; sums += 4, w += 4 * row) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (bias) {
      a0 = bias[0];
      a1 = bias[1];
      a2 = bias[2];
      a3 = bias[3];
      bias += 4;
    }
    int32_t done = 0;
#if defined(MCUNAS_DSP_PATH) && defined(__OPTIMIZE__)
    if (n >= 8) {
      const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
      done = n & ~7;
      const int8_t *x = in, *const x_end = in + done, *wa = w, *wb = w + 2 * row;
      const int8_t *const x_end_long = in + (n & (wide ? ~63 : ~31)); /* the long passes' end */
      uint32_t xe, xo, ke, ko;
#define MCUNAS_DOT4_HALF_STEP(row_addr, post, a) \
  "ldr %[ko], " row_addr post "\n\t"             \
  "sxtb16 %[ke], %[ko]\n\t"                      \
  "sxtb16 %[ko], %[ko], ror #8\n\t"              \
  "smlad " a ", %[ke], %[xe], " a "\n\t"         \
  "smlad " a ", %[ko], %[xo], " a "\n\t"
#define MCUNAS_DOT4_STEP                                 \
  "ldr %[xo], [%[x]], #4\n\t"                            \
  "sxtab16 %[xe], %[off], %[xo]\n\t"                     \
  "sxtab16 %[xo], %[off], %[xo], ror #8\n\t"             \
  MCUNAS_DOT4_HALF_STEP("[%[wa], %[n]]", "", "%[a1]")    \
  MCUNAS_DOT4_HALF_STEP("[%[wa]]", ", #4", "%[a0]")      \
  MCUNAS_DOT4_HALF_STEP("[%[wb], %[n]]", "", "%[a3]")    \
  MCUNAS_DOT4_HALF_STEP("[%[wb]]", ", #4", "%[a2]")
#define MCUNAS_DOT4_LOOP(steps, end)                                                                              \
  __asm volatile("1:\n\t" steps "ldr %[ke], %[e]\n\t"                                                            \
                 "cmp %[x], %[ke]\n\t"                                                                            \
                 "bne 1b"                                                                                         \
                 : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [wa] "+r"(wa),         \
                   [wb] "+r"(wb), [xe] "=&r"(xe), [xo] "=&r"(xo), [ke] "=&r"(ke), [ko] "=&r"(ko)                    \
                 : [n] "r"(row), [off] "r"(offset), [e] "m"(end)                                                  \
                 : "cc", "memory")
#define MCUNAS_DOT4_4_STEPS MCUNAS_DOT4_STEP MCUNAS_DOT4_STEP MCUNAS_DOT4_STEP MCUNAS_DOT4_STEP
#define MCUNAS_DOT4_8_STEPS MCUNAS_DOT4_4_STEPS MCUNAS_DOT4_4_STEPS
      if (wide && x != x_end_long) MCUNAS_DOT4_LOOP(MCUNAS_DOT4_8_STEPS MCUNAS_DOT4_8_STEPS, x_end_long);
      if (!wide && x != x_end_long) MCUNAS_DOT4_LOOP(MCUNAS_DOT4_8_STEPS, x_end_long);
      if (x != x_end) MCUNAS_DOT4_LOOP(MCUNAS_DOT4_STEP MCUNAS_DOT4_STEP, x_end);
#undef MCUNAS_DOT4_8_STEPS
#undef MCUNAS_DOT4_4_STEPS
#undef MCUNAS_DOT4_LOOP
#undef MCUNAS_DOT4_STEP
#undef MCUNAS_DOT4_HALF_STEP
    }
#endif
    for (int32_t i = done; i < n; ++i) { /* the last n mod 8 values (all of them unoptimised): short, so plain C */
      const int32_t x = (int32_t)in[i] + input_offset;
      a0 += x * (int32_t)w[i];
      a1 += x * (int32_t)w[row + i];
      a2 += x * (int32_t)w[2 * row + i];
      a3 += x * (int32_t)w[3 * row + i];
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
  }
}

#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static void mcunas_dot4_rows_s8(int32_t *sums, const int32_t *bias, int32_t groups, const int8_t *in,
                                const int8_t *w, int32_t n, int32_t input_offset) {
  mcunas_dot4_rows_core(sums, bias, groups, in, w, n, input_offset, 0);
}

#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static void mcunas_dot4_rows_wide_s8(int32_t *sums, const int32_t *bias, int32_t groups, const int8_t *in,
                                     const int8_t *w, int32_t n, int32_t input_offset) {
  mcunas_dot4_rows_core(sums, bias, groups, in, w, n, input_offset, 1);
}

#endif /* MCUNAS_WINDOW_H */
