/* The convolution's DSP path (Cortex-M4/M7, MCUNAS_DSP_PATH): a block of two output pixels by two output channels
 * per pass, four accumulators, so each weight word and each input word feeds two SMLADs each time it is split.
 * Internal to conv_s8.c (not part of the interface).
 *
 * General convolutions first copy each pixel's window into an im2col column in the caller's scratch: K = k_h * k_w *
 * in_c values, (x + input_offset) as int16, padding taps 0, and every group of four values (x0, x1, x2, x3) stored as
 * the pairs (x0, x2), (x1, x3) — the order SXTB16 splits a weight word into, so the column needs no splitting in the
 * inner loop and the weights need no reordering in flash. That loop is then 2 weight loads, 4 SXTB16, 2 LDRD of the
 * columns and 8 SMLADs for 16 MACs. A 1x1 convolution splits its two pixels into the same columns (no window); one
 * given no scratch reads them in place and splits both input words instead (SXTAB16 adds the offset on the way).
 * Integer sums in another order: the portable path's bits, which QEMU checks (tests/integration/firmware_qemu_test.sh).
 */
#ifndef MCUNAS_CONV_DSP_H
#define MCUNAS_CONV_DSP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

/* The bytes of slack a call's scratch holds beyond its two columns, so they can start on a 4-byte boundary
 * (mcunas_columns_align) wherever the arena places the scratch: the inner loop reads them with LDRD. */
#define MCUNAS_COLUMNS_SLACK 3

#ifdef MCUNAS_DSP_PATH

static inline int16_t *mcunas_columns_align(void *scratch) {
  return (int16_t *)(((uintptr_t)scratch + MCUNAS_COLUMNS_SLACK) & ~(uintptr_t)MCUNAS_COLUMNS_SLACK);
}

/* The two columns share one buffer, interleaved group by group so the inner loop reads both through one pointer:
 * group g of pixel p (its pairs (x0, x2), (x1, x3)) at int16 offset 8g + 4p; a tail of fewer than four values
 * (k % 4) follows all groups, pixel 0's then pixel 1's, in order. */
static inline ptrdiff_t mcunas_im2col_slot(ptrdiff_t i, ptrdiff_t k, int pixel) {
  static const unsigned char order[4] = {0, 2, 1, 3};
  const ptrdiff_t full = k & ~(ptrdiff_t)3;
  return i < full ? 2 * (i & ~(ptrdiff_t)3) + 4 * pixel + order[i & 3] : 2 * full + pixel * (k - full) + (i - full);
}

/* Zeroes the slots of values [i, i + n) of one pixel, n a multiple of four (whole groups). */
static inline void mcunas_im2col_zero(int16_t *columns, ptrdiff_t i, ptrdiff_t n, int pixel) {
  for (int16_t *dst = columns + 2 * i + 4 * pixel, *end = dst + 2 * n; dst < end; dst += 8) memset(dst, 0, 8);
}

/* `groups` words of four int8 values from src (any alignment) into one pixel's slots from dst on (word-aligned):
 * each word split by SXTAB16 into the pairs (v0, v2), (v1, v3), the offset added, stored with one STRD, 16 bytes
 * apart (the other pixel's pairs sit between). Four words per pass in assembly, then one at a time: 4.75
 * instructions a word with the loop (GCC's loop took about 8, with the pointer arithmetic of two memcpy's). */
#define MCUNAS_SPLIT_WORD(v)                             \
  "ldr %[" v "], [%[s]], #4\n\t"                        \
  "sxtab16 %[e], %[off], %[" v "]\n\t"                  \
  "sxtab16 %[" v "], %[off], %[" v "], ror #8\n\t"      \
  "strd %[e], %[" v "], [%[d]], #16\n\t"
static inline void mcunas_split_words(int16_t *dst, const int8_t *src, ptrdiff_t groups, int16x2_t offset) {
  uint32_t v, e;
  if (groups >= 4)
    __asm volatile("1:\n\t" MCUNAS_SPLIT_WORD("v") MCUNAS_SPLIT_WORD("v") MCUNAS_SPLIT_WORD("v")
                       MCUNAS_SPLIT_WORD("v") "subs %[n], %[n], #4\n\t"
                   "cmp %[n], #3\n\t"
                   "bgt 1b"
                   : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(groups), [v] "=&r"(v), [e] "=&r"(e)
                   : [off] "r"(offset)
                   : "cc", "memory");
  for (; groups > 0; --groups)
    __asm volatile(MCUNAS_SPLIT_WORD("v")
                   : [s] "+r"(src), [d] "+r"(dst), [v] "=&r"(v), [e] "=&r"(e)
                   : [off] "r"(offset)
                   : "memory");
}
#undef MCUNAS_SPLIT_WORD

