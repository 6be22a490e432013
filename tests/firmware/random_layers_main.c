/* 430 random int8 layers: convolutions general and 1x1, depthwise, fully connected, of odd and even channel counts
 * (half of them multiples of four, which take the DSP path's word-wise im2col, and one in eight general
 * convolutions of 1 to 3 input channels, which take its planes), strides, paddings, extreme inputs; after every
 * third one an element-wise add; then adds large enough for the DSP path's table; then general convolutions with
 * non-square kernels and strides and uneven padding; then depthwise layers in place, each checked against itself
 * out of place (exit status 2 when they differ); then reuse convolutions (portable C on every core, so what they
 * check is that the compilers and cores agree on its 32-bit divisions and int16 / int32 arithmetic); then linear
 * layers as the generated code runs them (one-pixel 1x1 convolutions of up to 400 features). Each is printed
 * as a hash of its output bytes. General and depthwise convolutions get their scratch at an odd address, as the
 * arena may place it; random shifts (0 included) and clamps take the DSP path's exact and both fast
 * requantisations. Built for the host and for Cortex-M3 (portable path) and Cortex-M4 / M7 (DSP path) in QEMU, the
 * printouts must be identical (tests/integration/firmware_qemu_test.sh): the DSP path gives the portable path's
 * bits. */
#include <stddef.h>
#include <stdint.h>

#include "mcunas_kernels.h"

#ifdef MCUNAS_FIRMWARE
#include "semihosting.h"
static void emit(const char *text) { mcunas_semihosting_write(text); }
#else
#include <stdio.h>
static void emit(const char *text) { fputs(text, stdout); }
#endif

static uint32_t state = 2024u;
static uint32_t next(void) {
  state = state * 1664525u + 1013904223u;
  return state;
}
static int32_t between(int32_t lo, int32_t hi) { return lo + (int32_t)((next() >> 8) % (uint32_t)(hi - lo + 1)); }

/* Up to 16 x 16 pixels: rows long enough for several of the four-output passes of the 3x3 and 5x5 plane loops. */
enum { kMaxSide = 16, kMaxIn = kMaxSide * kMaxSide * 24, kMaxWeights = 24 * 5 * 5 * 24, kMaxChannels = 24 };
static int8_t input[kMaxIn], weights[kMaxWeights], output[kMaxIn];
static int32_t bias[kMaxChannels], multiplier[kMaxChannels], shift[kMaxChannels];
/* at least the largest layer's scratch, one byte more: two im2col columns of a 10x4 window of 12 channels
 * (4 * 10 * 4 * 12 bytes), three planes of a 16 x 16 image padded by 5 rows and 2 columns each side (27 rows, a
 * spare one included, of pitch 22) for a first layer, the depthwise group plane of a 16 x 16 map padded by 2 (21
 * rows of 22 positions of 8 bytes, depthwise_groups_dsp.h), or an add's table (1,027 bytes) */
static int8_t scratch[8 * 21 * 22 + 4 + 1];
/* The reuse convolutions' scratch, one byte more: at most 3 + 4 * 169 * 24 (accumulators of a 13 x 13 output map)
 * + 4 * 256 (counts) + 4 * 256 * 303 (sums of the longest sub-vector, K + 3 for a 5x5 window of 12 channels) +
 * 4 * 256 * 24 (table) + 2 * 8 * 304 (paired projections) + 2 * 304 (one sub-vector) + 2 * 256 (code map) + 169
 * (codes) bytes, 358,252 (mcunas_reuse_conv_s8_scratch_bytes); and their sign projections. */
static int8_t reuse_scratch[400 * 1024 + 1], projections[303 * 8];

static void fill(int8_t *v, int32_t n, int extremes) {
  for (int32_t i = 0; i < n; ++i) v[i] = extremes ? (next() >> 31 ? 127 : -128) : (int8_t)(next() >> 24);
}

