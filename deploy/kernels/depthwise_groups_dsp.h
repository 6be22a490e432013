/* The depthwise convolution's path for maps of at most 16 columns (Cortex-M4/M7, MCUNAS_DSP_PATH): four channels at
 * a time instead of one plane per channel. Internal to depthwise_conv_s8.c (not part of the interface).
 *
 * Why: a plane (plane_dsp.h) makes two MACs per LDR + SMLAD, but pays per channel and per output row (the gather's
 * row set-up, the weight pairs, a pass of sums and one of stores); on MLPerf Tiny's narrow maps (DS-CNN's 25x5,
 * MobileNet's 6x6) that set-up was most of the work (5.2-7.5 instructions per MAC). Here four channels share one
 * padded int16 "group plane" (each position the pairs (c0, c2), (c1, c3) that SXTAB16 splits a word of four channels
 * into, the input offset added) and each output position sums all four with one LDRD of the inputs, one of the
 * weights and four SMLAxy per tap: 1.5 instructions per MAC with no per-row or per-channel set-up inside the map,
 * and the four outputs leave together (CMSIS-NN's arm_depthwise_conv_s8_opt also works on channels side by side in
 * NHWC).
 *
 * A group's four channels are copied whole before any of their outputs is written, so the layer may still run in
 * place (mcunas_depthwise_conv_s8_in_place); a last group of c mod 4 channels has zero weights for the missing
 * ones. Integer sums in another order: the portable path's bits, which QEMU checks (tests/integration). */
#ifndef MCUNAS_DEPTHWISE_GROUPS_DSP_H
#define MCUNAS_DEPTHWISE_GROUPS_DSP_H

#include "plane_dsp.h"

/* Input widths up to which a depthwise layer of at least four channels takes the groups: on 16 columns they beat
 * the planes (3x3: 2.90 against 3.52 instructions per MAC, 5x5 at stride 2: 2.40 against 2.83, 5x5 at stride 1:
 * 2.03 against 2.01; bench/kernels_m4), and the group plane (four channels) is still small, 8 bytes a position;
 * wider maps keep the planes, a quarter of the scratch, whose longer rows need less set-up. */
#define MCUNAS_DEPTHWISE_GROUPS_MAX_W 16
#define MCUNAS_DEPTHWISE_GROUPS_MAX_TAPS 25

/* Whether the layer's scratch is sized for a group plane: the rule without the output's shape (the scratch size
 * is asked without it): 4 channels or more, at most 16 columns, a 3x3 or 5x5 kernel (the ones with loops in
 * assembly here); mcunas_depthwise_groups_fit adds the plane's own geometry. */
static inline int mcunas_depthwise_groups_sized(const mcunas_dims *in_dims, const mcunas_dims *f_dims) {
  return in_dims->c >= 4 && in_dims->w <= MCUNAS_DEPTHWISE_GROUPS_MAX_W && f_dims->h == f_dims->w &&
         (f_dims->h == 3 || f_dims->h == 5);
}
/* Whether the DSP path runs the layer in groups: sized for it and within the planes' padding (the group plane has a
 * single plane's rows and pitch). */
static inline int mcunas_depthwise_groups_fit(const mcunas_conv_params *p, const mcunas_dims *in_dims,
                                              const mcunas_dims *f_dims, const mcunas_dims *out_dims) {
  return mcunas_depthwise_groups_sized(in_dims, f_dims) && mcunas_plane_fits(p, in_dims, f_dims, out_dims, 1);
}
/* The group plane's bytes: four int16 values per position, and 4 bytes to align it to a word (what LDRD needs on
 * ARMv7-M) wherever the scratch lies. */
static inline int32_t mcunas_depthwise_groups_scratch_bytes(const mcunas_conv_params *p, const mcunas_dims *in_dims) {
  return 8 * mcunas_plane_rows(in_dims->h, p->pad_h) * mcunas_plane_pitch(in_dims->w, p->pad_w) + 4;
}

#ifdef MCUNAS_DSP_PATH

/* Channels ch..ch+3 into the group plane's interior (position (y, x) at word 2 * (y * pitch + x)); the padding is
 * zeroed once per call. Two positions per pass in assembly, each one LDR, two SXTAB16 and one STRD: 6 instructions
 * a position with the loop's (9 as GCC wrote the C loop). */
