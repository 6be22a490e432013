/* The reuse convolution's inner loops (reuse_conv_s8.c; internal, not part of the interface). The centroid's rounded
 * mean is shared by both paths; the rest is the DSP path (Cortex-M4/M7, MCUNAS_DSP_PATH), where int16 pairs feed
 * SMLAD:
 *   - a sub-vector is widened into int16 in natural order, 4 values from one word (SXTAB16 adds the offset, two PKH
 *     put the halves back in order), and padded with zeros to whole groups of 4;
 *   - its code: each projection column negated and paired, (-p[2t][h], -p[2t+1][h]) in one word, every bit's word
 *     of a value pair together, so one pass over the sub-vector feeds one accumulator per bit; the negated sum is
 *     negative exactly when the contract's sum is positive, so each bit is a sign bit;
 *   - its sums: int16 pairs added into four int32 at a time (LDM, SXTAH or ADD with ASR #16, STM);
 *   - the clusters' products: every centroid packed by groups of four as the pairs (c0, c2), (c1, c3) that SXTB16
 *     splits a weight word into, then for each group and pair of output channels the two weight words in
 *     registers while the clusters stream past, two table values per cluster.
 * The loops are written in assembly when optimised: as C, GCC pairs no loads into LDRD or LDM and keeps too few
 * values in registers. Unoptimised builds keep a frame pointer, leave too few registers for them and take the C
 * loops beside them, which compute the same sums. Every sum is an exact integer sum in another order, so the bits
 * are the portable path's; QEMU compares them (tests/integration/firmware_qemu_test.sh). */
#ifndef MCUNAS_REUSE_DSP_H
#define MCUNAS_REUSE_DSP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "window.h"

/* The contract's centroid value: the mean of `count` members summing to s, rounded half away from zero. A cluster of
 * one is its member ((2s ± 1) / 2 truncates to s), so the division is skipped. */
static inline int32_t mcunas_reuse_mean(int32_t s, int32_t count) {
  if (count == 1) return s;
  return (2 * s + (s >= 0 ? count : -count)) / (2 * count);
}

#ifdef MCUNAS_DSP_PATH

#if defined(__OPTIMIZE__)
#define MCUNAS_REUSE_ASM 1
#endif

