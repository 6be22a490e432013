/* The DSP path's planes (Cortex-M4/M7, MCUNAS_DSP_PATH), shared by depthwise_conv_s8.c and conv_s8.c's path for
 * few input channels; internal (not part of the interface). A plane is one input channel as int16, its padding
 * included (TinyEngine's observation: a depthwise channel is a small 2-D convolution of its own, while NHWC spreads
 * it c bytes apart; a first layer's one or three channels are the same case):
 *   1. gather: the channel's values into the plane in the caller's scratch, (x + input_offset) each; the padding
 *      rows and columns are zeroed once per call, so no tap needs a bounds check;
 *   2. weights: each kernel row as 16-bit pairs (w0, w1), (w2, w3), ..., an odd row's last pair (w, 0), doubled for
 *      the fast requantisation (requantize.h) when the output channel allows it;
 *   3. sums: two neighbouring taps of a row are one word, so one LDR and one SMLAD make two MACs; a 3x3 stride-1
 *      kernel goes four outputs at a time in assembly with the windows' loads shared (two at a time in C for a
 *      row's last outputs), other kernels two outputs at a time with each weight pair loaded once for both,
 *      unrolled for 3x3, 5x5 and 7x7; whole output rows go through one pass while they fit its 64 sums;
 *   4. a pass of sums is requantised at a time, with the output channel's constants in registers.
 * Integer sums in another order: the portable path's bits, which QEMU checks (tests/integration). */
#ifndef MCUNAS_PLANE_DSP_H
#define MCUNAS_PLANE_DSP_H

#include <stddef.h>
#include <string.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "window.h"

/* Row pitch of the plane in int16 values: the padded width, one spare column (an odd kernel row's zero-weighted
 * last tap reads it) and even, so rows stay word-aligned. */
static inline int32_t mcunas_plane_pitch(int32_t in_w, int32_t pad_w) { return (in_w + 2 * pad_w + 2) & ~1; }
/* Rows of the plane: the padded height and one spare row, so that TensorFlow's "same" padding at stride 2, one row
 * more at the bottom than at the top, fits too (the spare column does that for the width). */
static inline int32_t mcunas_plane_rows(int32_t in_h, int32_t pad_h) { return in_h + 2 * pad_h + 1; }
/* Whether the planes have a loop written for a kernel of k_h rows and k_w columns (mcunas_plane_sums): 3x3, 5x5
 * and 7x7; the others take the generic one. */
static inline int mcunas_plane_has_loop(int32_t k_h, int32_t k_w) {
  return k_h == k_w && (k_h == 3 || k_h == 5 || k_h == 7);
}

/* Whether a layer fits the planes (the portable depthwise path's int8 planes too, depthwise_conv_s8.c): the weight
 * pairs of `planes` planes on the stack, and padding within the plane the scratch holds (trailing pads more than
 * one larger than the leading ones do not). */
static inline int mcunas_plane_fits(const mcunas_conv_params *p, const mcunas_dims *in_dims,
                                    const mcunas_dims *f_dims, const mcunas_dims *out_dims, int32_t planes) {
  const int32_t pitch = mcunas_plane_pitch(in_dims->w, p->pad_w);
  return planes * f_dims->h * ((f_dims->w + 1) / 2) <= MCUNAS_PLANE_MAX_PAIRS &&
         (out_dims->h - 1) * p->stride_h + f_dims->h <= mcunas_plane_rows(in_dims->h, p->pad_h) &&
         (out_dims->w - 1) * p->stride_w + f_dims->w + 1 <= pitch;
}

#ifdef MCUNAS_DSP_PATH

#if defined(__GNUC__)
#define MCUNAS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MCUNAS_ALWAYS_INLINE inline
#endif

/* Sums computed and requantised together (on the stack, twice: the sums and another plane's). */
#define MCUNAS_PLANE_ROW_CHUNK 64

/* (lo, hi) as the low and high halves of a word: one PKHBT (GCC builds it from a mask and an OR otherwise). */
static inline uint32_t mcunas_pack_halves(int32_t lo, int32_t hi) {
  uint32_t r;
  __asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}

/* Two neighbouring int16 values as one word: one LDR, word-aligned or not (window.h). */
static inline uint32_t mcunas_load_pair(const int16_t *p) { return mcunas_load_word((const int8_t *)p); }

/* Step 1: channel ch into the plane's interior; plane row y is input row y - pad_h, column x input column x - pad_w.
 * The padding around it is the same for every channel: mcunas_plane_start zeroes the planes once per call. */
static void mcunas_plane_gather(int16_t *plane, int32_t pitch, const int8_t *in_batch, int32_t in_h, int32_t in_w,
                             int32_t c, int32_t ch, int32_t pad_h, int32_t pad_w, int32_t offset) {
  const int16x2_t offset2 = (int16x2_t)(((uint32_t)offset & 0xFFFFu) | ((uint32_t)offset << 16));
  const ptrdiff_t c2 = 2 * (ptrdiff_t)c, c3 = 3 * (ptrdiff_t)c, c4 = 4 * (ptrdiff_t)c;
  for (int32_t iy = 0; iy < in_h; ++iy) {
    int16_t *d = plane + (ptrdiff_t)(iy + pad_h) * pitch + pad_w;
    const int8_t *src = in_batch + (ptrdiff_t)iy * in_w * c + ch;
    int32_t ix = 0;
    /* Four values per pass: two packed pairs, the offset added to both halves by one SADD16 each. */
    for (; ix + 4 <= in_w; ix += 4, src += c4) {
      const uint32_t p01 = (uint32_t)__sadd16((int16x2_t)mcunas_pack_halves(src[0], src[c]), offset2);
      const uint32_t p23 = (uint32_t)__sadd16((int16x2_t)mcunas_pack_halves(src[c2], src[c3]), offset2);
      memcpy(d + ix, &p01, 4);
      memcpy(d + ix + 2, &p23, 4);
    }
    for (; ix < in_w; ++ix, src += c) d[ix] = (int16_t)(src[0] + offset);
  }
}