/* One pixel's k values read in place (a 1x1 convolution's window) as column `pixel` (0 or 1): the column layout
 * above without any window arithmetic, whole words split on the way. */
static inline void mcunas_pixel_column(int16_t *columns, int pixel, const int8_t *x, ptrdiff_t k,
                                       int32_t input_offset) {
  const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
  const ptrdiff_t full = k & ~(ptrdiff_t)3;
  mcunas_split_words(columns + 4 * pixel, x, full / 4, offset);
  for (ptrdiff_t i = full; i < k; ++i)
    columns[2 * full + pixel * (k - full) + (i - full)] = (int16_t)(x[i] + input_offset);
}

/* The window of one output pixel (origin y0, x0, possibly in the padding) as column `pixel` (0 or 1). */
static void mcunas_im2col_s8(int16_t *columns, int pixel, const int8_t *in_batch, int32_t in_h, int32_t in_w,
                             int32_t in_c, int32_t y0, int32_t x0, int32_t k_h, int32_t k_w, int32_t input_offset) {
  const ptrdiff_t row_values = (ptrdiff_t)k_w * in_c, k = (ptrdiff_t)k_h * row_values;
  if ((in_c & 3) == 0) { /* groups of four never straddle a tap: whole words, split on the way */
    const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
    if (y0 >= 0 && x0 >= 0 && y0 + k_h <= in_h && x0 + k_w <= in_w) { /* inside the input: each row in one go */
      const int8_t *src = in_batch + ((ptrdiff_t)y0 * in_w + x0) * in_c;
      int16_t *dst = columns + 4 * pixel;
      const ptrdiff_t in_row = (ptrdiff_t)in_w * in_c;
      for (int32_t ky = 0; ky < k_h; ++ky, src += in_row, dst += 2 * row_values)
        mcunas_split_words(dst, src, row_values / 4, offset);
      return;
    }
    for (int32_t ky = 0; ky < k_h; ++ky) {
      const ptrdiff_t row = ky * row_values;
      const int32_t iy = y0 + ky;
      const int32_t x_begin = x0 < 0 ? 0 : x0, x_end = x0 + k_w > in_w ? in_w : x0 + k_w;
      if (iy < 0 || iy >= in_h || x_begin >= x_end) {
        mcunas_im2col_zero(columns, row, row_values, pixel);
        continue;
      }
      const ptrdiff_t lead = (ptrdiff_t)(x_begin - x0) * in_c, run = (ptrdiff_t)(x_end - x_begin) * in_c;
      mcunas_im2col_zero(columns, row, lead, pixel);
      mcunas_split_words(columns + 2 * (row + lead) + 4 * pixel, in_batch + ((ptrdiff_t)iy * in_w + x_begin) * in_c,
                         run / 4, offset);
      mcunas_im2col_zero(columns, row + lead + run, row_values - lead - run, pixel);
    }
    return;
  }
  /* Few input channels (a first layer): value by value, each to its slot. */
  for (int32_t ky = 0; ky < k_h; ++ky)
    for (int32_t kx = 0; kx < k_w; ++kx) {
      const int32_t iy = y0 + ky, ix = x0 + kx;
      const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
      const int8_t *src = in_batch + ((ptrdiff_t)iy * in_w + ix) * in_c;
      for (int32_t c = 0; c < in_c; ++c) {
        const ptrdiff_t i = ky * row_values + (ptrdiff_t)kx * in_c + c;
        columns[mcunas_im2col_slot(i, k, pixel)] = (int16_t)(inside ? src[c] + input_offset : 0);
      }
    }
}

/* One group of four values of both pixels against two weight rows (the inner loop's step, written once): two weight
 * words split, then each pixel's two column words (one LDRD) against both rows. */
