/* The int8 kernels of mcunas: plain C99, no allocation, NHWC tensors, TFLite int8 arithmetic (as CMSIS-NN computes
 * it; ../shared/conformance/int8 holds reference cases). The same files build for the host executor and, unchanged,
 * for the Cortex-M firmware.
 *
 * Quantisation conventions (the TFLite int8 specification):
 * - real = scale * (q - zero_point); activations int8 with a zero point, weights int8 symmetric per output channel
 *   (zero point 0), biases int32 at scale s_in * s_w[c].
 * - Kernels take offsets, as CMSIS-NN does: input_offset = -input zero point (added to every input value),
 *   output_offset = +output zero point (added after requantisation).
 * - The requantisation scale is multiplier / 2^31 * 2^shift (multiplier Q31 in [2^30, 2^31), shift > 0 left).
 * - act_min / act_max clamp in the output's quantised domain after output_offset: ReLU is act_min = zero point.
 * - Padding: pad_h / pad_w are the leading (top, left) pads; any tap outside the input is padding and adds nothing
 *   (it stands for the input zero point); pooling skips it.
 */
#ifndef MCUNAS_KERNELS_H
#define MCUNAS_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor shape, NHWC (for weights: OHWI, out_c in n). */
typedef struct {
  int32_t n, h, w, c;
} mcunas_dims;

typedef struct {
  int32_t stride_h, stride_w;
  int32_t pad_h, pad_w;  /* leading padding */
  int32_t input_offset;  /* -zero point of the input */
  int32_t output_offset; /* +zero point of the output */
  int32_t act_min, act_max;
} mcunas_conv_params;

/* One multiplier and shift per output channel. */
typedef struct {
  const int32_t *multiplier;
  const int32_t *shift;
} mcunas_channel_quant;

/* 2-D convolution. filter: out_c (n) x k_h (h) x k_w (w) x in_c (c), weights OHWI. bias: out_c values or NULL. A 1x1,
 * stride 1, unpadded convolution takes a faster path with the same result. scratch: mcunas_conv_s8_scratch_bytes()
 * bytes, any alignment, for the DSP path's im2col columns; NULL makes the DSP path go pixel by pixel (slower, the
 * same result); the portable path ignores it. */
void mcunas_conv_s8(const mcunas_conv_params *params, const mcunas_channel_quant *quant, const mcunas_dims *input_dims,
                    const int8_t *input, const mcunas_dims *filter_dims, const int8_t *weights, const int32_t *bias,
                    const mcunas_dims *output_dims, int8_t *output, void *scratch);
/* Input channels up to which a general (not 1x1) convolution's DSP path works on one int16 plane per input channel
 * (a first layer) instead of im2col columns; its scratch then holds those planes. */
#define MCUNAS_CONV_PLANAR_MAX_IN 3
/* Weight pairs the planes hold for one output channel (on the stack): input channels x kernel rows x ceil(kernel
 * columns / 2), at most this (kernels up to 9 x 9 with one channel, 5 x 5 with three). A layer with more, or whose
 * trailing padding exceeds its leading padding by more than the planes' spare row and column, takes the im2col
 * columns instead (a depthwise layer the portable loop). */
#define MCUNAS_PLANE_MAX_PAIRS 48
/* Scratch bytes the caller reserves for one call (the DSP path's buffer; the portable path uses none). */
int32_t mcunas_conv_s8_scratch_bytes(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                     const mcunas_dims *filter_dims);

/* Depthwise 2-D convolution, channel multiplier 1. filter: 1 x k_h x k_w x c. scratch:
 * mcunas_depthwise_conv_s8_scratch_bytes() bytes, any alignment, for the plane of one channel each path copies it
 * into; NULL makes both take a pixel-by-pixel loop (slower, the same result). output may be input itself (in place)
 * where mcunas_depthwise_conv_s8_in_place() says so and scratch is given; otherwise the two must not overlap. */