/* Step 4 for `n` sums: requantised, stored `c` bytes apart. mode 0: the exact form (a channel the fast one does not
 * fit); 1: the fast form clamped to [-128, 127] (one SSAT); 2: the fast form with the layer's clamp. */
static MCUNAS_ALWAYS_INLINE void mcunas_plane_store(const int32_t *sums, int32_t n, int8_t *out, ptrdiff_t c, int mode,
                                                 int32_t multiplier, int32_t shift, int32_t output_offset,
                                                 int32_t act_min, int32_t act_max) {
  const int32_t right = -shift, round = mode ? mcunas_requantize_round(right) : 0;
  int32_t i = 0;
  if (mode == 1) /* two per pass: the loop's own instructions are a third of the work */
    for (; i + 2 <= n; i += 2, out += 2 * c) {
      const int8_t v0 = mcunas_requantize_doubled_full_s8(sums[i], multiplier, right, round, output_offset);
      const int8_t v1 = mcunas_requantize_doubled_full_s8(sums[i + 1], multiplier, right, round, output_offset);
      out[0] = v0;
      out[c] = v1;
    }
  for (; i < n; ++i, out += c) {
    if (mode == 0)
      *out = mcunas_requantize_to_s8(sums[i], multiplier, shift, output_offset, act_min, act_max);
    else if (mode == 1)
      *out = mcunas_requantize_doubled_full_s8(sums[i], multiplier, right, round, output_offset);
    else
      *out = mcunas_requantize_doubled_to_s8(sums[i], multiplier, right, round, output_offset, act_min, act_max);
  }
}

/* One kernel row (w0, w1) = w01, (w2, 0) = w2 of a 3x3 window at r (taps 0..2) and of the next one (taps 1..3):
 * the words (0, 1), (2, 3), (1, 2), each loaded once. */
static MCUNAS_ALWAYS_INLINE void mcunas_plane_kernel_row_3x2(const int16_t *r, int16x2_t w01, int16x2_t w2,
                                                             int32_t *s0, int32_t *s1) {
  const int16x2_t lo = (int16x2_t)mcunas_load_pair(r), hi = (int16x2_t)mcunas_load_pair(r + 2),
                  mid = (int16x2_t)mcunas_load_pair(r + 1);
  *s0 = __smlabb(hi, w2, __smlad(lo, w01, *s0));
  *s1 = __smlatb(hi, w2, __smlad(mid, w01, *s1));
}

/* Step 3 for `n` outputs of one output row from `row` (the plane's row of the window's top, at output 0): 3x3,
 * stride 1, two outputs per pass; (a0, a2), (b0, b2), (c0, c2): the kernel rows' pairs (w0, w1) and (w2, 0). Reads
 * up to row[n + 2] of each kernel row, the plane's spare column at most (pitch >= n + 3). */
static MCUNAS_ALWAYS_INLINE void mcunas_plane_row_3x3(const int16_t *row, ptrdiff_t pitch, int16x2_t a0,
                                                      int16x2_t a2, int16x2_t b0, int16x2_t b2, int16x2_t c0,
                                                      int16x2_t c2, int32_t n, int32_t acc0, int32_t *sums) {
  int32_t i = 0;
  for (; i + 2 <= n; i += 2, row += 2) {
    int32_t s0 = acc0, s1 = acc0;
    mcunas_plane_kernel_row_3x2(row, a0, a2, &s0, &s1);
    mcunas_plane_kernel_row_3x2(row + pitch, b0, b2, &s0, &s1);
    mcunas_plane_kernel_row_3x2(row + 2 * pitch, c0, c2, &s0, &s1);
    sums[i] = s0;
    sums[i + 1] = s1;
  }
  if (i < n) {
    int32_t s = acc0;
    const int16_t *r = row;
    s = __smlad((int16x2_t)mcunas_load_pair(r), a0, s);
    s = __smlad((int16x2_t)mcunas_load_pair(r + 2), a2, s);
    r += pitch;
    s = __smlad((int16x2_t)mcunas_load_pair(r), b0, s);
    s = __smlad((int16x2_t)mcunas_load_pair(r + 2), b2, s);
    r += pitch;
    s = __smlad((int16x2_t)mcunas_load_pair(r), c0, s);
    s = __smlad((int16x2_t)mcunas_load_pair(r + 2), c2, s);
    sums[i] = s;
  }
}

#if defined(__OPTIMIZE__)
/* The end of every four-output pass below: the four sums stored (word-aligned: STRD), then the next pass until dst
 * reaches end. */