#define MCUNAS_BLOCK_2X2_GROUP                 \
  "ldr %[k0], [%[w0]], #4\n\t"                \
  "ldr %[k1], [%[w1]], #4\n\t"                \
  "sxtb16 %[k0e], %[k0]\n\t"                  \
  "sxtb16 %[k0], %[k0], ror #8\n\t"           \
  "sxtb16 %[k1e], %[k1]\n\t"                  \
  "sxtb16 %[k1], %[k1], ror #8\n\t"           \
  "ldrd %[p0], %[p1], [%[c]], #8\n\t"         \
  "smlad %[a00], %[k0e], %[p0], %[a00]\n\t"   \
  "smlad %[a10], %[k1e], %[p0], %[a10]\n\t"   \
  "smlad %[a00], %[k0], %[p1], %[a00]\n\t"    \
  "smlad %[a10], %[k1], %[p1], %[a10]\n\t"    \
  "ldrd %[p0], %[p1], [%[c]], #8\n\t"         \
  "smlad %[a01], %[k0e], %[p0], %[a01]\n\t"   \
  "smlad %[a11], %[k1e], %[p0], %[a11]\n\t"   \
  "smlad %[a01], %[k0], %[p1], %[a01]\n\t"    \
  "smlad %[a11], %[k1], %[p1], %[a11]\n\t"

/* Output channels o and o + 1 (rows w0 and w1; w1 = w0 for a last odd channel) of the two pixels in `columns`, which
 * must be 4-byte aligned (mcunas_columns_align): adds to a[0..3] = a<channel><pixel>. */
static inline void mcunas_block_2x2(const int16_t *columns, ptrdiff_t k, const int8_t *w0, const int8_t *w1,
                                    int32_t a[4]) {
  int32_t a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3];
  const int16_t *c = columns;
  const ptrdiff_t full = k & ~(ptrdiff_t)3;
  const int16_t *const c_end = columns + 2 * full; /* the same for every block of the pixel pair */
#if defined(__OPTIMIZE__)
  if (full) {
    /* The loop in assembly: as C, GCC keeps one operand too many live and spills it on every step. Two groups per
     * pass, 32 instructions for 32 MACs and 3 for the loop (its end compared from memory, which frees the register
     * the 13 operands need); an odd group count enters at the second group. Weight loads may be unaligned (rows at
     * any byte), which LDR allows on v7E-M; the column words are read by LDRD, which needs the alignment the caller
     * gives them. Unoptimised builds keep the frame pointer, leave too few registers for it and take the C loop
     * below, which computes the same sums. */
    uint32_t k0, k1, k0e = (uint32_t)(full >> 2) & 1u, k1e, p0, p1;
    __asm volatile("cmp %[k0e], #0\n\t"
                   "bne 2f\n"
                   "1:\n\t" MCUNAS_BLOCK_2X2_GROUP
                   "2:\n\t" MCUNAS_BLOCK_2X2_GROUP
                   "ldr %[k0e], %[end]\n\t"
                   "cmp %[c], %[k0e]\n\t"
                   "bne 1b"
                   : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w0] "+r"(w0),
                     [w1] "+r"(w1), [c] "+r"(c), [k0] "=&r"(k0), [k1] "=&r"(k1), [k0e] "+r"(k0e), [k1e] "=&r"(k1e),
                     [p0] "=&r"(p0), [p1] "=&r"(p1)
                   : [end] "m"(c_end)
                   : "cc", "memory");
  }
#else
  for (; c < c_end; w0 += 4, w1 += 4, c += 8) {
    const uint32_t k0 = mcunas_load_word(w0), k1 = mcunas_load_word(w1);
    int16x2_t p[4];
    memcpy(p, c, sizeof p); /* pixel 0's pairs (x0, x2), (x1, x3), then pixel 1's */
    const int16x2_t k0e = __sxtb16((int8x4_t)k0), k0o = mcunas_sxtb16_ror8(k0);
    const int16x2_t k1e = __sxtb16((int8x4_t)k1), k1o = mcunas_sxtb16_ror8(k1);
    a00 = __smlad(k0e, p[0], __smlad(k0o, p[1], a00));
    a01 = __smlad(k0e, p[2], __smlad(k0o, p[3], a01));
    a10 = __smlad(k1e, p[0], __smlad(k1o, p[1], a10));
    a11 = __smlad(k1e, p[2], __smlad(k1o, p[3], a11));
  }
#endif
  const ptrdiff_t tail = k & 3;
  for (ptrdiff_t i = 0; i < tail; ++i) {
    a00 += c[i] * w0[i];
    a01 += c[tail + i] * w0[i];
    a10 += c[i] * w1[i];
    a11 += c[tail + i] * w1[i];
  }
  a[0] = a00;
  a[1] = a01;
  a[2] = a10;
  a[3] = a11;
}