static void mcunas_group_gather(uint32_t *plane, int32_t pitch, const int8_t *in_batch, int32_t in_h, int32_t in_w,
                                int32_t c, int32_t ch, int32_t pad_h, int32_t pad_w, int16x2_t offset2) {
  const int8_t *src = in_batch + ch;
  uint32_t *d = plane + 2 * ((ptrdiff_t)pad_h * pitch + pad_w);
  const ptrdiff_t next_row = 2 * ((ptrdiff_t)pitch - in_w);
  for (int32_t iy = 0; iy < in_h; ++iy, d += next_row) {
    int32_t n = in_w;
    uint32_t v0, v1, e;
    if (n >= 2)
      __asm volatile("1:\n\t"
                     "ldr %[v0], [%[s]]\n\t"
                     "add %[s], %[s], %[c]\n\t"
                     "ldr %[v1], [%[s]]\n\t"
                     "add %[s], %[s], %[c]\n\t"
                     "sxtab16 %[e], %[off], %[v0]\n\t"
                     "sxtab16 %[v0], %[off], %[v0], ror #8\n\t"
                     "strd %[e], %[v0], [%[d]], #8\n\t"
                     "sxtab16 %[e], %[off], %[v1]\n\t"
                     "sxtab16 %[v1], %[off], %[v1], ror #8\n\t"
                     "strd %[e], %[v1], [%[d]], #8\n\t"
                     "subs %[n], %[n], #2\n\t"
                     "cmp %[n], #1\n\t"
                     "bgt 1b"
                     : [s] "+r"(src), [d] "+r"(d), [n] "+r"(n), [v0] "=&r"(v0), [v1] "=&r"(v1), [e] "=&r"(e)
                     : [c] "r"(c), [off] "r"(offset2)
                     : "cc", "memory");
    if (n == 1) { /* an odd width's last position */
      const uint32_t v = mcunas_load_word(src);
      d[0] = (uint32_t)__sxtab16(offset2, v);
      d[1] = (uint32_t)mcunas_sxtab16_ror8(offset2, v);
      d += 2;
      src += c;
    }
  }
}

/* The same for a layer's last group of n < 4 channels, read byte by byte (a word could run past the tensor's end);
 * a missing channel reads as 0 (its weights are 0 too). */
static void mcunas_group_gather_partial(uint32_t *plane, int32_t pitch, const int8_t *in_batch, int32_t in_h,
                                        int32_t in_w, int32_t c, int32_t ch, int32_t n, int32_t pad_h, int32_t pad_w,
                                        int16x2_t offset2) {
  const int8_t *src = in_batch + ch;
  for (int32_t iy = 0; iy < in_h; ++iy) {
    uint32_t *d = plane + 2 * ((ptrdiff_t)(iy + pad_h) * pitch + pad_w);
    for (int32_t ix = 0; ix < in_w; ++ix, d += 2, src += c) {
      uint32_t v = 0;
      for (int32_t j = 0; j < n; ++j) v |= (uint32_t)(uint8_t)src[j] << (8 * j);
      d[0] = (uint32_t)__sxtab16(offset2, v);
      d[1] = (uint32_t)mcunas_sxtab16_ror8(offset2, v);
      /* a missing channel's value is the offset alone; its weight is 0, so it adds nothing */
    }
  }
}

/* What a group's loops read besides the plane: the weights first (each tap's pairs (c0, c2), (c1, c3), doubled in
 * the fast form), so that the assembly reads them at constant offsets from the same base as the rest. */
typedef struct {
  uint32_t w[2 * MCUNAS_DEPTHWISE_GROUPS_MAX_TAPS];
  int32_t acc0[4];       /* the sums' start: the bias (doubled in the fast form) */
  int32_t channel[4][3]; /* the fast form's multiplier, rounding constant with the output offset, right shift */
  int32_t step, c;       /* bytes from one output position's window to the next's, and between outputs */
} mcunas_group_state;

/* Output positions per row a last group of fewer than four channels takes through the assembly (its row buffer on
 * the stack); wider rows take the C loop. */