/* (lo, hi) as one word's halves. */
static inline uint32_t mcunas_reuse_pack(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

/* n int8 values plus the offset as int16, in order, into dst (any even address; src any address). 9 instructions
 * for four values: LDR, two SXTAB16 ((v0, v2), (v1, v3)), two PKH ((v0, v1), (v2, v3)), two STR and the loop. */
static inline void mcunas_reuse_widen(int16_t *dst, const int8_t *src, int32_t n, int16x2_t offset2, int32_t offset) {
  int32_t groups = n >> 2;
#ifdef MCUNAS_REUSE_ASM
  if (groups) {
    uint32_t x, even, lo;
    __asm volatile("1:\n\t"
                   "ldr %[x], [%[s]], #4\n\t"
                   "sxtab16 %[e], %[off], %[x]\n\t"
                   "sxtab16 %[x], %[off], %[x], ror #8\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "pkhbt %[lo], %[e], %[x], lsl #16\n\t"
                   "pkhtb %[x], %[x], %[e], asr #16\n\t"
                   "str %[lo], [%[d]], #4\n\t"
                   "str %[x], [%[d]], #4\n\t"
                   "bne 1b"
                   : [s] "+r"(src), [d] "+r"(dst), [g] "+r"(groups), [x] "=&r"(x), [e] "=&r"(even), [lo] "=&r"(lo)
                   : [off] "r"(offset2)
                   : "cc", "memory");
  }
#else
  for (; groups > 0; --groups, src += 4, dst += 4) {
    const uint32_t x = mcunas_load_word(src);
    const uint32_t even = (uint32_t)__sxtab16(offset2, (int8x4_t)x), odd = (uint32_t)mcunas_sxtab16_ror8(offset2, x);
    const uint32_t lo = (even & 0xFFFFu) | (odd << 16), hi = (even >> 16) | (odd & 0xFFFF0000u);
    memcpy(dst, &lo, 4);
    memcpy(dst + 2, &hi, 4);
  }
#endif
  for (n &= 3; n > 0; --n) *dst++ = (int16_t)(*src++ + offset);
}

/* The projections as the hash reads them: for each pair of values t < pairs, one word per bit, (-p[2t][h],
 * -p[2t+1][h]) at t * bits + h; value indices from len on zero. Built once per call, a value pair at a time. */
static void mcunas_reuse_pair_table(uint32_t *table, const int8_t *projections, int32_t len, int32_t bits,
                                    int32_t pairs) {
  for (int32_t t = 0; t < pairs; ++t, table += bits) {
    const int8_t *lo = projections + (ptrdiff_t)2 * t * bits; /* rows 2t and 2t + 1 */
    if (2 * t + 1 < len)
      for (int32_t h = 0; h < bits; ++h) table[h] = mcunas_reuse_pack(-lo[h], -lo[bits + h]);
    else
      for (int32_t h = 0; h < bits; ++h) table[h] = mcunas_reuse_pack(-lo[h], 0);
  }
}

/* The hash of `pairs` (>= 1) value pairs of v (4-byte aligned; an odd length's last pair padded with 0) against the
 * table: one pass, one accumulator per bit, each value pair loaded once (LDR) and each two bits' table words at once
 * (LDRD): with the loop, 1 + ceil(H / 2) + H + 2 instructions for 2H multiply-adds (8 bits take 13 registers and
 * compare the loop's end from memory: 16 for 16). The first pair starts the sums (SMUAD), so none is cleared. The
 * code's bits are the sums' sign bits. */
#define MCUNAS_REUSE_FIRST2(a, b)                  \
  "ldrd %[p0], %[p1], [%[t]], #8\n\t"              \
  "smuad %[z" #a "], %[x], %[p0]\n\t"              \
  "smuad %[z" #b "], %[x], %[p1]\n\t"
#define MCUNAS_REUSE_FIRST1(a)                     \
  "ldr %[p0], [%[t]], #4\n\t"                      \
  "smuad %[z" #a "], %[x], %[p0]\n\t"
#define MCUNAS_REUSE_NEXT2(a, b)                   \
  "ldrd %[p0], %[p1], [%[t]], #8\n\t"              \
  "smlad %[z" #a "], %[x], %[p0], %[z" #a "]\n\t" \
  "smlad %[z" #b "], %[x], %[p1], %[z" #b "]\n\t"
#define MCUNAS_REUSE_NEXT1(a)                      \
  "ldr %[p0], [%[t]], #4\n\t"                      \
  "smlad %[z" #a "], %[x], %[p0], %[z" #a "]\n\t"
/* The steps of one value pair for 1 to 8 bits, from the two-bit and one-bit steps B2 and B1. */
#define MCUNAS_REUSE_STEPS1(B2, B1) B1(0)
#define MCUNAS_REUSE_STEPS2(B2, B1) B2(0, 1)
#define MCUNAS_REUSE_STEPS3(B2, B1) B2(0, 1) B1(2)
#define MCUNAS_REUSE_STEPS4(B2, B1) B2(0, 1) B2(2, 3)
#define MCUNAS_REUSE_STEPS5(B2, B1) B2(0, 1) B2(2, 3) B1(4)
#define MCUNAS_REUSE_STEPS6(B2, B1) B2(0, 1) B2(2, 3) B2(4, 5)
#define MCUNAS_REUSE_STEPS7(B2, B1) B2(0, 1) B2(2, 3) B2(4, 5) B1(6)
#define MCUNAS_REUSE_STEPS8(B2, B1) B2(0, 1) B2(2, 3) B2(4, 5) B2(6, 7)
#define MCUNAS_REUSE_Z1 [z0] "=&r"(z0)
#define MCUNAS_REUSE_Z2 MCUNAS_REUSE_Z1, [z1] "=&r"(z1)
#define MCUNAS_REUSE_Z3 MCUNAS_REUSE_Z2, [z2] "=&r"(z2)
#define MCUNAS_REUSE_Z4 MCUNAS_REUSE_Z3, [z3] "=&r"(z3)
#define MCUNAS_REUSE_Z5 MCUNAS_REUSE_Z4, [z4] "=&r"(z4)
#define MCUNAS_REUSE_Z6 MCUNAS_REUSE_Z5, [z5] "=&r"(z5)
#define MCUNAS_REUSE_Z7 MCUNAS_REUSE_Z6, [z6] "=&r"(z6)
#define MCUNAS_REUSE_HASH_LOOP(steps, zs)                                                                   \
  __asm volatile("ldr %[x], [%[v]], #4\n\t" steps(MCUNAS_REUSE_FIRST2, MCUNAS_REUSE_FIRST1)                \
                 "subs %[n], %[n], #1\n\t"                                                                  \
                 "beq 2f\n"                                                                                 \
                 "1:\n\t"                                                                                   \
                 "ldr %[x], [%[v]], #4\n\t" steps(MCUNAS_REUSE_NEXT2, MCUNAS_REUSE_NEXT1)                   \
                 "subs %[n], %[n], #1\n\t"                                                                  \
                 "bne 1b\n"                                                                                 \
                 "2:"                                                                                       \
                 : [v] "+r"(v), [t] "+r"(table), [n] "+r"(pairs), [x] "=&r"(x), [p0] "=&r"(p0), [p1] "=&r"(p1), \
                   zs                                                                                       \
                 :                                                                                          \
                 : "cc", "memory")
static inline uint32_t mcunas_reuse_hash(const int16_t *v, int32_t pairs, const uint32_t *table, int32_t bits) {
  int32_t z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0;
#ifdef MCUNAS_REUSE_ASM
  uint32_t x, p0, p1;
  const int16_t *const v_end = v + 2 * pairs;
  switch (bits) {
    case 1: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS1, MCUNAS_REUSE_Z1); break;
    case 2: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS2, MCUNAS_REUSE_Z2); break;
    case 3: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS3, MCUNAS_REUSE_Z3); break;
    case 4: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS4, MCUNAS_REUSE_Z4); break;
    case 5: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS5, MCUNAS_REUSE_Z5); break;
    case 6: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS6, MCUNAS_REUSE_Z6); break;
    case 7: MCUNAS_REUSE_HASH_LOOP(MCUNAS_REUSE_STEPS7, MCUNAS_REUSE_Z7); break;
    default: /* 8: no register left for a count */
      __asm volatile("ldr %[x], [%[v]], #4\n\t" MCUNAS_REUSE_STEPS8(MCUNAS_REUSE_FIRST2, MCUNAS_REUSE_FIRST1)
                     "ldr %[x], %[end]\n\t"
                     "cmp %[v], %[x]\n\t"
                     "beq 2f\n"
                     "1:\n\t"
                     "ldr %[x], [%[v]], #4\n\t" MCUNAS_REUSE_STEPS8(MCUNAS_REUSE_NEXT2, MCUNAS_REUSE_NEXT1)
                     "ldr %[x], %[end]\n\t"
                     "cmp %[v], %[x]\n\t"
                     "bne 1b\n"
                     "2:"
                     : [v] "+r"(v), [t] "+r"(table), [x] "=&r"(x), [p0] "=&r"(p0), [p1] "=&r"(p1),
                       MCUNAS_REUSE_Z7, [z7] "=&r"(z7)
                     : [end] "m"(v_end)
                     : "cc", "memory");
  }