void mcunas_depthwise_conv_s8(const mcunas_conv_params *params, const mcunas_channel_quant *quant,
                              const mcunas_dims *input_dims, const int8_t *input, const mcunas_dims *filter_dims,
                              const int8_t *weights, const int32_t *bias, const mcunas_dims *output_dims,
                              int8_t *output, void *scratch);
int32_t mcunas_depthwise_conv_s8_scratch_bytes(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                               const mcunas_dims *filter_dims);
/* 1 when the DSP path runs the layer's channels four at a time (a map of at most 16 columns: depthwise_groups_dsp.h)
 * rather than one plane each; the cost model prices the two apart (cost_models/kernel_path.h). */
int mcunas_depthwise_conv_s8_groups(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                    const mcunas_dims *filter_dims, const mcunas_dims *output_dims);
/* 1 when the output may be written over the input (output == input): it has the input's shape and the layer runs
 * through a channel plane on every path, which copies a channel before writing its outputs (TinyEngine's in-place
 * depthwise). The memory plan uses it (cost_models/kernel_scratch.h). */
int mcunas_depthwise_conv_s8_in_place(const mcunas_conv_params *params, const mcunas_dims *input_dims,
                                      const mcunas_dims *filter_dims, const mcunas_dims *output_dims);

/* 2-D convolution with transient redundancy elimination (TREC, Liu et al., IEEE TC 2024): similar im2col
 * sub-vectors share one product, so the weights multiply one centroid per cluster instead of every pixel's values.
 * This definition is the contract (the float training layer and the cost model follow it); per image:
 * - the im2col row of output pixel n = oy * out_w + ox holds K = k_h * k_w * in_c values v in OHWI order
 *   (k = (ky * k_w + kx) * in_c + c): v = x + input_offset inside the input, 0 on the padding;
 * - it is cut into nb = ceil(K / L) blocks, block j the values j*L .. min(K, (j+1)*L) - 1;
 * - hash: bit h of a block's code is 1 when sum_i v[j*L+i] * projections[i*H + h] > 0 (int32; 0 gives 0);
 * - the pixels whose block j has the same code form one cluster; its centroid is the mean of their sub-vectors,
 *   rounded half away from zero: c = (2*s + (s >= 0 ? count : -count)) / (2*count), C99 division;
 * - each cluster's table t[o] = sum_i c[i] * weights[o*K + j*L + i]; a pixel's accumulator is bias[o] (0 when bias
 *   is NULL) plus the table of its cluster in every block, requantised as mcunas_conv_s8 does.
 * Clusters never span blocks or images. When every cluster has one member the result is mcunas_conv_s8's. */
typedef struct {
  int32_t sub_len;           /* L >= 1: im2col rows are cut into sub-vectors of L values (a row's last may be
                              * shorter) */
  int32_t hash_bits;         /* H in 1..8: sign projections shared by every sub-vector of the layer */
  const int8_t *projections; /* L x H, row-major: projections[i * H + h] */
} mcunas_reuse_params;
/* Returns the number of clusters formed, summed over blocks and images (the host's reuse rate is clusters / (N * nb)
 * per image, N = out_h * out_w), or -1, writing nothing, when scratch is NULL: the kernel has no path without it.
 * scratch: mcunas_reuse_conv_s8_scratch_bytes() bytes, any alignment. */
int32_t mcunas_reuse_conv_s8(const mcunas_conv_params *params, const mcunas_reuse_params *reuse,
                             const mcunas_channel_quant *quant, const mcunas_dims *input_dims, const int8_t *input,
                             const mcunas_dims *filter_dims, const int8_t *weights, const int32_t *bias,
                             const mcunas_dims *output_dims, int8_t *output, void *scratch);
/* The scratch holds one image's work, a block at a time (only the accumulators outlive a block): 3 bytes to align
 * to 4, the accumulators int32 [N][out_c], the member counts int32 [2^H] (by code), the clusters' sums int32
 * [2^H][L] (the centroids are later written over them), the table int32 [2^H][out_c], the DSP path's paired
 * projections int32 [H][R/2] (reserved on every build, so the host plans the firmware's arena) and one sub-vector
 * int16 [R], R = L rounded up to a multiple of 4, then the clusters' codes and the codes' clusters uint8 [2^H]
 * each and the pixels' clusters uint8 [N]:
 *   3 + 4*N*out_c + 4*2^H + 4*2^H*L + 4*2^H*out_c + 2*H*R + 2*R + 2*2^H + N. */
