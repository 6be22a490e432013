/* 2-D convolution with transient redundancy elimination (TREC): the im2col sub-vectors of a layer are hashed by sign
 * projections, each cluster of equal codes is replaced by its rounded centroid, and the weights multiply one
 * centroid per cluster (mcunas_kernels.h defines the arithmetic). The same passes on the host and on every Cortex-M;
 * on a DSP core (Cortex-M4/M7) their inner loops are reuse_dsp.h's. No im2col matrix is built: the layer goes one
 * block (sub-vector position) at a time, in three passes:
 *   1. every pixel's sub-vector gathered once, as int16 (a run per window row), hashed, and added into its cluster's
 *      sums; clusters are numbered as they appear, and each pixel's number kept;
 *   2. each cluster's centroid written over its sums (no longer needed) and multiplied by the weights into its row
 *      of the table; only the clusters formed are visited;
 *   3. each pixel's table row added into its accumulators (after the bias, for the first block), except the last
 *      block's, which goes straight into the requantisation of the outputs.
 * The only division is the centroid's, for clusters of more than one member. Any order of these exact integer sums
 * gives the same bits. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcunas_kernels.h"
#include "requantize.h"
#include "reuse_dsp.h"
#include "window.h"

/* The layer as the gathers read it. Positions along a window row are kept as one index p = kx * in_c + c (a window
 * row is k_w * in_c values, contiguous in NHWC), so walking a row needs no division. */
typedef struct {
  const int8_t *image;
  ptrdiff_t in_row; /* values per input row: in_w * in_c */
  int32_t in_h, in_w, in_c, k_h, k_w, row_len; /* row_len = k_w * in_c */
  int32_t input_offset;
#ifdef MCUNAS_DSP_PATH
  int16x2_t offset2; /* input_offset in both halves */
#endif
} reuse_shape;

/* Where one output pixel's window lies: its origin (iy0, ix0), possibly on the padding, the kernel rows ky_lo ..
 * ky_hi - 1 inside the input, and the positions lo .. hi - 1 of a window row inside it (either range may be empty
 * or reversed: every test below is a clamp). */
typedef struct {
  int32_t iy0, ix0, ky_lo, ky_hi, lo, hi;
} reuse_window;

static inline void widen(int16_t *dst, const int8_t *src, int32_t n, const reuse_shape *s) {
#ifdef MCUNAS_DSP_PATH
  mcunas_reuse_widen(dst, src, n, s->offset2, s->input_offset);
#else
  for (int32_t i = 0; i < n; ++i) dst[i] = (int16_t)(src[i] + s->input_offset);
#endif
}

/* The len values of a sub-vector from (kernel row ky, position p) on, of a window wholly inside the input: `row` is
 * its kernel row ky in the input. One run per window row. */
static void gather_inside(int16_t *dst, const int8_t *row, int32_t p, int32_t len, const reuse_shape *s) {
  for (;;) {
    int32_t run = s->row_len - p;
    if (run > len) run = len;
    widen(dst, row + p, run, s);
    len -= run;
    if (len == 0) return;
    dst += run;
    row += s->in_row;
    p = 0;
  }
}

/* The same for a window on the padding: the sub-vector zeroed, then each window row's taps inside the input copied
 * (their address alone is formed). Returns 0 when none is: the sub-vector is all padding. */
static int gather_border(int16_t *dst, int32_t ky, int32_t p, int32_t len, const reuse_window *w,
                         const reuse_shape *s) {
  int taps = 0;
#ifdef MCUNAS_DSP_PATH
  mcunas_reuse_zero(dst, (len + 3) >> 2);
#else
  for (int32_t i = 0; i < len; ++i) dst[i] = 0;
#endif
  while (len > 0) {
    int32_t run = s->row_len - p;
    if (run > len) run = len;
    if (ky >= w->ky_lo && ky < w->ky_hi) {
      const int32_t a = p > w->lo ? p : w->lo, end = p + run, b = end < w->hi ? end : w->hi;
      if (b > a) {
        widen(dst + (a - p), s->image + (ptrdiff_t)(w->iy0 + ky) * s->in_row + (ptrdiff_t)w->ix0 * s->in_c + a,
              b - a, s);
        taps = 1;
      }
    }
    dst += run;
    len -= run;
    p = 0;
    ++ky;
  }
  return taps;
}