#else
  int32_t z[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (; pairs > 0; --pairs, v += 2, table += bits) {
    int16x2_t x;
    memcpy(&x, v, sizeof x);
    for (int32_t h = 0; h < bits; ++h) z[h] = __smlad(x, (int16x2_t)table[h], z[h]);
  }
  z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3], z4 = z[4], z5 = z[5], z6 = z[6], z7 = z[7];
#endif
  /* Bit h the sign of z_h, from the top down: a shift and an OR with a shifted operand per bit (the bits above H
   * come from sums left at 0, and constant-fold away). */
  uint32_t code = (uint32_t)z7 >> 31;
  code = (code << 1) | ((uint32_t)z6 >> 31);
  code = (code << 1) | ((uint32_t)z5 >> 31);
  code = (code << 1) | ((uint32_t)z4 >> 31);
  code = (code << 1) | ((uint32_t)z3 >> 31);
  code = (code << 1) | ((uint32_t)z2 >> 31);
  code = (code << 1) | ((uint32_t)z1 >> 31);
  return (code << 1) | ((uint32_t)z0 >> 31);
}
#undef MCUNAS_REUSE_HASH_LOOP
#undef MCUNAS_REUSE_Z7
#undef MCUNAS_REUSE_Z6
#undef MCUNAS_REUSE_Z5
#undef MCUNAS_REUSE_Z4
#undef MCUNAS_REUSE_Z3
#undef MCUNAS_REUSE_Z2
#undef MCUNAS_REUSE_Z1
#undef MCUNAS_REUSE_STEPS8
#undef MCUNAS_REUSE_STEPS7
#undef MCUNAS_REUSE_STEPS6
#undef MCUNAS_REUSE_STEPS5
#undef MCUNAS_REUSE_STEPS4
#undef MCUNAS_REUSE_STEPS3
#undef MCUNAS_REUSE_STEPS2
#undef MCUNAS_REUSE_STEPS1
#undef MCUNAS_REUSE_NEXT1
#undef MCUNAS_REUSE_NEXT2
#undef MCUNAS_REUSE_FIRST1
#undef MCUNAS_REUSE_FIRST2