/* The same block read from two int8 pixels in place (x0 and x0 + k): the 1x1 path. */
static inline void mcunas_block_2x2_s8(const int8_t *x0, ptrdiff_t k, const int8_t *w0, int pair,
                                       int32_t input_offset, int32_t *acc) {
  const int8_t *x1 = x0 + k, *w1 = pair ? w0 + k : w0;
  const int16x2_t offset = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) | ((uint32_t)input_offset << 16));
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  ptrdiff_t i = 0;
  for (; i + 4 <= k; i += 4) {
    const uint32_t k0 = mcunas_load_word(w0 + i), k1 = mcunas_load_word(w1 + i);
    const uint32_t v0 = mcunas_load_word(x0 + i), v1 = mcunas_load_word(x1 + i);
    const int16x2_t k0e = __sxtb16((int8x4_t)k0), k0o = mcunas_sxtb16_ror8(k0);
    const int16x2_t k1e = __sxtb16((int8x4_t)k1), k1o = mcunas_sxtb16_ror8(k1);
    const int16x2_t p0e = __sxtab16(offset, (int8x4_t)v0), p0o = mcunas_sxtab16_ror8(offset, v0);
    const int16x2_t p1e = __sxtab16(offset, (int8x4_t)v1), p1o = mcunas_sxtab16_ror8(offset, v1);
    a00 = __smlad(k0e, p0e, __smlad(k0o, p0o, a00));
    a01 = __smlad(k0e, p1e, __smlad(k0o, p1o, a01));
    a10 = __smlad(k1e, p0e, __smlad(k1o, p0o, a10));
    a11 = __smlad(k1e, p1e, __smlad(k1o, p1o, a11));
  }
  for (; i < k; ++i) {
    const int32_t p0 = x0[i] + input_offset, p1 = x1[i] + input_offset;
    a00 += p0 * w0[i];
    a01 += p1 * w0[i];
    a10 += p0 * w1[i];
    a11 += p1 * w1[i];
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
}

#if defined(__GNUC__)
#define MCUNAS_CONV_INLINE inline __attribute__((always_inline))
#else
#define MCUNAS_CONV_INLINE inline
#endif

/* One output of channel (multiplier, shift): `mode` 0 the exact requantisation, 1 the fast one
 * (mcunas_requantize_doubled_fits_all, tested once per layer by the caller), 2 the fast one on a layer clamped to
 * the whole int8 range (one SSAT). */
static MCUNAS_CONV_INLINE int8_t mcunas_conv_output(int32_t acc, int mode, int32_t multiplier, int32_t shift,
                                                    int32_t round, int32_t output_offset, int32_t act_min,
                                                    int32_t act_max) {
  if (mode == 2) return mcunas_requantize_doubled_full_s8(acc * 2, multiplier, -shift, round, output_offset);
  if (mode == 1)
    return mcunas_requantize_doubled_to_s8(acc * 2, multiplier, -shift, round, output_offset, act_min, act_max);
  return mcunas_requantize_to_s8(acc, multiplier, shift, output_offset, act_min, act_max);
}

/* Output channels first .. out_c - 1 of two pixels (out0 and out0 + out_c), from two im2col columns (`in_place` 0)
 * or from two int8 pixels read in place (`in_place` 1); `mode` as in mcunas_conv_output, a constant in each of the
 * functions below so each compiles to its own loop. The parameters sit in locals: the int8 stores may alias
 * anything, so the compiler would otherwise load them again for every output. */