#ifndef MCUNAS_DSP_PATH
/* The code of one sub-vector: bit h set when its projection on column h of `projections` is positive. */
static uint32_t hash_code(const int16_t *v, int32_t len, const int8_t *projections, int32_t bits) {
  uint32_t code = 0;
  for (int32_t h = 0; h < bits; ++h) {
    const int8_t *column = projections + h;
    int32_t z = 0;
    for (int32_t i = 0; i < len; ++i, column += bits) z += v[i] * *column;
    code |= (uint32_t)(z > 0) << h;
  }
  return code;
}
#endif

/* A block's start in window coordinates (kernel row, position along the row) moved on by `by` values: a loop rather
 * than a division, since a step rarely crosses more than one row. */
static void advance(int32_t *ky, int32_t *p, int32_t by, int32_t row_len) {
  *p += by;
  while (*p >= row_len) {
    *p -= row_len;
    ++*ky;
  }
}

#if defined(__GNUC__)
#define REUSE_NOINLINE __attribute__((noinline))
#else
#define REUSE_NOINLINE
#endif

/* Everything a block's passes read, set up once per call (the image once per image). */
typedef struct {
  reuse_shape s;
  int32_t stride_h, stride_w, pad_h, pad_w, out_h, out_w, out_c, sub_len, bits;
  int32_t inside_lo, inside_cols; /* the output columns whose windows lie inside the input's columns */
  int32_t *acc, *counts, *sums, *table;
  const int8_t *projections;
  const uint32_t *pair_table; /* the DSP path's projections (reuse_dsp.h) */
  int16_t *vector;
  uint8_t *used, *slots, *codes; /* cluster i's code; code c's cluster; each pixel's cluster */
} reuse_layer;

/* Step 1 for a block of len values from (kernel row block_ky, position block_p): every pixel's sub-vector gathered,
 * hashed and added into its cluster's sums. Clusters are numbered as they appear (at most 2^H <= 256): cluster i's
 * sums at sums + i * L, its code in used[i], its members in counts[code]; a pixel's cluster number is kept in
 * `codes`. Returns the number of clusters. Not inlined: the pixel loop gets the registers to itself. */