#define MCUNAS_GROUP_ROW_MAX 32

/* The largest right shift whose rounding constant may carry the output offset: with r <= 21, |o * 2^r| < 2^29, and
 * (h + n + 2^(r-1) + o * 2^r) >> r = ((h + n + 2^(r-1)) >> r) + o exactly (|h| < 2^30, requantize.h), so the
 * offset costs no instruction of its own. */
#define MCUNAS_GROUP_MAX_RIGHT 21

/* A tap of the four sums in assembly: one LDRD of the inputs (at byte xo of the row pointer r), one of the weights
 * (byte wo of the state), both as the pairs (c0, c2), (c1, c3), and four SMLAxy: 1.5 instructions per MAC. (In C,
 * GCC at -O2 kept the tap loops, loaded the words one by one and spilled accumulators: 4.4-5.5 per MAC on narrow
 * maps.) */
#define MCUNAS_GROUP_TAP(xo, wo)                   \
  "ldrd %[xe], %[xo], [%[r], #" #xo "]\n\t"        \
  "ldrd %[we], %[wo], [%[q], #" #wo "]\n\t"        \
  "smlabb %[a0], %[xe], %[we], %[a0]\n\t"          \
  "smlatt %[a2], %[xe], %[we], %[a2]\n\t"          \
  "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"          \
  "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define MCUNAS_GROUP_NEXT_ROW "add %[r], %[r], %[pitch]\n\t"
/* A row of three and of five taps, its weights from byte wo. */
#define MCUNAS_GROUP_ROW3(wo) MCUNAS_GROUP_TAP(0, (wo)) MCUNAS_GROUP_TAP(8, (wo + 8)) MCUNAS_GROUP_TAP(16, (wo + 16))
#define MCUNAS_GROUP_ROW5(wo) \
  MCUNAS_GROUP_ROW3(wo) MCUNAS_GROUP_TAP(24, (wo + 24)) MCUNAS_GROUP_TAP(32, (wo + 32))

/* The four sums of one output position of a 3x3 or a 5x5 kernel (k), `pitch2` words from one row of the group
 * plane to the next: 3x3 in one block of assembly, 5x5 a row per block. */
static void mcunas_group_sums(const uint32_t *win, ptrdiff_t pitch2, const mcunas_group_state *st, int32_t k,
                              int32_t *s) {
  int32_t a0 = st->acc0[0], a1 = st->acc0[1], a2 = st->acc0[2], a3 = st->acc0[3];
  uint32_t xe, xo, we, wo;
  const uint32_t *r = win, *q = st->w;
  const ptrdiff_t pitch_bytes = 4 * pitch2;
#define MCUNAS_GROUP_SUMS(taps)                                                                                    \
  __asm volatile(taps                                                                                              \
                 : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [r] "+r"(r), [xe] "=&r"(xe),       \
                   [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)                                                \
                 : [q] "r"(q), [pitch] "r"(pitch_bytes)                                                            \
                 : "memory")
  if (k == 3)
    MCUNAS_GROUP_SUMS(MCUNAS_GROUP_ROW3(0) MCUNAS_GROUP_NEXT_ROW MCUNAS_GROUP_ROW3(24) MCUNAS_GROUP_NEXT_ROW
                          MCUNAS_GROUP_ROW3(48));
  else
    for (const uint32_t *const q_end = q + 50; q != q_end; q += 10)
      MCUNAS_GROUP_SUMS(MCUNAS_GROUP_ROW5(0) MCUNAS_GROUP_NEXT_ROW);
#undef MCUNAS_GROUP_SUMS
  s[0] = a0;
  s[1] = a1;
  s[2] = a2;
  s[3] = a3;
}

/* Output positions whose sums are computed before they are requantised: the sums of a chunk go to the stack, then
 * each channel's chunk is requantised with its constants in registers (mcunas_plane_store). */
#define MCUNAS_GROUP_CHUNK 16

/* One group's outputs over the whole map, any requantisation, in raster order (consecutive outputs are c bytes
 * apart across rows too); the first `channels` of the four (fewer in a layer's last group). mode 0: the exact
 * requantisation (a channel the fast one does not fit); 1: the fast one clamped to [-128, 127]; 2: the fast one
 * with the layer's clamp (requantize.h, mcunas_plane_store). */