static MCUNAS_CONV_INLINE void mcunas_conv_two_pixels_body(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                                           const void *columns, int in_place, ptrdiff_t k,
                                                           const int8_t *weights, const int32_t *bias, int32_t out_c,
                                                           int mode, int8_t *out0, int32_t first) {
  const int32_t input_offset = p->input_offset, output_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int32_t *const multiplier = q->multiplier, *const shift = q->shift;
  int8_t *out1 = out0 + out_c;
  for (int32_t o = first; o < out_c; o += 2) {
    const int pair = o + 1 < out_c;
    const int32_t b0 = bias ? bias[o] : 0, b1 = bias && pair ? bias[o + 1] : 0;
    int32_t acc[4] = {b0, b0, b1, b1};
    const int8_t *w = weights + (ptrdiff_t)o * k;
    if (in_place)
      mcunas_block_2x2_s8((const int8_t *)columns, k, w, pair, input_offset, acc);
    else
      mcunas_block_2x2((const int16_t *)columns, k, w, pair ? w + k : w, acc);
    const int32_t m0 = multiplier[o], s0 = shift[o], round0 = mode ? mcunas_requantize_round(-s0) : 0;
    const int8_t r00 = mcunas_conv_output(acc[0], mode, m0, s0, round0, output_offset, act_min, act_max);
    const int8_t r01 = mcunas_conv_output(acc[1], mode, m0, s0, round0, output_offset, act_min, act_max);
    out0[o] = r00;
    out1[o] = r01;
    if (!pair) break;
    const int32_t m1 = multiplier[o + 1], s1 = shift[o + 1], round1 = mode ? mcunas_requantize_round(-s1) : 0;
    const int8_t r10 = mcunas_conv_output(acc[2], mode, m1, s1, round1, output_offset, act_min, act_max);
    const int8_t r11 = mcunas_conv_output(acc[3], mode, m1, s1, round1, output_offset, act_min, act_max);
    out0[o + 1] = r10;
    out1[o + 1] = r11;
  }
}

static void mcunas_conv_two_pixels_exact(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                         const void *columns, int in_place, ptrdiff_t k, const int8_t *weights,
                                         const int32_t *bias, int32_t out_c, int8_t *out0) {
  mcunas_conv_two_pixels_body(p, q, columns, in_place, k, weights, bias, out_c, 0, out0, 0);
}

static void mcunas_conv_two_pixels_fast(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                        const int16_t *columns, ptrdiff_t k, const int8_t *weights,
                                        const int32_t *bias, int32_t out_c, int8_t *out0) {
  mcunas_conv_two_pixels_body(p, q, columns, 0, k, weights, bias, out_c, 1, out0, 0);
}
#if defined(__OPTIMIZE__)
/* What mcunas_conv_pairs_full's assembly reads and advances, block after block (its registers hold only the block's
 * own values: the inner loop takes 13 of them and this structure's address the 14th). */
typedef struct {
  const int32_t *bias, *multiplier, *shift; /* of the next channel pair */
  int8_t *out0;                             /* pixel 0's output of the next channel pair; pixel 1's is out_c on */
  const int8_t *out0_end;                   /* out0 after the last pair */
  const int16_t *columns, *columns_end;     /* the two columns, and the end of their whole groups */
  /* entry: the whole groups mod 8, or 8 when there are none; the assembly replaces it by its entry's address */
  intptr_t entry;
  int32_t k, tail, out_c, output_offset;
} mcunas_conv_pairs;

/* Every pair of output channels of the two pixels in `columns`, requantised by the fast form on the whole int8 range
 * (mode 2) and stored, in one piece of assembly: the inner loop of mcunas_block_2x2 with eight groups per pass
 * (131 instructions per 128 MACs; two per pass took 140: bench/kernels_m4's 3x3 layer 1.36 → 1.32 with four, 1.31
 * → 1.29 with eight), entered by the group count mod 8,
 * the k mod 4 tail values one at a time (SMLABB), then the four outputs, 7 instructions each (doubled sum, SMMLAR,
 * the sign, the shift, the offset, SSAT, STRB). As C around the inner loop's assembly, GCC spilled and reloaded the
 * block's values through the stack: about 95 instructions per block besides the products, here 67. Needs a bias,
 * 4-byte aligned columns, at least one pair, and w0 the weights of the first pair. */