static REUSE_NOINLINE int32_t block_members(const reuse_layer *r, int32_t len, int32_t block_ky, int32_t block_p) {
  const reuse_shape *const s = &r->s;
  const int32_t out_w = r->out_w, sub_len = r->sub_len, inside_lo = r->inside_lo;
  const ptrdiff_t step = (ptrdiff_t)r->stride_w * s->in_c; /* between neighbouring windows' first columns */
  int32_t *const counts = r->counts, *const sums = r->sums;
  int16_t *const vector = r->vector;
  uint8_t *const used = r->used, *const slots = r->slots;
  uint8_t *codes = r->codes;
#ifdef MCUNAS_DSP_PATH
  const int32_t pairs = (len + 1) >> 1, bits = r->bits;
  const uint32_t *const pair_table = r->pair_table;
#endif
  int32_t m = 0;
  for (int32_t oy = 0; oy < r->out_h; ++oy) {
    reuse_window w;
    w.iy0 = oy * r->stride_h - r->pad_h;
    w.ky_lo = w.iy0 < 0 ? -w.iy0 : 0;
    w.ky_hi = w.iy0 + s->k_h > s->in_h ? s->in_h - w.iy0 : s->k_h;
    /* Windows wholly inside the input: output columns inside_lo .. inside_lo + inside - 1 of a row whose kernel
     * rows all are; `row` is then the input row of the block's first kernel row (only formed for them). */
    const uint32_t inside = w.ky_lo == 0 && w.ky_hi == s->k_h ? (uint32_t)r->inside_cols : 0;
    const int8_t *const row = inside ? s->image + (ptrdiff_t)(w.iy0 + block_ky) * s->in_row : 0;
    ptrdiff_t column = -(ptrdiff_t)r->pad_w * s->in_c; /* the window's first value along an input row */
    for (int32_t ox = 0; ox < out_w; ++ox, column += step, ++codes) {
      int taps = 1; /* 0: a sub-vector wholly on the padding, all zeros: code 0 without hashing, nothing to add */
      if ((uint32_t)(ox - inside_lo) < inside) {
        gather_inside(vector, row + column, block_p, len, s);
      } else {
        w.ix0 = ox * r->stride_w - r->pad_w;
        w.lo = (w.ix0 < 0 ? -w.ix0 : 0) * s->in_c;
        w.hi = (w.ix0 + s->k_w > s->in_w ? s->in_w - w.ix0 : s->k_w) * s->in_c;
        taps = gather_border(vector, block_ky, block_p, len, &w, s);
      }
      uint32_t code = 0;
      if (taps)
#ifdef MCUNAS_DSP_PATH
        code = mcunas_reuse_hash(vector, pairs, pair_table, bits);
#else
        code = hash_code(vector, len, r->projections, r->bits);
#endif
      /* A cluster's first member numbers it (slots[code]) and sets its sums, so they need no clearing. */
      const int32_t count = counts[code];
      int32_t i;
      if (count == 0) {
        i = m;
        slots[code] = (uint8_t)i;
        used[m++] = (uint8_t)code;
#ifdef MCUNAS_DSP_PATH
        mcunas_reuse_sums_set(sums + (ptrdiff_t)i * sub_len, vector, len);
      } else {
        i = slots[code];
        if (taps) mcunas_reuse_sums_add(sums + (ptrdiff_t)i * sub_len, vector, len);
#else
        int32_t *sum = sums + (ptrdiff_t)i * sub_len;
        for (int32_t t = 0; t < len; ++t) sum[t] = vector[t];
      } else {
        i = slots[code];
        int32_t *sum = sums + (ptrdiff_t)i * sub_len;
        if (taps)
          for (int32_t t = 0; t < len; ++t) sum[t] += vector[t];
#endif
      }
      counts[code] = count + 1;
      *codes = (uint8_t)i;
    }
  }
  return m;
}

/* A block's table into every pixel's accumulators, by the pixel's code: after the bias (or nothing) for the first
 * block, then added. */
static REUSE_NOINLINE void fold_block(const reuse_layer *r, int first, const int32_t *bias) {
  const int32_t out_c = r->out_c, pixels = r->out_h * r->out_w;
  const int32_t *const table = r->table;
  const uint8_t *const codes = r->codes;
  int32_t *acc = r->acc;
  const int32_t *base = first ? bias : acc;
  for (int32_t n = 0; n < pixels; ++n, acc += out_c) {
    const int32_t *t = table + (ptrdiff_t)codes[n] * out_c;
#ifdef MCUNAS_DSP_PATH
    if (base)
      mcunas_reuse_add_rows(acc, base, t, out_c);
    else
      mcunas_reuse_copy_row(acc, t, out_c);
#else
    for (int32_t o = 0; o < out_c; ++o) acc[o] = (base ? base[o] : 0) + t[o];
#endif
    if (!first) base = acc + out_c;
  }
}

/* Step 2 for one block: the m clusters' centroids and their products with the weights into the table (row i for
 * cluster i), and their counts back to 0 for the next block. `w` is the block's first weight of output channel 0;
 * the rows are k apart. */