static uint32_t fnv1a(uint32_t h, const int8_t *v, int32_t n) {
  for (int32_t i = 0; i < n; ++i) h = (h ^ (uint8_t)v[i]) * 16777619u;
  return h;
}

static void print_value(int32_t layer, char kind, uint32_t h) {
  char line[32];
  char *p = line + sizeof line;
  *--p = '\0';
  *--p = '\n';
  for (int d = 0; d < 8; ++d, h >>= 4) *--p = "0123456789abcdef"[h & 15u];
  *--p = ' ';
  *--p = kind;
  *--p = ' ';
  do *--p = (char)('0' + layer % 10); while ((layer /= 10) > 0);
  emit(p);
}

static void print_hash(int32_t layer, char kind, const int8_t *v, int32_t n) {
  print_value(layer, kind, fnv1a(2166136261u, v, n));
}

/* Random biases, and per-channel scales below 1 with right shifts of 0 to 12. */
static mcunas_channel_quant random_channel_quant(void) {
  for (int32_t c = 0; c < kMaxChannels; ++c) {
    bias[c] = between(-20000, 20000);
    multiplier[c] = (int32_t)(0x40000000u + (next() >> 2));
    shift[c] = between(-12, 0);
  }
  const mcunas_channel_quant q = {multiplier, shift};
  return q;
}