int32_t mcunas_reuse_conv_s8_scratch_bytes(const mcunas_reuse_params *reuse, const mcunas_dims *input_dims,
                                           const mcunas_dims *filter_dims, const mcunas_dims *output_dims);

typedef struct {
  int32_t input_offset, output_offset;
  int32_t multiplier, shift; /* one for the whole tensor */
  int32_t act_min, act_max;
} mcunas_fc_params;

/* Fully connected: input batches x in_features, weights out_features x in_features, bias out_features or NULL. */
void mcunas_fully_connected_s8(const mcunas_fc_params *params, int32_t batches, int32_t in_features,
                               const int8_t *input, int32_t out_features, const int8_t *weights, const int32_t *bias,
                               int8_t *output);
/* Fully connected reads its operands in place on every path: 0. */
int32_t mcunas_fully_connected_s8_scratch_bytes(int32_t in_features);

typedef struct {
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t pad_h, pad_w;
  int32_t act_min, act_max;
} mcunas_pool_params;

/* Pooling keeps the input's quantisation (no offsets); padding taps are left out of the max and of the average's
 * count. Global average pooling is avg pooling with the window of the whole input. */
void mcunas_max_pool_s8(const mcunas_pool_params *params, const mcunas_dims *input_dims, const int8_t *input,
                        const mcunas_dims *output_dims, int8_t *output);
void mcunas_avg_pool_s8(const mcunas_pool_params *params, const mcunas_dims *input_dims, const int8_t *input,
                        const mcunas_dims *output_dims, int8_t *output);
/* Scratch bytes reserved for average pooling: one int32 sum per channel, CMSIS-NN's reservation, which the cost
 * model prices; no path of ours uses it yet. Max pooling keeps no state between taps: 0. */
int32_t mcunas_avg_pool_s8_scratch_bytes(const mcunas_dims *input_dims);
int32_t mcunas_max_pool_s8_scratch_bytes(const mcunas_dims *input_dims);

/* Global average pooling that requantises: out = output_offset + (sum over the map of (q + input_offset)) * scale,
 * scale = s_in / (s_out * h * w) as multiplier and shift; input n x h x w x c, output n x 1 x 1 x c. */
typedef struct {
  int32_t input_offset, output_offset;
  int32_t multiplier, shift;
  int32_t act_min, act_max;
} mcunas_mean_params;

void mcunas_global_avg_pool_s8(const mcunas_mean_params *params, const mcunas_dims *input_dims, const int8_t *input,
                               int8_t *output);
/* The same reservation as average pooling (unused as well). */
int32_t mcunas_global_avg_pool_s8_scratch_bytes(const mcunas_dims *input_dims);

typedef struct {
  int32_t input1_offset, input1_multiplier, input1_shift;
  int32_t input2_offset, input2_multiplier, input2_shift;
  int32_t left_shift; /* 20 in TFLite's int8 ADD */
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
} mcunas_add_params;

/* Element-wise add of two int8 tensors of `size` values with different quantisations (a residual connection).
 * scratch: mcunas_add_s8_scratch_bytes(size) bytes, any alignment, for the DSP path's table of one input's rescaled
 * values; NULL makes it compute them element by element (slower, the same result). */
void mcunas_add_s8(const mcunas_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                   int8_t *output, void *scratch);
/* Elements from which an add reserves the table (1 KB, then at most half the output's bytes). */
#define MCUNAS_ADD_TABLE_MIN_SIZE 2048
/* The table's 256 int32 values and 3 bytes to align them, from MCUNAS_ADD_TABLE_MIN_SIZE elements on; else 0.
 * Written on every build, so the arena the host plans is the one the firmware needs. */
int32_t mcunas_add_s8_scratch_bytes(int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* MCUNAS_KERNELS_H */