static REUSE_NOINLINE void cluster_products(const reuse_layer *r, int32_t m, int32_t len, const int8_t *w,
                                            ptrdiff_t k) {
  const uint8_t *const used = r->used;
  int32_t *const sums = r->sums, *const counts = r->counts, *const table = r->table;
  const int32_t out_c = r->out_c, stride = r->sub_len;
#ifdef MCUNAS_DSP_PATH
  if (stride >= 2) { /* (a sub-vector of 1 value has no room for its padded centroid: the loop below) */
    /* The centroids packed by groups of four (reuse_dsp.h), then for each group and pair of output channels, the
     * two weight words in registers against every cluster. */
    mcunas_reuse_centroids(sums, stride, counts, used, m, len);
    const int16_t *const centroids = (const int16_t *)sums;
    const int32_t rounded = (len + 3) & ~3, tail = len & 3;
    const ptrdiff_t c_step = 2 * (ptrdiff_t)rounded, t_step = 4 * (ptrdiff_t)out_c;
    const int32_t groups = len >> 2;
    for (int32_t g = 0; g <= groups; ++g) {
      /* whole groups, then (when len is not a multiple of 4) one of the tail values, its weights read bytewise */
      if (g == groups && !tail) break;
      const int8_t *const wg = w + 4 * g; /* the group's weights of channel 0 */
      const int16_t *const c = centroids + 4 * g;
      const int first = g == 0;
      int32_t o = 0;
      if (g < groups) {
        for (; o + 2 <= out_c; o += 2) {
          const int8_t *w0 = wg + (ptrdiff_t)o * k;
          mcunas_reuse_products_2(c, c_step, table + o, t_step, m, mcunas_load_word(w0), mcunas_load_word(w0 + k),
                                  first);
        }
        if (o < out_c) mcunas_reuse_products_1(c, c_step, table + o, t_step, m, mcunas_load_word(wg + o * k), first);
      } else {
        for (; o + 2 <= out_c; o += 2) {
          const int8_t *w0 = wg + (ptrdiff_t)o * k;
          mcunas_reuse_products_2(c, c_step, table + o, t_step, m, mcunas_reuse_tail_word(w0, tail),
                                  mcunas_reuse_tail_word(w0 + k, tail), first);
        }
        if (o < out_c)
          mcunas_reuse_products_1(c, c_step, table + o, t_step, m, mcunas_reuse_tail_word(wg + o * k, tail), first);
      }
    }
    for (int32_t i = 0; i < m; ++i) counts[used[i]] = 0;
    return;
  }
#endif
  for (int32_t i = 0; i < m; ++i) {
    const int32_t count = counts[used[i]];
    int32_t *s = sums + (ptrdiff_t)i * stride;
    /* The centroid over the sums, value t at byte 2t: never ahead of the sums still to be read; memcpy keeps the
     * stores after those reads whatever the types. */
    int16_t *c = (int16_t *)s;
    for (int32_t t = 0; t < len; ++t) {
      const int16_t v = (int16_t)mcunas_reuse_mean(s[t], count);
      memcpy(c + t, &v, sizeof v);
    }
    int32_t *ti = table + (ptrdiff_t)i * out_c;
    for (int32_t o = 0; o < out_c; ++o) {
      const int8_t *wt = w + (ptrdiff_t)o * k;
      int32_t dot = 0;
      for (int32_t t = 0; t < len; ++t) dot += c[t] * wt[t];
      ti[o] = dot;
    }
  }
  for (int32_t i = 0; i < m; ++i) counts[used[i]] = 0;
}