#define MCUNAS_PLANE_BY4_NEXT                \
  "strd %[s0], %[s1], [%[dst]], #8\n\t"     \
  "strd %[s2], %[s3], [%[dst]], #8\n\t"     \
  "cmp %[dst], %[end]\n\t"                  \
  "bne 1b"
/* The operands of the loops that walk the kernel rows through one pointer r, pitch bytes apart (5x5 at stride 1 and
 * 2, 3x3 at stride 2): 13 registers. */
#define MCUNAS_PLANE_BY4_OPERANDS                                                                             \
  : [r] "+r"(r), [dst] "+r"(dst), [wa] "=&r"(wa), [wb] "=&r"(wb), [wc] "=&r"(wc), [t] "=&r"(t), [s0] "=&r"(s0), \
    [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)                                                          \
  : [k] "r"(k), [end] "r"(end), [pitch] "r"(pitch_bytes)                                                    \
  : "cc", "memory"

/* Four outputs per pass of a 3x3 stride-1 row in assembly: 48 instructions for 36 MACs. Per kernel row the five
 * words (0,1) (1,2) (2,3) (3,4) (4,5) of the plane row are loaded once each; (0,1)..(3,4) meet the row's pair
 * (w0, w1) in SMLAD, (2,3) and (4,5) meet w2 in SMLABB / SMLATB, one temporary register at a time. k: the kernel's
 * six pair words, then the sums' start value. As C, GCC keeps too many operands live and spills on every pass; by
 * hand it fits 13 registers (unoptimised builds keep a frame pointer and take the C rows instead). The loads may
 * be unaligned (LDR allows it on v7E-M); k and the sums are word-aligned, as LDRD and STRD need. */