static void mcunas_conv_pairs_full(mcunas_conv_pairs *st, const int8_t *w0) {
  int32_t a00, a01, a10, a11;
  uint32_t k0, k1, k0e, k1e, p0, p1;
  const int8_t *w1;
  const int16_t *c;
  __asm volatile(
      /* Eight groups per pass; the pass is entered as far in as the groups mod 8 say (r left: at group 9 - r, 0 at
       * the first, 8: none, k < 4). The entry's address (Thumb bit set) is worked out once here and kept in the
       * state: each block then branches to it with two instructions. */
      "ldr %[k0e], [%[st], %[o_entry]]\n\t"
      "cmp %[k0e], #4\n\t"
      "bhi 6f\n\t"
      "beq 7f\n\t"
      "cmp %[k0e], #2\n\t"
      "bhi 8f\n\t"
      "beq 9f\n\t"
      "cmp %[k0e], #1\n\t"
      "beq 10f\n\t"
      "adr %[k1], 1f\n\t"
      "b 18f\n"
      "10:\n\t"
      "adr %[k1], 17f\n\t"
      "b 18f\n"
      "9:\n\t"
      "adr %[k1], 16f\n\t"
      "b 18f\n"
      "8:\n\t"
      "adr %[k1], 15f\n\t"
      "b 18f\n"
      "7:\n\t"
      "adr %[k1], 14f\n\t"
      "b 18f\n"
      "6:\n\t"
      "cmp %[k0e], #6\n\t"
      "bhi 19f\n\t"
      "beq 20f\n\t"
      "adr %[k1], 13f\n\t"
      "b 18f\n"
      "20:\n\t"
      "adr %[k1], 12f\n\t"
      "b 18f\n"
      "19:\n\t"
      "cmp %[k0e], #7\n\t"
      "bne 21f\n\t"
      "adr %[k1], 11f\n\t"
      "b 18f\n"
      "21:\n\t"
      "adr %[k1], 5f\n"
      "18:\n\t"
      "orr %[k1], %[k1], #1\n\t"
      "str %[k1], [%[st], %[o_entry]]\n"
      "0:\n\t"
      /* the block's sums start at the pair's biases */
      "ldr %[k0], [%[st], %[o_bias]]\n\t"
      "ldrd %[a00], %[a10], [%[k0]], #8\n\t"
      "str %[k0], [%[st], %[o_bias]]\n\t"
      "mov %[a01], %[a00]\n\t"
      "mov %[a11], %[a10]\n\t"
      "ldr %[k1], [%[st], %[o_k]]\n\t"
      "add %[w1], %[w0], %[k1]\n\t"
      "ldr %[c], [%[st], %[o_columns]]\n\t"
      /* the pass's entry for this call's group count, computed before the first block */
      "ldr %[k0e], [%[st], %[o_entry]]\n\t"
      "bx %[k0e]\n"
      "1:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "11:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "12:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "13:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "14:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "15:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "16:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "17:\n\t" MCUNAS_BLOCK_2X2_GROUP
      "ldr %[k0e], [%[st], %[o_columns_end]]\n\t"
      "cmp %[c], %[k0e]\n\t"
      "bne 1b\n"
      /* the k mod 4 values after the groups: pixel 0's, then pixel 1's */
      "5:\n\t"
      "ldr %[p0], [%[st], %[o_tail]]\n\t"
      "cmp %[p0], #0\n\t"
      "beq 4f\n\t"
      "add %[p1], %[c], %[p0], lsl #1\n"
      "3:\n\t"
      "ldrsb %[k0], [%[w0]], #1\n\t"
      "ldrsb %[k1], [%[w1]], #1\n\t"
      "ldrsh %[k0e], [%[c]], #2\n\t"
      "ldrsh %[k1e], [%[p1]], #2\n\t"
      "smlabb %[a00], %[k0], %[k0e], %[a00]\n\t"
      "smlabb %[a10], %[k1], %[k0e], %[a10]\n\t"
      "smlabb %[a01], %[k0], %[k1e], %[a01]\n\t"
      "smlabb %[a11], %[k1], %[k1e], %[a11]\n\t"
      "subs %[p0], %[p0], #1\n\t"
      "bne 3b\n"
      "4:\n\t"
      /* w1 now starts the next pair's rows; the pair's multipliers and shifts */
      "mov %[w0], %[w1]\n\t"
      "ldr %[k0], [%[st], %[o_multiplier]]\n\t"
      "ldrd %[k1], %[k1e], [%[k0]], #8\n\t"
      "str %[k0], [%[st], %[o_multiplier]]\n\t"
      "ldr %[k0], [%[st], %[o_shift]]\n\t"
      "ldrd %[p0], %[p1], [%[k0]], #8\n\t"
      "str %[k0], [%[st], %[o_shift]]\n\t"
      /* channel 0: right shift r = -shift in p0, rounding 2^(r - 1) = 1 << ~shift in k0e */
      "mvn %[k0e], %[p0]\n\t"
      "mov %[c], #1\n\t"
      "lsl %[k0e], %[c], %[k0e]\n\t"
      "rsb %[p0], %[p0], #0\n\t"
      "ldr %[c], [%[st], %[o_output_offset]]\n\t"
      "ldr %[k0], [%[st], %[o_out0]]\n\t"
      "lsl %[a00], %[a00], #1\n\t"
      "smmlar %[w1], %[a00], %[k1], %[k0e]\n\t"
      "add %[w1], %[w1], %[a00], asr #31\n\t"
      "asr %[w1], %[w1], %[p0]\n\t"
      "add %[w1], %[w1], %[c]\n\t"
      "ssat %[w1], #8, %[w1]\n\t"
      "strb %[w1], [%[k0]]\n\t"
      "lsl %[a01], %[a01], #1\n\t"
      "smmlar %[w1], %[a01], %[k1], %[k0e]\n\t"
      "add %[w1], %[w1], %[a01], asr #31\n\t"
      "asr %[w1], %[w1], %[p0]\n\t"
      "add %[w1], %[w1], %[c]\n\t"
      "ssat %[w1], #8, %[w1]\n\t"
      "ldr %[a00], [%[st], %[o_out_c]]\n\t"
      "strb %[w1], [%[k0], %[a00]]\n\t"
      /* channel 1 */
      "mvn %[k0e], %[p1]\n\t"
      "mov %[k1], #1\n\t"
      "lsl %[k0e], %[k1], %[k0e]\n\t"
      "rsb %[p1], %[p1], #0\n\t"
      "lsl %[a10], %[a10], #1\n\t"
      "smmlar %[w1], %[a10], %[k1e], %[k0e]\n\t"
      "add %[w1], %[w1], %[a10], asr #31\n\t"
      "asr %[w1], %[w1], %[p1]\n\t"
      "add %[w1], %[w1], %[c]\n\t"
      "ssat %[w1], #8, %[w1]\n\t"
      "strb %[w1], [%[k0], #1]\n\t"
      "add %[a00], %[a00], %[k0]\n\t"
      "lsl %[a11], %[a11], #1\n\t"
      "smmlar %[w1], %[a11], %[k1e], %[k0e]\n\t"
      "add %[w1], %[w1], %[a11], asr #31\n\t"
      "asr %[w1], %[w1], %[p1]\n\t"
      "add %[w1], %[w1], %[c]\n\t"
      "ssat %[w1], #8, %[w1]\n\t"
      "strb %[w1], [%[a00], #1]\n\t"
      /* the next pair */
      "add %[k0], %[k0], #2\n\t"
      "str %[k0], [%[st], %[o_out0]]\n\t"
      "ldr %[k1], [%[st], %[o_out0_end]]\n\t"
      "cmp %[k0], %[k1]\n\t"
      "bne 0b"
      : [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11), [w0] "+r"(w0), [w1] "=&r"(w1),
        [c] "=&r"(c), [k0] "=&r"(k0), [k1] "=&r"(k1), [k0e] "=&r"(k0e), [k1e] "=&r"(k1e), [p0] "=&r"(p0),
        [p1] "=&r"(p1)
      : [st] "r"(st), [o_bias] "i"(offsetof(mcunas_conv_pairs, bias)),
        [o_multiplier] "i"(offsetof(mcunas_conv_pairs, multiplier)), [o_shift] "i"(offsetof(mcunas_conv_pairs, shift)),
        [o_out0] "i"(offsetof(mcunas_conv_pairs, out0)), [o_out0_end] "i"(offsetof(mcunas_conv_pairs, out0_end)),
        [o_columns] "i"(offsetof(mcunas_conv_pairs, columns)),
        [o_columns_end] "i"(offsetof(mcunas_conv_pairs, columns_end)), [o_k] "i"(offsetof(mcunas_conv_pairs, k)),
        [o_entry] "i"(offsetof(mcunas_conv_pairs, entry)), [o_tail] "i"(offsetof(mcunas_conv_pairs, tail)),
        [o_out_c] "i"(offsetof(mcunas_conv_pairs, out_c)),
        [o_output_offset] "i"(offsetof(mcunas_conv_pairs, output_offset))
      : "cc", "memory");
}
#endif