static void mcunas_group_outputs(const uint32_t *plane, int32_t pitch, const mcunas_group_state *st, int32_t k,
                                 int32_t stride_h, int32_t stride_w, int32_t out_h, int32_t out_w,
                                 int8_t *out, ptrdiff_t c, int32_t channels, int mode, const int32_t *multiplier,
                                 const int32_t *shift, int32_t output_offset, int32_t act_min, int32_t act_max) {
  int32_t sums[4][MCUNAS_GROUP_CHUNK];
  const ptrdiff_t pitch2 = 2 * (ptrdiff_t)pitch, step = 2 * (ptrdiff_t)stride_w;
  const ptrdiff_t next_row = (ptrdiff_t)stride_h * pitch2 - (ptrdiff_t)out_w * step;
  const uint32_t *win = plane;
  int32_t ox = 0;
  for (int32_t left = out_h * out_w; left > 0;) {
    const int32_t n = left < MCUNAS_GROUP_CHUNK ? left : MCUNAS_GROUP_CHUNK;
    for (int32_t i = 0; i < n; ++i) {
      int32_t s[4];
      mcunas_group_sums(win, pitch2, st, k, s);
      for (int32_t j = 0; j < 4; ++j) sums[j][i] = s[j];
      win += step;
      if (++ox == out_w) {
        ox = 0;
        win += next_row;
      }
    }
    for (int32_t j = 0; j < channels; ++j)
      mcunas_plane_store(sums[j], n, out + j, c, mode, multiplier[j], shift[j], output_offset, act_min, act_max);
    out += n * c;
    left -= n;
  }
}

/* The usual case in assembly, an output row at a time: per position the bias, the taps and the four outputs
 * requantised in the fast form clamped to [-128, 127] (mode 1) at 7 instructions each (the output offset inside the
 * rounding constant: MCUNAS_GROUP_MAX_RIGHT), then the next position, all constants read from the state; 14
 * registers. In C, GCC spilled around the sums and reloaded four channels' constants for every output: 121
 * instructions per 3x3 position, against 93 here. */
#if defined(__OPTIMIZE__)
#define MCUNAS_GROUP_REQUANTIZE(a, j)                         \
  "ldrd %[xe], %[xo], [%[q], %[o_m" #j "]]\n\t"               \
  "ldr %[we], [%[q], %[o_r" #j "]]\n\t"                       \
  "smmlar %[wo], %[" a "], %[xe], %[xo]\n\t"                  \
  "add %[wo], %[wo], %[" a "], asr #31\n\t"                   \
  "asr %[wo], %[wo], %[we]\n\t"                               \
  "ssat %[wo], #8, %[wo]\n\t"                                 \
  "strb %[wo], [%[out], #" #j "]\n\t"
#define MCUNAS_GROUP_ROW(taps, rewind)                                                                               \
  __asm volatile("1:\n\t"                                                                                            \
                 "ldrd %[a0], %[a1], [%[q], %[o_acc]]\n\t"                                                           \
                 "ldrd %[a2], %[a3], [%[q], %[o_acc2]]\n\t" taps rewind MCUNAS_GROUP_REQUANTIZE("a0", 0)             \
                     MCUNAS_GROUP_REQUANTIZE("a1", 1) MCUNAS_GROUP_REQUANTIZE("a2", 2)                               \
                         MCUNAS_GROUP_REQUANTIZE("a3", 3) "ldrd %[xe], %[xo], [%[q], %[o_step]]\n\t"                 \
                 "add %[r], %[r], %[xe]\n\t"                                                                         \
                 "add %[out], %[out], %[xo]\n\t"                                                                     \
                 "cmp %[out], %[end]\n\t"                                                                            \
                 "bne 1b"                                                                                            \
                 : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [r] "+r"(r), [out] "+r"(out),  \
                   [xe] "=&r"(xe), [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)                                  \
                 : [q] "r"(st), [pitch] "r"(pitch_bytes), [end] "r"(row_end),                                        \
                   [o_acc] "i"(offsetof(mcunas_group_state, acc0)),                                                  \
                   [o_acc2] "i"(offsetof(mcunas_group_state, acc0[2])),                                              \
                   [o_m0] "i"(offsetof(mcunas_group_state, channel[0][0])),                                          \
                   [o_r0] "i"(offsetof(mcunas_group_state, channel[0][2])),                                          \
                   [o_m1] "i"(offsetof(mcunas_group_state, channel[1][0])),                                          \
                   [o_r1] "i"(offsetof(mcunas_group_state, channel[1][2])),                                          \
                   [o_m2] "i"(offsetof(mcunas_group_state, channel[2][0])),                                          \
                   [o_r2] "i"(offsetof(mcunas_group_state, channel[2][2])),                                          \
                   [o_m3] "i"(offsetof(mcunas_group_state, channel[3][0])),                                          \
                   [o_r3] "i"(offsetof(mcunas_group_state, channel[3][2])),                                          \
                   [o_step] "i"(offsetof(mcunas_group_state, step))                                                  \
                 : "cc", "memory")