static inline int32_t mcunas_plane_row_3x3_by4(const int16_t *row, ptrdiff_t pitch, const uint32_t *k, int32_t n,
                                               int32_t *sums) {
  const int32_t blocks = n / 4;
  if (blocks == 0) return 0;
  const int16_t *r0 = row, *r1 = row + pitch, *r2 = row + 2 * pitch;
  int32_t *dst = sums, *const end = sums + 4 * blocks;
  uint32_t wa, wb, t;
  int32_t s0, s1, s2, s3;
  __asm volatile("1:\n\t"
                 "ldr %[wb], [%[k], #24]\n\t" /* the start value */
                 "ldr %[wa], [%[k]]\n\t"
                 "ldr %[t], [%[r0]]\n\t"
                 "smlad %[s0], %[t], %[wa], %[wb]\n\t"
                 "ldr %[t], [%[r0], #2]\n\t"
                 "smlad %[s1], %[t], %[wa], %[wb]\n\t"
                 "ldr %[t], [%[r0], #6]\n\t"
                 "smlad %[s3], %[t], %[wa], %[wb]\n\t"
                 "ldr %[t], [%[r0], #4]\n\t"
                 "smlad %[s2], %[t], %[wa], %[wb]\n\t"
                 "ldr %[wb], [%[k], #4]\n\t"
                 "smlabb %[s0], %[t], %[wb], %[s0]\n\t"
                 "smlatb %[s1], %[t], %[wb], %[s1]\n\t"
                 "ldr %[t], [%[r0], #8]!\n\t"
                 "smlabb %[s2], %[t], %[wb], %[s2]\n\t"
                 "smlatb %[s3], %[t], %[wb], %[s3]\n\t"
                 "ldrd %[wa], %[wb], [%[k], #8]\n\t"
                 "ldr %[t], [%[r1]]\n\t"
                 "smlad %[s0], %[t], %[wa], %[s0]\n\t"
                 "ldr %[t], [%[r1], #2]\n\t"
                 "smlad %[s1], %[t], %[wa], %[s1]\n\t"
                 "ldr %[t], [%[r1], #6]\n\t"
                 "smlad %[s3], %[t], %[wa], %[s3]\n\t"
                 "ldr %[t], [%[r1], #4]\n\t"
                 "smlad %[s2], %[t], %[wa], %[s2]\n\t"
                 "smlabb %[s0], %[t], %[wb], %[s0]\n\t"
                 "smlatb %[s1], %[t], %[wb], %[s1]\n\t"
                 "ldr %[t], [%[r1], #8]!\n\t"
                 "smlabb %[s2], %[t], %[wb], %[s2]\n\t"
                 "smlatb %[s3], %[t], %[wb], %[s3]\n\t"
                 "ldrd %[wa], %[wb], [%[k], #16]\n\t"
                 "ldr %[t], [%[r2]]\n\t"
                 "smlad %[s0], %[t], %[wa], %[s0]\n\t"
                 "ldr %[t], [%[r2], #2]\n\t"
                 "smlad %[s1], %[t], %[wa], %[s1]\n\t"
                 "ldr %[t], [%[r2], #6]\n\t"
                 "smlad %[s3], %[t], %[wa], %[s3]\n\t"
                 "ldr %[t], [%[r2], #4]\n\t"
                 "smlad %[s2], %[t], %[wa], %[s2]\n\t"
                 "smlabb %[s0], %[t], %[wb], %[s0]\n\t"
                 "smlatb %[s1], %[t], %[wb], %[s1]\n\t"
                 "ldr %[t], [%[r2], #8]!\n\t"
                 "smlabb %[s2], %[t], %[wb], %[s2]\n\t"
                 "smlatb %[s3], %[t], %[wb], %[s3]\n\t"
                 MCUNAS_PLANE_BY4_NEXT
                 : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [dst] "+r"(dst), [wa] "=&r"(wa), [wb] "=&r"(wb),
                   [t] "=&r"(t), [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
                 : [k] "r"(k), [end] "r"(end)
                 : "cc", "memory");
  return 4 * blocks;
}
#endif

/* `rows` output rows of n outputs, their windows' tops `row_step` values apart, into consecutive sums. */
static void mcunas_plane_sums_3x3(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp, int32_t rows,
                                  ptrdiff_t row_step, int32_t n, int32_t acc0, int32_t *sums) {
  const int16x2_t a0 = (int16x2_t)wp[0], a2 = (int16x2_t)wp[1], b0 = (int16x2_t)wp[2], b2 = (int16x2_t)wp[3];
  const int16x2_t c0 = (int16x2_t)wp[4], c2 = (int16x2_t)wp[5];
#if defined(__OPTIMIZE__)
  const uint32_t k[7] = {wp[0], wp[1], wp[2], wp[3], wp[4], wp[5], (uint32_t)acc0};
#endif
  for (int32_t y = 0; y < rows; ++y, row += row_step, sums += n) {
    int32_t done = 0;
#if defined(__OPTIMIZE__)
    done = mcunas_plane_row_3x3_by4(row, pitch, k, n, sums);
#endif
    mcunas_plane_row_3x3(row + done, pitch, a0, a2, b0, b2, c0, c2, n - done, acc0, sums + done);
  }
}

#if defined(__OPTIMIZE__)
/* One kernel row of mcunas_plane_row_5x5_by4 after the first: the row's pairs (w0, w1), (w2, w3), (w4, w5) from k at
 * byte offsets AB and C, the eight words (0,1)..(7,8) of the plane row, twelve SMLADs; then the next row. */
#define MCUNAS_PLANE_ROW5(AB, C, NEXT)                                                                                \
  "ldrd %[wa], %[wb], [%[k], #" AB "]\n\t"                                                                         \
  "ldr %[wc], [%[k], #" C "]\n\t"                                                                                  \
  "ldr %[t], [%[r]]\n\t"                                                                                           \
  "smlad %[s0], %[t], %[wa], %[s0]\n\t"                                                                            \
  "ldr %[t], [%[r], #2]\n\t"                                                                                       \
  "smlad %[s1], %[t], %[wa], %[s1]\n\t"                                                                            \
  "ldr %[t], [%[r], #4]\n\t"                                                                                       \
  "smlad %[s2], %[t], %[wa], %[s2]\n\t"                                                                            \
  "smlad %[s0], %[t], %[wb], %[s0]\n\t"                                                                            \
  "ldr %[t], [%[r], #6]\n\t"                                                                                       \
  "smlad %[s3], %[t], %[wa], %[s3]\n\t"                                                                            \
  "smlad %[s1], %[t], %[wb], %[s1]\n\t"                                                                            \
  "ldr %[t], [%[r], #8]\n\t"                                                                                       \
  "smlad %[s0], %[t], %[wc], %[s0]\n\t"                                                                            \
  "smlad %[s2], %[t], %[wb], %[s2]\n\t"                                                                            \
  "ldr %[t], [%[r], #10]\n\t"                                                                                      \
  "smlad %[s1], %[t], %[wc], %[s1]\n\t"                                                                            \
  "smlad %[s3], %[t], %[wb], %[s3]\n\t"                                                                            \
  "ldr %[t], [%[r], #12]\n\t"                                                                                      \
  "smlad %[s2], %[t], %[wc], %[s2]\n\t"                                                                            \
  "ldr %[t], [%[r], #14]\n\t"                                                                                      \
  "smlad %[s3], %[t], %[wc], %[s3]\n\t" NEXT

/* Four outputs per pass of a 5-row, 3-pair (5x5 or 5x6) stride-1 row in assembly: 121 instructions for 100 MACs
 * (bench/kernels_m4: the whole depthwise 5x5 layer 2.89 -> 2.07 instructions/MAC against the two-output loop
 * below). Per kernel row the eight words (0,1)..(7,8) of the plane row are loaded once each and meet the row's three
 * pairs in twelve SMLADs: output j takes words j, j + 2 and j + 4. k: the kernel's fifteen pair words, then the
 * sums' start value; 13 registers, as mcunas_plane_row_3x3_by4. Reads up to value 4 * blocks + 4 of each plane row,
 * as the generic loop does; the sums are word-aligned (STRD). */
static inline int32_t mcunas_plane_row_5x5_by4(const int16_t *row, ptrdiff_t pitch, const uint32_t *k, int32_t n,
                                               int32_t *sums) {
  const int32_t blocks = n / 4;
  if (blocks == 0) return 0;
  const int16_t *r = row;
  const ptrdiff_t pitch_bytes = 2 * pitch;
  int32_t *dst = sums, *const end = sums + 4 * blocks;
  uint32_t wa, wb, wc, t;
  int32_t s0, s1, s2, s3;
  __asm volatile("1:\n\t"
                 /* kernel row 0: the sums start at the start value (held in wc until w4 is needed) */
                 "ldr %[wc], [%[k], #60]\n\t"
                 "ldrd %[wa], %[wb], [%[k]]\n\t"
                 "ldr %[t], [%[r]]\n\t"
                 "smlad %[s0], %[t], %[wa], %[wc]\n\t"
                 "ldr %[t], [%[r], #2]\n\t"
                 "smlad %[s1], %[t], %[wa], %[wc]\n\t"
                 "ldr %[t], [%[r], #4]\n\t"
                 "smlad %[s2], %[t], %[wa], %[wc]\n\t"
                 "smlad %[s0], %[t], %[wb], %[s0]\n\t"
                 "ldr %[t], [%[r], #6]\n\t"
                 "smlad %[s3], %[t], %[wa], %[wc]\n\t"
                 "smlad %[s1], %[t], %[wb], %[s1]\n\t"
                 "ldr %[wc], [%[k], #8]\n\t"
                 "ldr %[t], [%[r], #8]\n\t"
                 "smlad %[s0], %[t], %[wc], %[s0]\n\t"
                 "smlad %[s2], %[t], %[wb], %[s2]\n\t"
                 "ldr %[t], [%[r], #10]\n\t"
                 "smlad %[s1], %[t], %[wc], %[s1]\n\t"
                 "smlad %[s3], %[t], %[wb], %[s3]\n\t"
                 "ldr %[t], [%[r], #12]\n\t"
                 "smlad %[s2], %[t], %[wc], %[s2]\n\t"
                 "ldr %[t], [%[r], #14]\n\t"
                 "smlad %[s3], %[t], %[wc], %[s3]\n\t"
                 "add %[r], %[r], %[pitch]\n\t"
                 MCUNAS_PLANE_ROW5("12", "20", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5("24", "32", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5("36", "44", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5("48", "56", "")
                 /* back to row 0, four outputs on */
                 "sub %[r], %[r], %[pitch], lsl #2\n\t"
                 "add %[r], %[r], #8\n\t"
                 MCUNAS_PLANE_BY4_NEXT
                 MCUNAS_PLANE_BY4_OPERANDS);
  return 4 * blocks;
}

/* One kernel row of mcunas_plane_row_5x5_s2_by4 after the first: the row's three pairs, the six aligned words
 * (0,1), (2,3) .. (10,11) of the plane row, twelve SMLADs (output j takes words j, j + 1 and j + 2). */
#define MCUNAS_PLANE_ROW5_S2(AB, C, NEXT)                                                                             \
  "ldrd %[wa], %[wb], [%[k], #" AB "]\n\t"                                                                         \
  "ldr %[wc], [%[k], #" C "]\n\t"                                                                                  \
  "ldr %[t], [%[r]]\n\t"                                                                                           \
  "smlad %[s0], %[t], %[wa], %[s0]\n\t"                                                                            \
  "ldr %[t], [%[r], #4]\n\t"                                                                                       \
  "smlad %[s0], %[t], %[wb], %[s0]\n\t"                                                                            \
  "smlad %[s1], %[t], %[wa], %[s1]\n\t"                                                                            \
  "ldr %[t], [%[r], #8]\n\t"                                                                                       \
  "smlad %[s0], %[t], %[wc], %[s0]\n\t"                                                                            \
  "smlad %[s1], %[t], %[wb], %[s1]\n\t"                                                                            \
  "smlad %[s2], %[t], %[wa], %[s2]\n\t"                                                                            \
  "ldr %[t], [%[r], #12]\n\t"                                                                                      \
  "smlad %[s1], %[t], %[wc], %[s1]\n\t"                                                                            \
  "smlad %[s2], %[t], %[wb], %[s2]\n\t"                                                                            \
  "smlad %[s3], %[t], %[wa], %[s3]\n\t"                                                                            \
  "ldr %[t], [%[r], #16]\n\t"                                                                                      \
  "smlad %[s2], %[t], %[wc], %[s2]\n\t"                                                                            \
  "smlad %[s3], %[t], %[wb], %[s3]\n\t"                                                                            \
  "ldr %[t], [%[r], #20]\n\t"                                                                                      \
  "smlad %[s3], %[t], %[wc], %[s3]\n\t" NEXT

/* The same at stride 2: output j's window starts at value 2j, so every pair it needs is one of the aligned words
 * (0,1) .. (10,11), each loaded once for up to three outputs (row 0 loads (4,5) twice, to free the register that
 * holds the start value): 112 instructions for 100 MACs. */
static inline int32_t mcunas_plane_row_5x5_s2_by4(const int16_t *row, ptrdiff_t pitch, const uint32_t *k, int32_t n,
                                                  int32_t *sums) {
  const int32_t blocks = n / 4;
  if (blocks == 0) return 0;
  const int16_t *r = row;
  const ptrdiff_t pitch_bytes = 2 * pitch;
  int32_t *dst = sums, *const end = sums + 4 * blocks;
  uint32_t wa, wb, wc, t;
  int32_t s0, s1, s2, s3;
  __asm volatile("1:\n\t"
                 /* kernel row 0: the sums start at the start value (held in wc until w4 is needed) */
                 "ldr %[wc], [%[k], #60]\n\t"
                 "ldrd %[wa], %[wb], [%[k]]\n\t"
                 "ldr %[t], [%[r]]\n\t"
                 "smlad %[s0], %[t], %[wa], %[wc]\n\t"
                 "ldr %[t], [%[r], #4]\n\t"
                 "smlad %[s0], %[t], %[wb], %[s0]\n\t"
                 "smlad %[s1], %[t], %[wa], %[wc]\n\t"
                 "ldr %[t], [%[r], #8]\n\t"
                 "smlad %[s2], %[t], %[wa], %[wc]\n\t"
                 "smlad %[s1], %[t], %[wb], %[s1]\n\t"
                 "ldr %[t], [%[r], #12]\n\t"
                 "smlad %[s3], %[t], %[wa], %[wc]\n\t"
                 "smlad %[s2], %[t], %[wb], %[s2]\n\t"
                 "ldr %[wc], [%[k], #8]\n\t"
                 "smlad %[s1], %[t], %[wc], %[s1]\n\t"
                 "ldr %[t], [%[r], #8]\n\t"
                 "smlad %[s0], %[t], %[wc], %[s0]\n\t"
                 "ldr %[t], [%[r], #16]\n\t"
                 "smlad %[s2], %[t], %[wc], %[s2]\n\t"
                 "smlad %[s3], %[t], %[wb], %[s3]\n\t"
                 "ldr %[t], [%[r], #20]\n\t"
                 "smlad %[s3], %[t], %[wc], %[s3]\n\t"
                 "add %[r], %[r], %[pitch]\n\t"
                 MCUNAS_PLANE_ROW5_S2("12", "20", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5_S2("24", "32", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5_S2("36", "44", "add %[r], %[r], %[pitch]\n\t")
                 MCUNAS_PLANE_ROW5_S2("48", "56", "")
                 /* back to row 0, four outputs (eight values) on */
                 "sub %[r], %[r], %[pitch], lsl #2\n\t"
                 "add %[r], %[r], #16\n\t"
                 MCUNAS_PLANE_BY4_NEXT
                 MCUNAS_PLANE_BY4_OPERANDS);
  return 4 * blocks;
}
#undef MCUNAS_PLANE_ROW5_S2
#undef MCUNAS_PLANE_ROW5

/* One kernel row of mcunas_plane_row_3x3_s2_by4: the row's pairs (w0, w1) and (w2, 0) from k at byte offset AB, the
 * five aligned words (0,1) .. (8,9) of the plane row; output j takes word j with (w0, w1) and word j + 1 with
 * (w2, 0), so each inner word meets two outputs. FIRST is the sums' value before the row (the start value in wc
 * for row 0, the sum itself after). */
#define MCUNAS_PLANE_ROW3_S2(AB, A0, A1, A2, A3)                                                                      \
  "ldrd %[wa], %[wb], [%[k], #" AB "]\n\t"                                                                         \
  "ldr %[t], [%[r]]\n\t"                                                                                           \
  "smlad %[s0], %[t], %[wa], " A0 "\n\t"                                                                          \
  "ldr %[t], [%[r], #4]\n\t"                                                                                       \
  "smlad %[s0], %[t], %[wb], %[s0]\n\t"                                                                            \
  "smlad %[s1], %[t], %[wa], " A1 "\n\t"                                                                          \
  "ldr %[t], [%[r], #8]\n\t"                                                                                       \
  "smlad %[s1], %[t], %[wb], %[s1]\n\t"                                                                            \
  "smlad %[s2], %[t], %[wa], " A2 "\n\t"                                                                          \
  "ldr %[t], [%[r], #12]\n\t"                                                                                      \
  "smlad %[s2], %[t], %[wb], %[s2]\n\t"                                                                            \
  "smlad %[s3], %[t], %[wa], " A3 "\n\t"                                                                          \
  "ldr %[t], [%[r], #16]\n\t"                                                                                      \
  "smlad %[s3], %[t], %[wb], %[s3]\n\t"                                                                            \
  "add %[r], %[r], %[pitch]\n\t"

/* Four outputs per pass of a 3x3 stride-2 row in assembly (depthwise at stride 2, and first layers such as
 * MobileNetV1's 3-channel stem): per kernel row five aligned words, eight SMLADs, 15 instructions for 12 MACs; 53
 * for 36 with the pass's set-up. k: the kernel's six pair words, then the sums' start value (held in wc). Reads up
 * to value 8 * blocks + 1 of each plane row, within the spare column mcunas_plane_fits leaves; the sums are
 * word-aligned (STRD). */
static inline int32_t mcunas_plane_row_3x3_s2_by4(const int16_t *row, ptrdiff_t pitch, const uint32_t *k, int32_t n,
                                                  int32_t *sums) {
  const int32_t blocks = n / 4;
  if (blocks == 0) return 0;
  const int16_t *r = row;
  const ptrdiff_t pitch_bytes = 2 * pitch;
  int32_t *dst = sums, *const end = sums + 4 * blocks;
  uint32_t wa, wb, wc, t;
  int32_t s0, s1, s2, s3;
  __asm volatile("ldr %[wc], [%[k], #24]\n"
                 "1:\n\t"
                 MCUNAS_PLANE_ROW3_S2("0", "%[wc]", "%[wc]", "%[wc]", "%[wc]")
                 MCUNAS_PLANE_ROW3_S2("8", "%[s0]", "%[s1]", "%[s2]", "%[s3]")
                 MCUNAS_PLANE_ROW3_S2("16", "%[s0]", "%[s1]", "%[s2]", "%[s3]")
                 /* back to row 0, four outputs (eight values) on */
                 "sub %[r], %[r], %[pitch], lsl #1\n\t"
                 "sub %[r], %[r], %[pitch]\n\t"
                 "add %[r], %[r], #16\n\t"
                 MCUNAS_PLANE_BY4_NEXT
                 MCUNAS_PLANE_BY4_OPERANDS);
  return 4 * blocks;
}
#undef MCUNAS_PLANE_ROW3_S2
#undef MCUNAS_PLANE_BY4_OPERANDS
#undef MCUNAS_PLANE_BY4_NEXT
#endif

/* Step 3, any kernel and stride: two outputs per pass, each weight pair loaded once for both, `pairs` words per
 * kernel row. Inlined into mcunas_plane_sums_k with constant k_h and pairs for the common kernels, so the loops unroll
 * and the taps are loads at fixed offsets. */
static MCUNAS_ALWAYS_INLINE void mcunas_plane_row_any(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp,
                                                     int32_t k_h, int32_t pairs, int32_t stride_w, int32_t n,
                                                     int32_t acc0, int32_t *sums) {
  int32_t i = 0;
  for (; i + 2 <= n; i += 2, row += 2 * stride_w) {
    int32_t s0 = acc0, s1 = acc0;
    const uint32_t *w = wp;
    const int16_t *r = row;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 7
#endif
    for (int32_t ky = 0; ky < k_h; ++ky, r += pitch)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
      for (int32_t j = 0; j < pairs; ++j, ++w) {
        const int16x2_t wv = (int16x2_t)*w;
        s0 = __smlad((int16x2_t)mcunas_load_pair(r + 2 * j), wv, s0);
        s1 = __smlad((int16x2_t)mcunas_load_pair(r + stride_w + 2 * j), wv, s1);
      }
    sums[i] = s0;
    sums[i + 1] = s1;
  }
  if (i < n) {
    int32_t s = acc0;
    const uint32_t *w = wp;
    const int16_t *r = row;
    for (int32_t ky = 0; ky < k_h; ++ky, r += pitch)
      for (int32_t j = 0; j < pairs; ++j, ++w) s = __smlad((int16x2_t)mcunas_load_pair(r + 2 * j), (int16x2_t)*w, s);
    sums[i] = s;
  }
}

static MCUNAS_ALWAYS_INLINE void mcunas_plane_sums_any(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp,
                                                    int32_t k_h, int32_t pairs, int32_t stride_w, int32_t rows,
                                                    ptrdiff_t row_step, int32_t n, int32_t acc0, int32_t *sums) {
  for (int32_t y = 0; y < rows; ++y, row += row_step, sums += n)
    mcunas_plane_row_any(row, pitch, wp, k_h, pairs, stride_w, n, acc0, sums);
}

static void mcunas_plane_sums_3(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp, int32_t stride_w,
                               int32_t rows, ptrdiff_t row_step, int32_t n, int32_t acc0, int32_t *sums) {
#if defined(__OPTIMIZE__)
  if (stride_w == 2) { /* four outputs per pass in assembly, the rest of each row two at a time */
    const uint32_t k[7] = {wp[0], wp[1], wp[2], wp[3], wp[4], wp[5], (uint32_t)acc0};
    for (int32_t y = 0; y < rows; ++y, row += row_step, sums += n) {
      const int32_t done = mcunas_plane_row_3x3_s2_by4(row, pitch, k, n, sums);
      mcunas_plane_row_any(row + 2 * done, pitch, wp, 3, 2, 2, n - done, acc0, sums + done);
    }
    return;
  }
#endif
  mcunas_plane_sums_any(row, pitch, wp, 3, 2, stride_w, rows, row_step, n, acc0, sums);
}
static void mcunas_plane_sums_5(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp, int32_t stride_w,
                               int32_t rows, ptrdiff_t row_step, int32_t n, int32_t acc0, int32_t *sums) {
#if defined(__OPTIMIZE__)
  /* Four outputs per pass in assembly, the rest of each row two at a time; one loop per stride, so neither carries
   * the other's test (one per row cost the README network's stride-1 5x5 layers about 4 %). */
  if (stride_w == 1 || stride_w == 2) {
    uint32_t k[16];
    memcpy(k, wp, 15 * sizeof(uint32_t));
    k[15] = (uint32_t)acc0;
    if (stride_w == 1)
      for (int32_t y = 0; y < rows; ++y, row += row_step, sums += n) {
        const int32_t done = mcunas_plane_row_5x5_by4(row, pitch, k, n, sums);
        mcunas_plane_row_any(row + done, pitch, wp, 5, 3, 1, n - done, acc0, sums + done);
      }
    else
      for (int32_t y = 0; y < rows; ++y, row += row_step, sums += n) {
        const int32_t done = mcunas_plane_row_5x5_s2_by4(row, pitch, k, n, sums);
        mcunas_plane_row_any(row + 2 * done, pitch, wp, 5, 3, 2, n - done, acc0, sums + done);
      }
    return;
  }
#endif
  mcunas_plane_sums_any(row, pitch, wp, 5, 3, stride_w, rows, row_step, n, acc0, sums);
}
static void mcunas_plane_sums_7(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp, int32_t stride_w,
                               int32_t rows, ptrdiff_t row_step, int32_t n, int32_t acc0, int32_t *sums) {
  mcunas_plane_sums_any(row, pitch, wp, 7, 4, stride_w, rows, row_step, n, acc0, sums);
}
static void mcunas_plane_sums(const int16_t *row, ptrdiff_t pitch, const uint32_t *wp, int32_t k_h, int32_t pairs,
                              int32_t stride_w, int32_t rows, ptrdiff_t row_step, int32_t n, int32_t acc0,
                              int32_t *sums) {
  if (k_h == 3 && pairs == 2)
    mcunas_plane_sums_3(row, pitch, wp, stride_w, rows, row_step, n, acc0, sums);
  else if (k_h == 5 && pairs == 3)
    mcunas_plane_sums_5(row, pitch, wp, stride_w, rows, row_step, n, acc0, sums);
  else if (k_h == 7 && pairs == 4)
    mcunas_plane_sums_7(row, pitch, wp, stride_w, rows, row_step, n, acc0, sums);
  else
    mcunas_plane_sums_any(row, pitch, wp, k_h, pairs, stride_w, rows, row_step, n, acc0, sums);
}

/* Step 2 for one plane: `taps` holds kernel row ky's tap kx at taps[(ky * k_w + kx) * step]. */
static inline void mcunas_plane_weights(uint32_t *wp, const int8_t *taps, ptrdiff_t step, int32_t k_h, int32_t k_w,
                                        int32_t scale) {
  const int32_t pairs = (k_w + 1) / 2;
  for (int32_t ky = 0; ky < k_h; ++ky)
    for (int32_t j = 0; j < pairs; ++j) {
      const int8_t *w = taps + ((ptrdiff_t)ky * k_w + 2 * j) * step;
      const int32_t lo = scale * w[0], hi = 2 * j + 1 < k_w ? scale * w[step] : 0;
      wp[ky * pairs + j] = ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
    }
}

/* Steps 3 and 4 for every output of one output channel, summed over `planes` planes `plane_values` apart (one for
 * depthwise, the input channels for a convolution), their weight pairs k_h * pairs apart in wp; outputs `c` bytes
 * apart; `mode` as in mcunas_plane_store. */
static MCUNAS_ALWAYS_INLINE void mcunas_plane_outputs(const int16_t *plane, ptrdiff_t plane_values, int32_t planes,
                                                      ptrdiff_t pitch, const uint32_t *wp, int32_t k_h, int32_t k_w,
                                                      int32_t stride_h, int32_t stride_w, int32_t out_h,
                                                      int32_t out_w, int32_t acc0, int8_t *out, ptrdiff_t c,
                                                      int mode, int32_t multiplier, int32_t shift,
                                                      int32_t output_offset, int32_t act_min, int32_t act_max) {
  const int32_t pairs = (k_w + 1) / 2;
  const int three = k_h == 3 && k_w == 3 && stride_w == 1;
  /* A pass covers whole output rows while they fit the chunk (one call per pass, not per row: small maps), else
   * one row in pieces of the chunk. */
  const int32_t rows_per_pass = out_w <= MCUNAS_PLANE_ROW_CHUNK ? MCUNAS_PLANE_ROW_CHUNK / out_w : 1;
  const ptrdiff_t row_step = (ptrdiff_t)stride_h * pitch;
  int32_t sums[MCUNAS_PLANE_ROW_CHUNK], more[MCUNAS_PLANE_ROW_CHUNK];
  for (int32_t oy = 0; oy < out_h; oy += rows_per_pass) {
    const int32_t rows = out_h - oy < rows_per_pass ? out_h - oy : rows_per_pass;
    int8_t *dst = out + (ptrdiff_t)oy * out_w * c;
    for (int32_t ox = 0; ox < out_w; ox += MCUNAS_PLANE_ROW_CHUNK) {
      const int32_t n = out_w - ox < MCUNAS_PLANE_ROW_CHUNK ? out_w - ox : MCUNAS_PLANE_ROW_CHUNK;
      for (int32_t i = 0; i < planes; ++i) {
        const int16_t *row = plane + i * plane_values + oy * row_step + (ptrdiff_t)ox * stride_w;
        const uint32_t *w = wp + (ptrdiff_t)i * k_h * pairs;
        int32_t *into = i == 0 ? sums : more;
        if (three)
          mcunas_plane_sums_3x3(row, pitch, w, rows, row_step, n, i == 0 ? acc0 : 0, into);
        else
          mcunas_plane_sums(row, pitch, w, k_h, pairs, stride_w, rows, row_step, n, i == 0 ? acc0 : 0, into);
        if (i > 0)
          for (int32_t j = 0; j < rows * n; ++j) sums[j] += more[j];
      }
      /* rows * n outputs: whole rows are consecutive pixels, so one stride of c covers them */
      mcunas_plane_store(sums, rows * n, dst + (ptrdiff_t)ox * c, c, mode, multiplier, shift, output_offset, act_min,
                         act_max);
    }
  }
}

/* The planes word-aligned inside the scratch (its 4 spare bytes), so the row pairs are aligned loads, and their
 * padding zeroed. */
static inline int16_t *mcunas_plane_start(void *scratch, ptrdiff_t plane_values, int32_t planes) {
  int16_t *plane = (int16_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
  memset(plane, 0, (size_t)(plane_values * planes) * 2);
  return plane;
}

#endif /* MCUNAS_DSP_PATH */
#endif /* MCUNAS_PLANE_DSP_H */