int main(void) {
  for (int32_t layer = 0; layer < 240; ++layer) {
    const int32_t kind = layer % 4, extremes = layer % 7 == 0;
    const int32_t h = between(1, kMaxSide), w = between(1, kMaxSide), out_c = between(1, 24);
    /* Layer 4 of every 8 is a general convolution of 1 to 3 input channels (a first layer: the planar path). */
    const int32_t in_c = layer % 8 < 4 ? 4 * between(1, 6) : layer % 8 == 4 ? between(1, 3) : between(1, 24);
    const int32_t k = kind == 1 ? 1 : 2 * between(0, 2) + 1, stride = kind == 1 ? 1 : between(1, 2);
    const int32_t pad = kind == 1 ? 0 : between(0, k / 2);
    const int32_t out_h = (h + 2 * pad - k) / stride + 1, out_w = (w + 2 * pad - k) / stride + 1;
    if (out_h < 1 || out_w < 1) continue;
    const int32_t zp_out = between(-128, 127);
    const mcunas_conv_params p = {stride, stride, pad, pad, between(-127, 128), zp_out,
                                  between(0, 1) ? zp_out : -128, 127};
    const mcunas_channel_quant q = random_channel_quant();
    const mcunas_dims in_dims = {1, h, w, in_c};
    fill(input, h * w * in_c, extremes);
    if (kind == 0 || kind == 1) { /* general convolution, or the 1x1 path */
      const mcunas_dims f = {out_c, k, k, in_c}, o = {1, out_h, out_w, out_c};
      fill(weights, out_c * k * k * in_c, extremes);
      if (mcunas_conv_s8_scratch_bytes(&p, &in_dims, &f) > (int32_t)sizeof scratch - 1) return 1;
      mcunas_conv_s8(&p, &q, &in_dims, input, &f, weights, bias, &o, output, scratch + 1);
      print_hash(layer, kind ? 'p' : 'c', output, out_h * out_w * out_c);
    } else if (kind == 2) {
      const mcunas_dims f = {1, k, k, in_c}, o = {1, out_h, out_w, in_c};
      fill(weights, k * k * in_c, extremes);
      if (mcunas_depthwise_conv_s8_scratch_bytes(&p, &in_dims, &f) > (int32_t)sizeof scratch - 1) return 1;
      mcunas_depthwise_conv_s8(&p, &q, &in_dims, input, &f, weights, bias, &o, output, scratch + 1);
      print_hash(layer, 'd', output, out_h * out_w * in_c);
    } else { /* fully connected over the flattened input */
      const mcunas_fc_params fp = {p.input_offset, zp_out, multiplier[0], shift[0], p.act_min, 127};
      const int32_t features = h * w * in_c < 400 ? h * w * in_c : 400;
      fill(weights, out_c * features, extremes);
      mcunas_fully_connected_s8(&fp, 1, features, input, out_c, weights, bias, output);
      print_hash(layer, 'f', output, out_c);
    }
    if (layer % 3 == 0) { /* an element-wise add of the input and a fresh tensor: TFLite's left shift of 20, input
                           * shifts of 0 to -12, one input of two in three at TFLite's exact 0.5 (multiplier 2^30,
                           * shift 0: the DSP path's table for 2,048 elements or more), and output scales below 1
                           * (the DSP path's fast requantisation) or, one add in four, an output shift of 0 (its
                           * exact one) */
      const int32_t size = h * w * in_c, zp_out_add = between(-128, 127);
      fill(weights, size, extremes);
      const int half = layer % 9 == 0 ? 1 : layer % 9 == 3 ? 2 : 0;
      const int32_t m1 = (int32_t)(0x40000000u + (next() >> 2)), s1 = between(-12, 0);
      const int32_t m2 = (int32_t)(0x40000000u + (next() >> 2)), s2 = between(-12, 0);
      const mcunas_add_params a = {between(-127, 128), half == 1 ? 0x40000000 : m1, half == 1 ? 0 : s1,
                                   between(-127, 128), half == 2 ? 0x40000000 : m2, half == 2 ? 0 : s2,
                                   20, zp_out_add, (int32_t)(0x40000000u + (next() >> 2)),
                                   layer % 4 == 0 ? 0 : between(-24, -14), between(0, 1) ? zp_out_add : -128, 127};
      if (mcunas_add_s8_scratch_bytes(size) > (int32_t)sizeof scratch - 1) return 1;
      mcunas_add_s8(&a, size, input, weights, output, mcunas_add_s8_scratch_bytes(size) ? scratch + 1 : NULL);
      print_hash(layer, 'a', output, size);
    }
  }
  /* 20 adds large enough for the DSP path's table (2,048 to 6,144 elements), one input at TFLite's exact 0.5, the
   * output offset inside the rounding constant (output shifts to -21) or added after the shift (-22 to -24). */
  for (int32_t layer = 340; layer < 360; ++layer) {
    const int32_t size = between(2048, kMaxIn), zp_out = between(-128, 127), first_half = layer % 2;
    fill(input, size, layer % 7 == 0);
    fill(weights, size, layer % 5 == 0);
    const int32_t m = (int32_t)(0x40000000u + (next() >> 2)), s = between(-12, 0);
    const mcunas_add_params a = {between(-127, 128), first_half ? 0x40000000 : m, first_half ? 0 : s,
                                 between(-127, 128), first_half ? m : 0x40000000, first_half ? s : 0,
                                 20, zp_out, (int32_t)(0x40000000u + (next() >> 2)), between(-24, -17),
                                 layer % 4 == 3 ? zp_out : -128, 127};
    if (mcunas_add_s8_scratch_bytes(size) > (int32_t)sizeof scratch - 1) return 1;
    mcunas_add_s8(&a, size, input, weights, output, scratch + 1);
    print_hash(layer, 't', output, size);
  }
  /* 60 general convolutions with non-square kernels (up to 10 rows, DS-CNN's 10x4 among them) and strides, and one
   * more row or column of padding at the bottom or right than at the top or left (TensorFlow's "same"): the kernels
   * take the leading pads and the output size. Few input channels take the planes when the trailing padding fits
   * them, the im2col columns otherwise. */
  for (int32_t layer = 240; layer < 300; ++layer) {
    const int32_t h = between(4, kMaxSide), w = between(4, kMaxSide), out_c = between(1, 24);
    const int32_t in_c = layer % 3 == 0 ? between(1, 3) : layer % 3 == 1 ? 4 * between(1, 3) : between(1, 12);
    const int32_t k_h = layer % 5 == 0 ? 10 : between(1, 7), k_w = layer % 5 == 0 ? 4 : between(1, 5);
    const int32_t pad_h = between(0, k_h / 2), pad_w = between(0, k_w / 2);
    const int32_t stride_h = between(1, 2), stride_w = between(1, 2);
    const int32_t out_h = (h + 2 * pad_h + between(0, 1) - k_h) / stride_h + 1;
    const int32_t out_w = (w + 2 * pad_w + between(0, 1) - k_w) / stride_w + 1;
    if (out_h < 1 || out_w < 1 || out_c * k_h * k_w * in_c > kMaxWeights || (k_h == 1 && k_w == 1)) continue;
    const int32_t zp_out = between(-128, 127);
    const mcunas_conv_params p = {stride_h, stride_w, pad_h, pad_w, between(-127, 128), zp_out,
                                  between(0, 1) ? zp_out : -128, 127};
    const mcunas_channel_quant q = random_channel_quant();
    const mcunas_dims in_dims = {1, h, w, in_c}, f = {out_c, k_h, k_w, in_c}, o = {1, out_h, out_w, out_c};
    fill(input, h * w * in_c, layer % 7 == 0);
    fill(weights, out_c * k_h * k_w * in_c, layer % 7 == 0);
    if (mcunas_conv_s8_scratch_bytes(&p, &in_dims, &f) > (int32_t)sizeof scratch - 1) return 1;
    mcunas_conv_s8(&p, &q, &in_dims, input, &f, weights, bias, &o, output, scratch + 1);
    print_hash(layer, 'n', output, out_h * out_w * out_c);
  }
  /* 40 depthwise layers in place (output == input, where mcunas_depthwise_conv_s8_in_place allows it: stride 1,
   * "same" padding, up to 7x7): each must give the bytes of the same layer into a separate output. */
  for (int32_t layer = 300; layer < 340; ++layer) {
    const int32_t h = between(1, kMaxSide), w = between(1, kMaxSide), c = between(1, 24), k = 2 * between(0, 3) + 1;
    const int32_t zp_out = between(-128, 127);
    const mcunas_conv_params p = {1, 1, k / 2, k / 2, between(-127, 128), zp_out, between(0, 1) ? zp_out : -128, 127};
    const mcunas_channel_quant q = random_channel_quant();
    const mcunas_dims d = {1, h, w, c}, f = {1, k, k, c};
    if (!mcunas_depthwise_conv_s8_in_place(&p, &d, &f, &d) || k * k * c > kMaxWeights) return 3;
    if (mcunas_depthwise_conv_s8_scratch_bytes(&p, &d, &f) > (int32_t)sizeof scratch - 1) return 1;
    fill(input, h * w * c, layer % 7 == 0);
    fill(weights, k * k * c, layer % 7 == 0);
    mcunas_depthwise_conv_s8(&p, &q, &d, input, &f, weights, bias, &d, output, scratch + 1);
    mcunas_depthwise_conv_s8(&p, &q, &d, input, &f, weights, bias, &d, input, scratch + 1);
    for (int32_t i = 0; i < h * w * c; ++i)
      if (input[i] != output[i]) return 2;
    print_hash(layer, 'i', input, h * w * c);
  }
  /* 40 reuse convolutions (TREC, mcunas_reuse_conv_s8): 1x1, 3x3, 5x5, 1x3 and 3x1 windows, strides and paddings
   * as above, sub-vectors of 1 to 16 values or the whole row, 1 to 8 hash bits with projections zero (one cluster
   * per block), of signs only, or uniform; inputs of a few values one layer in three, so clusters hold many members
   * and centroids round. The cluster count is hashed with the output: the host reads its reuse rate from it. */
  for (int32_t layer = 360; layer < 400; ++layer) {
    static const int32_t windows[5][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {3, 1}};
    const int32_t *window = windows[between(0, 4)];
    const int32_t k_h = window[0], k_w = window[1];
    const int32_t h = between(1, 12), w = between(1, 12), in_c = between(1, 12), out_c = between(1, 24);
    const int32_t pad_h = between(0, k_h / 2), pad_w = between(0, k_w / 2);
    const int32_t stride_h = between(1, 2), stride_w = between(1, 2);
    const int32_t out_h = (h + 2 * pad_h + between(0, 1) - k_h) / stride_h + 1;
    const int32_t out_w = (w + 2 * pad_w + between(0, 1) - k_w) / stride_w + 1;
    if (h + 2 * pad_h < k_h || w + 2 * pad_w < k_w || out_h < 1 || out_w < 1) continue;
    const int32_t k = k_h * k_w * in_c;
    static const int32_t lengths[8] = {1, 2, 3, 4, 7, 8, 9, 16};
    const int32_t choice = between(0, 9);
    const int32_t sub_len = choice < 8 ? lengths[choice] : choice == 8 ? k : k + 3, bits = between(1, 8);
    const int32_t projection_kind = layer % 6;
    for (int32_t i = 0; i < sub_len * bits; ++i)
      projections[i] = (int8_t)(projection_kind == 0 ? 0 : projection_kind == 1 ? between(-1, 1) : between(-128, 127));
    const int32_t zp_out = between(-128, 127);
    const mcunas_conv_params p = {stride_h, stride_w, pad_h, pad_w, between(-127, 128), zp_out,
                                  between(0, 1) ? zp_out : -128, 127};
    const mcunas_channel_quant q = random_channel_quant();
    const mcunas_reuse_params reuse = {sub_len, bits, projections};
    const mcunas_dims in_dims = {1, h, w, in_c}, f = {out_c, k_h, k_w, in_c}, o = {1, out_h, out_w, out_c};
    if (layer % 3 == 1) {
      for (int32_t i = 0; i < h * w * in_c; ++i) input[i] = (int8_t)(between(-2, 2) * 50 + between(0, 1));
    } else {
      fill(input, h * w * in_c, layer % 7 == 0);
    }
    fill(weights, out_c * k, layer % 7 == 0);
    if (mcunas_reuse_conv_s8_scratch_bytes(&reuse, &in_dims, &f, &o) > (int32_t)sizeof reuse_scratch - 1) return 1;
    const int32_t clusters = mcunas_reuse_conv_s8(&p, &reuse, &q, &in_dims, input, &f, weights,
                                                  layer % 4 == 3 ? NULL : bias, &o, output, reuse_scratch + 1);
    if (clusters < 1) return 4;
    const int8_t count[4] = {(int8_t)clusters, (int8_t)(clusters >> 8), (int8_t)(clusters >> 16),
                             (int8_t)(clusters >> 24)};
    print_value(layer, 'r', fnv1a(fnv1a(2166136261u, output, out_h * out_w * out_c), count, 4));
  }
  /* 30 linear layers as the generated code runs them: a one-pixel 1x1 convolution with per-channel scales, of 1 to
   * 400 features (the four-row product's 32- and 8-value passes and its tail), out_c of 1 to 24 (the last out_c mod
   * 4 rows two and one at a time), with and without a bias. */
  for (int32_t layer = 400; layer < 430; ++layer) {
    const int32_t features = layer % 3 == 0 ? between(1, 40) : between(32, 400), out_c = between(1, 24);
    const int32_t zp_out = between(-128, 127);
    const mcunas_conv_params p = {1, 1, 0, 0, between(-127, 128), zp_out, between(0, 1) ? zp_out : -128, 127};
    const mcunas_channel_quant q = random_channel_quant();
    const mcunas_dims in_dims = {1, 1, 1, features}, f = {out_c, 1, 1, features}, o = {1, 1, 1, out_c};
    fill(input, features, layer % 7 == 0);
    fill(weights, out_c * features, layer % 5 == 0);
    mcunas_conv_s8(&p, &q, &in_dims, input, &f, weights, layer % 4 == 3 ? NULL : bias, &o, output, NULL);
    print_hash(layer, 'l', output, out_c);
  }
  return 0;
}