/* The assembly below that moves four int32 values with one LDM or STM names its registers: a register list is fixed
 * in the instruction, and the lowest register takes the lowest address. r4-r6 and r8-r12 are listed as clobbered
 * (r7 may be the frame pointer), so the compiler keeps nothing of its own in them across the loop. */

/* A cluster's sums from its first member (set) or with one more (add): n values of v (4-byte aligned) into sum
 * (4-byte aligned). As assembly, four values in 8 (set) or 9 (add) instructions: LDRD of the values, an LDM and an
 * STM of the sums, SXTAH or SXTH for the low halves, ADD or ASR with the shift for the high ones, and the loop. */
static inline void mcunas_reuse_sums_set(int32_t *sum, const int16_t *v, int32_t n) {
  int32_t groups = n >> 2;
#ifdef MCUNAS_REUSE_ASM
  if (groups) {
    uint32_t x0, x1;
    __asm volatile("1:\n\t"
                   "ldrd %[x0], %[x1], [%[v]], #8\n\t"
                   "sxth r4, %[x0]\n\t"
                   "asr r5, %[x0], #16\n\t"
                   "sxth r6, %[x1]\n\t"
                   "asr r8, %[x1], #16\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "stmia %[s]!, {r4, r5, r6, r8}\n\t"
                   "bne 1b"
                   : [v] "+r"(v), [s] "+r"(sum), [g] "+r"(groups), [x0] "=&r"(x0), [x1] "=&r"(x1)
                   :
                   : "r4", "r5", "r6", "r8", "cc", "memory");
  }
#else
  for (; groups > 0; --groups, v += 4, sum += 4) {
    sum[0] = v[0];
    sum[1] = v[1];
    sum[2] = v[2];
    sum[3] = v[3];
  }
#endif
  for (n &= 3; n > 0; --n) *sum++ = *v++;
}
static inline void mcunas_reuse_sums_add(int32_t *sum, const int16_t *v, int32_t n) {
  int32_t groups = n >> 2;
#ifdef MCUNAS_REUSE_ASM
  if (groups) {
    uint32_t x0, x1;
    __asm volatile("1:\n\t"
                   "ldrd %[x0], %[x1], [%[v]], #8\n\t"
                   "ldmia %[s], {r4, r5, r6, r8}\n\t"
                   "sxtah r4, r4, %[x0]\n\t"
                   "add r5, r5, %[x0], asr #16\n\t"
                   "sxtah r6, r6, %[x1]\n\t"
                   "add r8, r8, %[x1], asr #16\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "stmia %[s]!, {r4, r5, r6, r8}\n\t"
                   "bne 1b"
                   : [v] "+r"(v), [s] "+r"(sum), [g] "+r"(groups), [x0] "=&r"(x0), [x1] "=&r"(x1)
                   :
                   : "r4", "r5", "r6", "r8", "cc", "memory");
  }
#else
  for (; groups > 0; --groups, v += 4, sum += 4) {
    sum[0] += v[0];
    sum[1] += v[1];
    sum[2] += v[2];
    sum[3] += v[3];
  }
#endif
  for (n &= 3; n > 0; --n) *sum++ += *v++;
}