/* Mode 1's outputs of a 3x3 or 5x5 group (k: 3 or 5) over the whole map, the output offset in st's rounding
 * constants; st's step and c are set here. */
static void mcunas_group_outputs_full(const uint32_t *plane, int32_t pitch, mcunas_group_state *st, int32_t k,
                                      int32_t stride_h, int32_t stride_w, int32_t out_h, int32_t out_w, int8_t *out,
                                      ptrdiff_t c, int32_t channels) {
  const ptrdiff_t pitch_bytes = 8 * (ptrdiff_t)pitch;
  int32_t a0, a1, a2, a3;
  uint32_t xe, xo, we, wo;
  /* A last group of fewer than four channels writes each output row's four bytes per position into `row` and
   * copies the real ones: the assembly's cost and a few instructions more, where the C loop took about twice. */
  int8_t row[4 * MCUNAS_GROUP_ROW_MAX];
  const int whole = channels == 4;
  st->step = 8 * stride_w;
  st->c = whole ? (int32_t)c : 4;
  for (int32_t oy = 0; oy < out_h; ++oy, out += whole ? 0 : (ptrdiff_t)out_w * c) {
    const uint32_t *r = plane + (ptrdiff_t)oy * stride_h * 2 * pitch;
    int8_t *const row_start = out;
    if (!whole) out = row;
    const int8_t *const row_end = out + (ptrdiff_t)out_w * st->c;
    if (k == 3)
      MCUNAS_GROUP_ROW(MCUNAS_GROUP_ROW3(0) MCUNAS_GROUP_NEXT_ROW MCUNAS_GROUP_ROW3(24) MCUNAS_GROUP_NEXT_ROW
                           MCUNAS_GROUP_ROW3(48),
                       "sub %[r], %[r], %[pitch], lsl #1\n\t");
    else
      MCUNAS_GROUP_ROW(MCUNAS_GROUP_ROW5(0) MCUNAS_GROUP_NEXT_ROW MCUNAS_GROUP_ROW5(40) MCUNAS_GROUP_NEXT_ROW
                           MCUNAS_GROUP_ROW5(80) MCUNAS_GROUP_NEXT_ROW MCUNAS_GROUP_ROW5(120) MCUNAS_GROUP_NEXT_ROW
                               MCUNAS_GROUP_ROW5(160),
                       "sub %[r], %[r], %[pitch], lsl #2\n\t");
    if (!whole) {
      out = row_start;
      for (int32_t x = 0; x < out_w; ++x)
        for (int32_t j = 0; j < channels; ++j) out[(ptrdiff_t)x * c + j] = row[4 * x + j];
    }
  }
}
#undef MCUNAS_GROUP_ROW
#undef MCUNAS_GROUP_REQUANTIZE
#endif /* __OPTIMIZE__ */
#undef MCUNAS_GROUP_ROW5
#undef MCUNAS_GROUP_ROW3
#undef MCUNAS_GROUP_NEXT_ROW
#undef MCUNAS_GROUP_TAP

/* The layer's channels a group of four at a time (the last group holds the c mod 4 others, if any, with zero
 * weights for the missing ones), in batch b's input and output; the caller has checked
 * mcunas_depthwise_groups_fit and zeroed the plane (mcunas_plane_start with 4 values per position). */