static void mcunas_conv_two_pixels_full(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                        const int16_t *columns, ptrdiff_t k, const int8_t *weights,
                                        const int32_t *bias, int32_t out_c, int8_t *out0) {
  int32_t first = 0; /* the output channels the assembly leaves: all of them, or a last odd one */
#if defined(__OPTIMIZE__)
  if (bias && out_c >= 2) {
    const int32_t pairs = out_c / 2, full = (int32_t)(k & ~(ptrdiff_t)3);
    mcunas_conv_pairs st = {bias,    q->multiplier,      q->shift,          out0,  out0 + 2 * pairs,
                            columns, columns + 2 * full, full ? (full >> 2) & 7 : 8, (int32_t)k, (int32_t)(k & 3),
                            out_c,   p->output_offset};
    mcunas_conv_pairs_full(&st, weights);
    first = 2 * pairs;
  }
#endif
  if (first < out_c) mcunas_conv_two_pixels_body(p, q, columns, 0, k, weights, bias, out_c, 2, out0, first);
}

/* Every output channel of one pixel x read in place, with the requantisation `mode`: a 1x1 convolution's odd last
 * pixel, and a fully connected layer, which we deploy as a one-pixel 1x1 convolution (deploy/int8_ops.cpp). With no
 * second pixel to share a weight word with, four channels at a time share each input word (mcunas_dot4_rows_s8), the
 * last out_c mod 4 two and one at a time; then a chunk's sums are requantised with the mode tested once. */