/* dst = x + y over n int32 values (all 4-byte aligned; dst may be x): a table row into a pixel's accumulators. As
 * assembly, four values in 9 instructions (two LDM, four ADD, an STM, the loop). */
static inline void mcunas_reuse_add_rows(int32_t *dst, const int32_t *x, const int32_t *y, int32_t n) {
  int32_t groups = n >> 2;
#ifdef MCUNAS_REUSE_ASM
  if (groups)
    __asm volatile("1:\n\t"
                   "ldmia %[x]!, {r4, r5, r6, r8}\n\t"
                   "ldmia %[y]!, {r9, r10, r11, r12}\n\t"
                   "add r4, r4, r9\n\t"
                   "add r5, r5, r10\n\t"
                   "add r6, r6, r11\n\t"
                   "add r8, r8, r12\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "stmia %[d]!, {r4, r5, r6, r8}\n\t"
                   "bne 1b"
                   : [d] "+r"(dst), [x] "+r"(x), [y] "+r"(y), [g] "+r"(groups)
                   :
                   : "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
#else
  for (; groups > 0; --groups, dst += 4, x += 4, y += 4) {
    const int32_t s0 = x[0] + y[0], s1 = x[1] + y[1], s2 = x[2] + y[2], s3 = x[3] + y[3];
    dst[0] = s0;
    dst[1] = s1;
    dst[2] = s2;
    dst[3] = s3;
  }
#endif
  for (n &= 3; n > 0; --n) *dst++ = *x++ + *y++;
}

/* n int32 values from src to dst (both 4-byte aligned), four in 4 instructions as assembly: a loop of our own, where
 * GCC would call memcpy (a byte at a time in newlib-nano). */
static inline void mcunas_reuse_copy_row(int32_t *dst, const int32_t *src, int32_t n) {
  int32_t groups = n >> 2;
#ifdef MCUNAS_REUSE_ASM
  if (groups)
    __asm volatile("1:\n\t"
                   "ldmia %[s]!, {r4, r5, r6, r8}\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "stmia %[d]!, {r4, r5, r6, r8}\n\t"
                   "bne 1b"
                   : [d] "+r"(dst), [s] "+r"(src), [g] "+r"(groups)
                   :
                   : "r4", "r5", "r6", "r8", "cc", "memory");
#else
  for (; groups > 0; --groups, dst += 4, src += 4) {
    const int32_t s0 = src[0], s1 = src[1], s2 = src[2], s3 = src[3];
    dst[0] = s0;
    dst[1] = s1;
    dst[2] = s2;
    dst[3] = s3;
  }
#endif
  for (n &= 3; n > 0; --n) *dst++ = *src++;
}

/* 4 * groups int16 zeros from dst on (4-byte aligned), one STRD of a zero pair each: assembly for the same reason as
 * the copy (GCC would call memset). */
static inline void mcunas_reuse_zero(int16_t *dst, int32_t groups) {
#ifdef MCUNAS_REUSE_ASM
  const uint32_t zero = 0;
  if (groups > 0)
    __asm volatile("1:\n\t"
                   "strd %[z], %[z], [%[d]], #8\n\t"
                   "subs %[g], %[g], #1\n\t"
                   "bne 1b"
                   : [d] "+r"(dst), [g] "+r"(groups)
                   : [z] "r"(zero)
                   : "cc", "memory");
#else
  for (int32_t i = 0; i < 4 * groups; ++i) dst[i] = 0;
#endif
}

/* Every cluster's centroid, over the sums (cluster i's L values at sums + i * L): cluster i's at int16 offset
 * i * R, R = len rounded up to a multiple of 4, each group of four values as the words (c0, c2), (c1, c3) that
 * SXTB16 splits a weight word into; a last group of fewer values padded (its weights will be zero there). Cluster i
 * only ever writes bytes already read (R <= 2L for L >= 2: its R int16 fit in the bytes of L int32), and memcpy keeps
 * each store after the reads it overwrites, whatever the types. */
static void mcunas_reuse_centroids(int32_t *sums, int32_t stride, const int32_t *counts, const uint8_t *used,
                                   int32_t m, int32_t len) {
  int16_t *c = (int16_t *)sums;
  const int32_t groups = len >> 2, tail = len & 3, rounded = (len + 3) & ~3;
  for (int32_t i = 0; i < m; ++i, c += rounded) {
    const int32_t *s = sums + (ptrdiff_t)i * stride, count = counts[used[i]];
    int16_t *ci = c;
    for (int32_t g = 0; g < groups; ++g, s += 4, ci += 4) {
      uint32_t w[2];
      if (count == 1) { /* the member itself: no division */
        w[0] = mcunas_reuse_pack(s[0], s[2]);
        w[1] = mcunas_reuse_pack(s[1], s[3]);
      } else {
        w[0] = mcunas_reuse_pack(mcunas_reuse_mean(s[0], count), mcunas_reuse_mean(s[2], count));
        w[1] = mcunas_reuse_pack(mcunas_reuse_mean(s[1], count), mcunas_reuse_mean(s[3], count));
      }
      memcpy(ci, w, sizeof w);
    }
    if (tail) {
      const int32_t v0 = mcunas_reuse_mean(s[0], count), v1 = tail > 1 ? mcunas_reuse_mean(s[1], count) : 0;
      const int32_t v2 = tail > 2 ? mcunas_reuse_mean(s[2], count) : 0;
      uint32_t w[2];
      w[0] = mcunas_reuse_pack(v0, v2);
      w[1] = mcunas_reuse_pack(v1, 0);
      memcpy(ci, w, sizeof w);
    }
  }
}

/* The weight word of a block's last group of `tail` values, zero beyond them (read byte by byte: the row may end
 * there). */
static inline uint32_t mcunas_reuse_tail_word(const int8_t *w, int32_t tail) {
  uint32_t k = (uint8_t)w[0];
  if (tail > 1) k |= (uint32_t)(uint8_t)w[1] << 8;
  if (tail > 2) k |= (uint32_t)(uint8_t)w[2] << 16;
  return k;
}

/* One group of four values of m clusters' centroids (c, `c_step` bytes apart) against the weight words k0 and k1 of
 * output channels o and o + 1: their table values t[0] and t[1] (rows `t_step` bytes apart) set (`first`) or added
 * to. The weights stay in registers, split once, while the clusters stream past: 10 or 11 instructions per cluster
 * (one LDRD of the centroid, four SMLAD, an STRD of the two values, an LDRD of them unless first, and the loop). */
#define MCUNAS_REUSE_PRODUCTS_STEP(load, mul0, mul1)       \
  "1:\n\t"                                                 \
  "ldrd %[x0], %[x1], [%[c]]\n\t" load                     \
  "add %[c], %[c], %[cs]\n\t"                              \
  mul0 "smlad %[a0], %[k0o], %[x1], %[a0]\n\t"             \
  mul1 "smlad %[a1], %[k1o], %[x1], %[a1]\n\t"             \
  "strd %[a0], %[a1], [%[t]]\n\t"                          \
  "add %[t], %[t], %[ts]\n\t"                              \
  "subs %[n], %[n], #1\n\t"                                \
  "bne 1b"
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mcunas_reuse_products_2(const int16_t *c, ptrdiff_t c_step, int32_t *t, ptrdiff_t t_step, int32_t m,
                                    uint32_t k0, uint32_t k1, int first) {
  const int16x2_t k0e = __sxtb16((int8x4_t)k0), k0o = mcunas_sxtb16_ror8(k0);
  const int16x2_t k1e = __sxtb16((int8x4_t)k1), k1o = mcunas_sxtb16_ror8(k1);
#ifdef MCUNAS_REUSE_ASM
  uint32_t x0, x1;
  int32_t a0, a1;
  if (first)
    __asm volatile(MCUNAS_REUSE_PRODUCTS_STEP("", "smuad %[a0], %[k0e], %[x0]\n\t", "smuad %[a1], %[k1e], %[x0]\n\t")
                   : [c] "+r"(c), [t] "+r"(t), [n] "+r"(m), [x0] "=&r"(x0), [x1] "=&r"(x1), [a0] "=&r"(a0),
                     [a1] "=&r"(a1)
                   : [cs] "r"(c_step), [ts] "r"(t_step), [k0e] "r"(k0e), [k0o] "r"(k0o), [k1e] "r"(k1e),
                     [k1o] "r"(k1o)
                   : "cc", "memory");
  else
    __asm volatile(MCUNAS_REUSE_PRODUCTS_STEP("ldrd %[a0], %[a1], [%[t]]\n\t",
                                              "smlad %[a0], %[k0e], %[x0], %[a0]\n\t",
                                              "smlad %[a1], %[k1e], %[x0], %[a1]\n\t")
                   : [c] "+r"(c), [t] "+r"(t), [n] "+r"(m), [x0] "=&r"(x0), [x1] "=&r"(x1), [a0] "=&r"(a0),
                     [a1] "=&r"(a1)
                   : [cs] "r"(c_step), [ts] "r"(t_step), [k0e] "r"(k0e), [k0o] "r"(k0o), [k1e] "r"(k1e),
                     [k1o] "r"(k1o)
                   : "cc", "memory");
#else
  for (int32_t i = 0; i < m; ++i) {
    int32_t *ti = (int32_t *)((char *)t + i * t_step);
    int16x2_t x[2];
    memcpy(x, (const char *)c + i * c_step, sizeof x);
    ti[0] = __smlad(k0e, x[0], __smlad(k0o, x[1], first ? 0 : ti[0]));
    ti[1] = __smlad(k1e, x[0], __smlad(k1o, x[1], first ? 0 : ti[1]));
  }
#endif
}
#undef MCUNAS_REUSE_PRODUCTS_STEP

/* The same for a last, odd output channel: t[0] only. */
static inline void mcunas_reuse_products_1(const int16_t *c, ptrdiff_t c_step, int32_t *t, ptrdiff_t t_step,
                                           int32_t m, uint32_t k0, int first) {
  const int16x2_t k0e = __sxtb16((int8x4_t)k0), k0o = mcunas_sxtb16_ror8(k0);
  for (int32_t i = 0; i < m; ++i) {
    int32_t *ti = (int32_t *)((char *)t + i * t_step);
    int16x2_t x[2];
    memcpy(x, (const char *)c + i * c_step, sizeof x);
    ti[0] = __smlad(k0e, x[0], __smlad(k0o, x[1], first ? 0 : ti[0]));
  }
}

#undef MCUNAS_REUSE_ASM
#endif /* MCUNAS_DSP_PATH */

#endif /* MCUNAS_REUSE_DSP_H */