/* Step 3 for one pixel: its outputs from base[o] (its accumulators, the bias for a single block, or nothing) and the
 * last block's table row, requantised: `mode` 0 by the exact requantisation; on the DSP path 1 by the fast one
 * (every channel fits it: requantize.h) and 2 by the fast one on the whole int8 range. Inlined with constant
 * arguments, so each case is a loop of its own. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void output_pixel(int8_t *out, const int32_t *base, const int32_t *t, int32_t out_c, int mode,
                                const int32_t *multiplier, const int32_t *shift, int32_t output_offset,
                                int32_t act_min, int32_t act_max) {
  for (int32_t o = 0; o < out_c; ++o) {
    const int32_t sum = (base ? base[o] : 0) + t[o];
#ifdef MCUNAS_DSP_PATH
    if (mode) {
      const int32_t right = -shift[o], round = mcunas_requantize_round(right);
      out[o] = mode == 2 ? mcunas_requantize_doubled_full_s8(sum * 2, multiplier[o], right, round, output_offset)
                         : mcunas_requantize_doubled_to_s8(sum * 2, multiplier[o], right, round, output_offset,
                                                           act_min, act_max);
      continue;
    }
#else
    (void)mode;
#endif
    out[o] = mcunas_requantize_to_s8(sum, multiplier[o], shift[o], output_offset, act_min, act_max);
  }
}

/* Step 3 for one image. */
static REUSE_NOINLINE void outputs(const reuse_layer *r, const int32_t *base, const mcunas_conv_params *p,
                                   const mcunas_channel_quant *q, int mode, int8_t *out) {
  const int32_t output_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int32_t *const multiplier = q->multiplier, *const shift = q->shift;
  const int32_t out_c = r->out_c, pixels = r->out_h * r->out_w;
  const int32_t *const table = r->table;
  const uint8_t *const codes = r->codes;
  const int per_pixel = base == r->acc; /* the accumulators: a row per pixel; the bias or nothing: the same */
  for (int32_t n = 0; n < pixels; ++n, out += out_c) {
    const int32_t *t = table + (ptrdiff_t)codes[n] * out_c;
    const int32_t *row = per_pixel ? base + (ptrdiff_t)n * out_c : base;
    if (mode == 2)
      output_pixel(out, row, t, out_c, 2, multiplier, shift, output_offset, act_min, act_max);
    else if (mode == 1)
      output_pixel(out, row, t, out_c, 1, multiplier, shift, output_offset, act_min, act_max);
    else if (row)
      output_pixel(out, row, t, out_c, 0, multiplier, shift, output_offset, act_min, act_max);
    else
      output_pixel(out, 0, t, out_c, 0, multiplier, shift, output_offset, act_min, act_max);
  }
}