static void mcunas_conv_one_pixel(const mcunas_conv_params *p, const mcunas_channel_quant *q, const int8_t *x,
                                  int32_t k, const int8_t *weights, const int32_t *bias, int32_t out_c, int mode,
                                  int8_t *out) {
  const int32_t input_offset = p->input_offset, output_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  int32_t sums[MCUNAS_DOT4_ROWS_CHUNK];
  for (int32_t o = 0; o < out_c; o += MCUNAS_DOT4_ROWS_CHUNK) {
    const int32_t n = out_c - o < MCUNAS_DOT4_ROWS_CHUNK ? out_c - o : MCUNAS_DOT4_ROWS_CHUNK;
    const int8_t *w = weights + (ptrdiff_t)o * k;
    const int32_t *b = bias ? bias + o : NULL;
    mcunas_dot4_rows_s8(sums, b, n / 4, x, w, k, input_offset);
    for (int32_t j = n & ~3; j < n; j += 2) {
      const int8_t *wj = w + (ptrdiff_t)j * k;
      int32_t a0 = b ? b[j] : 0;
      if (j + 1 < n) {
        int32_t a1 = b ? b[j + 1] : 0;
        mcunas_dot2_s8(&a0, &a1, x, wj, wj + k, k, input_offset);
        sums[j + 1] = a1;
      } else {
        a0 = mcunas_dot_s8(a0, x, wj, k, input_offset);
      }
      sums[j] = a0;
    }
    const int32_t *const m = q->multiplier + o, *const sh = q->shift + o;
    int8_t *const y = out + o;
    if (mode == 2)
      for (int32_t j = 0; j < n; ++j)
        y[j] = mcunas_requantize_doubled_full_s8(2 * sums[j], m[j], -sh[j], mcunas_requantize_round(-sh[j]),
                                                 output_offset);
    else if (mode == 1)
      for (int32_t j = 0; j < n; ++j)
        y[j] = mcunas_requantize_doubled_to_s8(2 * sums[j], m[j], -sh[j], mcunas_requantize_round(-sh[j]),
                                               output_offset, act_min, act_max);
    else
      for (int32_t j = 0; j < n; ++j)
        y[j] = mcunas_requantize_to_s8(sums[j], m[j], sh[j], output_offset, act_min, act_max);
  }
}

/* Every output channel of two pixels: from two int16 columns with the requantisation `mode`, or, with `in_place`,
 * read from the int8 pixels (the slower path of a call without scratch; exact requantisation, the same bits). */
static void mcunas_conv_two_pixels(const mcunas_conv_params *p, const mcunas_channel_quant *q, const void *columns,
                                   int in_place, ptrdiff_t k, const int8_t *weights, const int32_t *bias,
                                   int32_t out_c, int mode, int8_t *out0) {
  if (in_place || mode == 0 || !bias)
    mcunas_conv_two_pixels_exact(p, q, columns, in_place, k, weights, bias, out_c, out0);
  else if (mode == 1)
    mcunas_conv_two_pixels_fast(p, q, (const int16_t *)columns, k, weights, bias, out_c, out0);
  else
    mcunas_conv_two_pixels_full(p, q, (const int16_t *)columns, k, weights, bias, out_c, out0);
}

#endif /* MCUNAS_DSP_PATH */
#endif /* MCUNAS_CONV_DSP_H */