static void mcunas_depthwise_groups(const mcunas_conv_params *p, const mcunas_channel_quant *q,
                                    const mcunas_dims *in_dims, const int8_t *in_batch, const mcunas_dims *f_dims,
                                    const int8_t *weights, const int32_t *bias, const mcunas_dims *out_dims,
                                    int8_t *out_batch, uint32_t *plane) {
  const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c;
  const int32_t k_h = f_dims->h, k_w = f_dims->w, taps = k_h * k_w;
  const int32_t pitch = mcunas_plane_pitch(in_w, p->pad_w);
  const int16x2_t offset2 =
      (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) | ((uint32_t)p->input_offset << 16));
  const int full_range = p->act_min == -128 && p->act_max == 127;
  const int32_t bound = mcunas_requantize_bias_bound(taps);
  mcunas_group_state st;
  for (int32_t ch = 0; ch < c; ch += 4) {
    const int32_t n = c - ch < 4 ? c - ch : 4; /* channels in this group: 4 but in the last one */
    int fast = 1;
    for (int32_t j = 0; j < 4; ++j) {
      st.acc0[j] = bias && j < n ? bias[ch + j] : 0;
      if (j < n) /* without branches: & for && */
        fast &= mcunas_requantize_shift_fits(q->shift[ch + j]) & mcunas_requantize_bias_fits(st.acc0[j], bound);
    }
    for (int32_t t = 0; t < taps; ++t) { /* each tap's four weights split into (c0, c2), (c1, c3), doubled if fast */
      const int8_t *wt = weights + (ptrdiff_t)t * c + ch;
      uint32_t v = 0;
      if (n == 4)
        v = mcunas_load_word(wt);
      else
        for (int32_t j = 0; j < n; ++j) v |= (uint32_t)(uint8_t)wt[j] << (8 * j);
      int16x2_t we = __sxtb16(v), wo = mcunas_sxtb16_ror8(v);
      if (fast) {
        we = __sadd16(we, we);
        wo = __sadd16(wo, wo);
      }
      st.w[2 * t] = (uint32_t)we;
      st.w[2 * t + 1] = (uint32_t)wo;
    }
    int offset_in_round = fast && (n == 4 || out_dims->w <= MCUNAS_GROUP_ROW_MAX);
    if (fast)
      for (int32_t j = 0; j < 4; ++j) { /* a missing channel takes the first's constants (its bytes are dropped) */
        const int32_t from = j < n ? ch + j : ch;
        const int32_t right = -q->shift[from];
        st.acc0[j] *= 2;
        st.channel[j][0] = q->multiplier[from];
        st.channel[j][2] = right;
        offset_in_round = offset_in_round && right <= MCUNAS_GROUP_MAX_RIGHT;
        if (offset_in_round)
          st.channel[j][1] = mcunas_requantize_round(right) + (int32_t)((uint32_t)p->output_offset << right);
      }
    if (n == 4)
      mcunas_group_gather(plane, pitch, in_batch, in_h, in_w, c, ch, p->pad_h, p->pad_w, offset2);
    else
      mcunas_group_gather_partial(plane, pitch, in_batch, in_h, in_w, c, ch, n, p->pad_h, p->pad_w, offset2);
    const int mode = !fast ? 0 : (full_range ? 1 : 2);
#if defined(__OPTIMIZE__) /* unoptimised, GCC keeps a frame pointer and cannot give the assembly 14 registers */
    if (mode == 1 && offset_in_round)
      mcunas_group_outputs_full(plane, pitch, &st, k_h, p->stride_h, p->stride_w, out_dims->h, out_dims->w,
                                out_batch + ch, c, n);
    else
#endif
      mcunas_group_outputs(plane, pitch, &st, k_h, p->stride_h, p->stride_w, out_dims->h, out_dims->w,
                           out_batch + ch, c, n, mode, q->multiplier + ch, q->shift + ch, p->output_offset,
                           p->act_min, p->act_max);
  }
}

#endif /* MCUNAS_DSP_PATH */
#endif /* MCUNAS_DEPTHWISE_GROUPS_DSP_H */