int32_t mcunas_reuse_conv_s8(const mcunas_conv_params *params, const mcunas_reuse_params *reuse,
                             const mcunas_channel_quant *quant, const mcunas_dims *input_dims, const int8_t *input,
                             const mcunas_dims *filter_dims, const int8_t *weights, const int32_t *bias,
                             const mcunas_dims *output_dims, int8_t *output, void *scratch) {
  if (!scratch) return -1;
  reuse_layer r;
  reuse_shape *const s = &r.s;
  s->in_h = input_dims->h;
  s->in_w = input_dims->w;
  s->in_c = input_dims->c;
  s->k_h = filter_dims->h;
  s->k_w = filter_dims->w;
  s->row_len = s->k_w * s->in_c;
  s->input_offset = params->input_offset;
  s->in_row = (ptrdiff_t)s->in_w * s->in_c;
#ifdef MCUNAS_DSP_PATH
  s->offset2 = (int16x2_t)(((uint32_t)s->input_offset & 0xFFFFu) | ((uint32_t)s->input_offset << 16));
#endif
  r.stride_h = params->stride_h;
  r.stride_w = params->stride_w;
  r.pad_h = params->pad_h;
  r.pad_w = params->pad_w;
  r.out_h = output_dims->h;
  r.out_w = output_dims->w;
  r.out_c = output_dims->c;
  r.sub_len = reuse->sub_len;
  r.bits = reuse->hash_bits;
  r.projections = reuse->projections;
  const int32_t pixels = r.out_h * r.out_w, out_c = r.out_c, k = s->k_h * s->row_len;
  const int32_t sub_len = r.sub_len, codes_count = 1 << r.bits;
  const int32_t blocks = (k + sub_len - 1) / sub_len, rounded = (sub_len + 3) & ~3;

  /* The scratch in the order of mcunas_reuse_conv_s8_scratch_bytes: the word arrays first, word-aligned, then the
   * sub-vector (a multiple of 8 bytes) and the bytes. */
  r.acc = (int32_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
  r.counts = r.acc + (ptrdiff_t)pixels * out_c;
  r.sums = r.counts + codes_count;
  r.table = r.sums + (ptrdiff_t)codes_count * sub_len;
  uint32_t *pair_table = (uint32_t *)(r.table + (ptrdiff_t)codes_count * out_c);
  r.pair_table = pair_table;
  r.vector = (int16_t *)(pair_table + (ptrdiff_t)r.bits * (rounded / 2));
  r.used = (uint8_t *)(r.vector + rounded);
  r.slots = r.used + codes_count;
  r.codes = r.slots + codes_count;

  int mode = 0;
  /* Output columns whose windows lie inside the input's columns: ox from ceil(pad_w / stride_w) while
   * ox * stride_w - pad_w + k_w <= in_w. */
  r.inside_lo = (r.pad_w + r.stride_w - 1) / r.stride_w;
  r.inside_cols = s->in_w + r.pad_w >= s->k_w ? (s->in_w + r.pad_w - s->k_w) / r.stride_w + 1 - r.inside_lo : 0;
  if (r.inside_cols > r.out_w - r.inside_lo) r.inside_cols = r.out_w - r.inside_lo;
  if (r.inside_cols < 0) r.inside_cols = 0;
#ifdef MCUNAS_DSP_PATH
  /* Blocks are at most min(L, K) long: the table covers that many values, in pairs. */
  const int32_t longest = sub_len < k ? sub_len : k;
  mcunas_reuse_pair_table(pair_table, reuse->projections, longest, r.bits, (longest + 1) / 2);
  if (mcunas_requantize_doubled_fits_all(bias, quant->shift, out_c, k))
    mode = params->act_min == -128 && params->act_max == 127 ? 2 : 1;
#endif
  /* The counts start at 0, and each block's clusters put theirs back. */
#ifdef MCUNAS_DSP_PATH
  mcunas_reuse_zero((int16_t *)r.counts, codes_count / 2); /* 2^H int32: 2^H / 2 groups of four int16 */
#else
  for (int32_t c = 0; c < codes_count; ++c) r.counts[c] = 0;
#endif

  int32_t clusters = 0;
  for (int32_t b = 0; b < input_dims->n; ++b) {
    s->image = input + (ptrdiff_t)b * s->in_h * s->in_row;
    int32_t block_ky = 0, block_p = 0;
    for (int32_t j = 0, start = 0; j < blocks; ++j, start += sub_len) {
      const int32_t len = k - start < sub_len ? k - start : sub_len;
      /* The DSP hash reads whole pairs, and the border gather zeroes whole groups of four: the values after the
       * block's last up to a multiple of 4 stay zero for every pixel. */
      for (int32_t i = len; i < ((len + 3) & ~3); ++i) r.vector[i] = 0;
      const int32_t m = block_members(&r, len, block_ky, block_p);
      clusters += m;
      cluster_products(&r, m, len, weights + start, k);
      if (j + 1 < blocks) fold_block(&r, j == 0, bias); /* the last block's table goes straight to the outputs */
      advance(&block_ky, &block_p, len, s->row_len);
    }
    outputs(&r, blocks > 1 ? r.acc : bias, params, quant, mode, output + (ptrdiff_t)b * pixels * out_c);
  }
  return clusters;
}

int32_t mcunas_reuse_conv_s8_scratch_bytes(const mcunas_reuse_params *reuse, const mcunas_dims *input_dims,
                                           const mcunas_dims *filter_dims, const mcunas_dims *output_dims) {
  const int32_t pixels = output_dims->h * output_dims->w, out_c = output_dims->c;
  const int32_t sub_len = reuse->sub_len, bits = reuse->hash_bits, codes_count = 1 << bits;
  const int32_t rounded = (sub_len + 3) & ~3;
  (void)input_dims;
  (void)filter_dims;
  return 3 + 4 * pixels * out_c + 4 * codes_count + 4 * codes_count * sub_len + 4 * codes_count * out_c +
         2 * bits * rounded + 2 * rounded + 2 * codes_count + pixels;
}
