// The work of one kernel call: the quantities its latency is priced by, written once for the search's lowering
// (lowering.h, soft channel counts) and for a fixed int8 model (deploy/int8_model.cpp), and for the calibration
// benchmarks that fit the coefficients (nas calibrate). Each quantity follows what our kernels' DSP path really
// does (deploy/kernels, docs/targets.md):
//   executed_macs        multiply-accumulates actually run: pooling skips taps in the padding, the im2col
//                        convolution and the depthwise planes (both paths) multiply padding zeros too
//   outputs              output elements: one requantisation each
//   pixels               output positions
//   patch_values         general conv: values copied into im2col columns (k²·cin per pixel), word-wise when cin is
//   scalar_patch_values    a multiple of 4, else value by value; 1×1: each pixel's cin values split into a column
//                          (the cin mod 4 left over one by one)
//   scalar_taps          general conv copying value by value: window taps (k² per pixel; one bounds check and
//                        address each, a first layer's whole copy cost when it has one channel)
//   window_rows          general conv: window rows per pixel (one copy set-up each)
//   tail_macs            MACs outside the 4-value SIMD steps: k²·cin mod 4 per output (conv, 1×1); FC: MACs
//                        outside the four-row assembly loop (two rows at a time instead)
//   tail_outputs         conv, 1×1: outputs that have a tail; FC: the out_c mod 4 outputs of the two-row loop
// Depthwise works one channel at a time on a padded int16 plane (deploy/kernels/depthwise_dsp.h), so its DSP path
// has quantities of its own, in the same fields:
//   patch_values         values gathered into the planes (cin·in_h·in_w)
//   scalar_patch_values  the plane's values zeroed once per call ((in_h + 2p)·pitch)
//   window_rows          passes of the sums and store loops (cin·plane_passes: whole output rows up to 64 sums)
//   tail_macs            MACs of the two-outputs-per-pass loop, each kernel row padded to pairs (cin·pixels·k·2⌈k/2⌉;
//                        every kernel but 3×3 and 5×5 at stride 1 or 2)
//   tail_outputs         outputs of the four-outputs-per-pass loops (3×3 and 5×5 at stride 1 or 2), in units
//                        of a 3×3 output: they spend about two instructions per output, kernel row and weight pair
//                        (3×3: 12 per output, 5×5: 30), so an output counts k·⌈k/2⌉ / 6 (four_output_loop_weight);
//                        a 5×5 row's (and a 3×3 row's at stride 2) last out_w mod 4 outputs run the two-output loop
//                        and count in tail_macs instead
//   valid_row_outputs    kernel rows of the one-output-at-a-time loop's outputs (outputs·k: a row step each)
//   scalar_taps          input rows gathered and output rows summed (cin·(in_h + out_h): a loop set-up each)
// depthwise_groups (a map of at most 16 columns, deploy/kernels/depthwise_groups_dsp.h) runs its channels four at a
// time on a group plane, g = ⌈c/4⌉ groups, the last one of c mod 4 channels (if any) through a row buffer:
//   executed_macs, outputs  all of them (a whole group's tap is 1.5 instructions per MAC in assembly, its output
//                           about 8 with the position's share of the loop)
//   patch_values            values gathered word by word into the whole groups' planes (4·⌊c/4⌋·in_h·in_w)
//   scalar_patch_values     int16 values zeroed once per call (the group plane: four per position)
//   window_rows             weight taps prepared (g·kh·kw)
//   scalar_taps             input rows gathered and output rows summed (g·(in_h + out_h))
//   tail_macs, tail_outputs the last group of c mod 4 channels: its taps (pixels·kh·kw, four lanes whatever it holds)
//                           and its outputs (copied out of the row buffer a channel at a time)
//   plane_sums              input positions that group gathers byte by byte (in_h·in_w)
// reuse_conv (deploy/kernels/reuse_conv_s8.c, reuse_dsp.h; K = kh·kw·cin im2col values per pixel, cut into nb
// blocks of L values, the last one shorter; a share `reuse_rate` of the sub-vectors start a cluster). The kernel works
// a block at a time: each pixel's sub-vector gathered, hashed and added into its cluster's sums in one pass, then the
// clusters' centroids and products, then the block's table added into every pixel's sums:
//   executed_macs        hashing: H multiply-adds per value, in pairs, of every sub-vector with a tap inside the
//                        input (its padding values too; a sub-vector wholly on the padding is not hashed)
//   patch_values         values gathered and summed (pixels·K)
//   valid_macs           the hashed sub-vectors' values in pairs (added into their clusters' sums)
//   scalar_taps          sub-vectors (pixels·nb: a code formed and its cluster looked up)
//   scalar_patch_values  sub-vectors of windows that reach into the padding (gathered a run at a time)
//   tail_outputs         blocks (nb: each block's passes set up)
//   plane_sums           centroid values (a rounded division each): rate·pixels·K
//   tail_macs            the clusters' products with the weights (that times cout)
//   valid_row_outputs    groups of four values per block and output channel (Σ_j ⌈len_j/4⌉·cout: the products'
//                        loop set-up, whatever the clusters)
//   window_rows          table rows added into the int32 sums (pixels·nb·cout)
//   outputs              requantisations (pixels·cout)
// add (deploy/kernels/add_s8.c) looks one input's rescaled values up in a table from MCUNAS_ADD_TABLE_MIN_SIZE
// elements on (TFLite's ADD, as our quantiser writes it: the other input at exactly 0.5, the whole int8 range):
// executed_macs counts the elements of a call without the table, tail_macs those of a call with it, window_rows
// the table built (1).
// conv_planar (a convolution with at most 3 input channels: a first layer) runs the same planes, one per input
// channel, and sums each output channel over them. Besides the portable path's quantities (executed and valid
// MACs, valid row outputs, as conv) it has depthwise's, per plane: patch_values (values gathered), scalar_taps
// (weight pairs prepared, cout·cin·k·⌈k/2⌉), scalar_patch_values (zeroed once per call), window_rows
// (cout·cin·out_h), tail_outputs (cin·outputs on the four-output loops, weighted as for depthwise) or tail_macs
// (cin·outputs·k·2⌈k/2⌉ on the other loop), and one of its own:
//   plane_sums           (cin − 1)·outputs: each further plane's sums added to the first's (a load, an add and a
//                        store per output and plane, whatever the kernel: without it the fit priced 3-channel first
//                        layers 13–17 % low)
//   valid_macs           general conv: MACs of the taps inside the input, what the portable path runs (cores
//                        without DSP skip the padding instead of copying zeros)
//   valid_row_outputs    general conv: Σ over outputs of the window rows inside the input (one dot product each on
//                        the portable path)
// Channel counts may be expectations (Dual); the "mod 4" and "multiple of 4" parts use their rounded values and
// carry no gradient, which is exact for the fixed network and a step function in between.
#pragma once

#include <cmath>
#include <cstdint>

#include "cost_models/kernel_path.h"
#include "cost_models/op_graph.h"
#include "mcunas_kernels.h"

namespace nas::cost_models {

// The row pitch, in int16 values, of a plane of an in_w-wide input padded by `pad`: the padded width, a spare
// column, rounded down to even (mcunas_plane_pitch, internal to deploy/kernels/plane_dsp.h; the depthwise kernel's
// scratch, one such plane, holds the two equal in tests/deploy/scratch_bytes_test.cpp).
inline int plane_pitch(int in_w, int pad) { return (in_w + 2 * pad + 2) & ~1; }
// The rows of such a plane: the padded height and one spare row (mcunas_plane_rows: TensorFlow's "same" padding at
// stride 2 pads one row more at the bottom).
inline int plane_rows(int in_h, int pad) { return in_h + 2 * pad + 1; }

// Input and output spatial size and the window of one call (1×1 for fully connected, whole map for global pooling).
// `kernel`, `stride` and `pad` are the height's (pad: the leading, top padding) and, unless the width's are set
// (a non-square window: DS-CNN's 10×4 first layer), the width's too; trailing pads follow from the output size.
struct CallShape {
  int32_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int32_t kernel = 1, stride = 1, pad = 0;
  int32_t kernel_w = 0, stride_w = 0, pad_w = -1;  // 0 / -1: the height's
  // reuse_conv: sub-vector length L, hash bits H, and clusters per sub-vector (measured on calibration images for
  // a fixed model, a fitted function of L and H in the search).
  int32_t sub_len = 0, hash_bits = 0;
  double reuse_rate = 1.0;
  int32_t kw() const { return kernel_w > 0 ? kernel_w : kernel; }
  int32_t sw() const { return stride_w > 0 ? stride_w : stride; }
  int32_t pw() const { return pad_w >= 0 ? pad_w : pad; }
};

// Σ over the output positions along one axis of the window's length inside the input.
inline double valid_along(int32_t in, int32_t out, int32_t kernel, int32_t stride, int32_t pad) {
  double total = 0;
  for (int32_t o = 0; o < out; ++o) {
    const int32_t begin = o * stride - pad, end = begin + kernel;
    total += (end < in ? end : in) - (begin > 0 ? begin : 0);
  }
  return total;
}
inline double valid_rows(const CallShape& s) { return valid_along(s.in_h, s.out_h, s.kernel, s.stride, s.pad); }

// Σ over output positions of the window taps that fall inside the input (kh·kw per position without padding).
inline double valid_taps(const CallShape& s) {
  return valid_rows(s) * valid_along(s.in_w, s.out_w, s.kw(), s.sw(), s.pw());
}

// Weight pairs per kernel row of the planes (deploy/kernels/plane_dsp.h): ⌈kw / 2⌉.
inline int32_t plane_pairs(const CallShape& s) { return (s.kw() + 1) / 2; }

// Whether the DSP path runs a general (not 1×1) convolution of `in_channels` on planes, the conv_planar path, or on
// im2col columns: the kernels' rule (deploy/kernels/conv_planar_dsp.h, mcunas_conv_planar and mcunas_plane_fits) —
// few input channels, a kernel the planes have a loop of their own for (3×3, 5×5, 7×7; DS-CNN's 10×4 runs twice as
// fast on the columns), its weight pairs within kPlaneMaxPairs, and every window inside planes padded by the
// leading padding on both sides and a spare row and column. The search's lowering and a fixed model's both ask it.
inline bool runs_on_planes(int32_t in_channels, const CallShape& s) {
  const bool own_loop = s.kernel == s.kw() && (s.kernel == 3 || s.kernel == 5 || s.kernel == 7);
  return own_loop && in_channels <= kConvPlanarMaxInputs && in_channels * s.kernel * plane_pairs(s) <= kPlaneMaxPairs &&
         (s.out_h - 1) * s.stride + s.kernel <= plane_rows(s.in_h, s.pad) &&
         (s.out_w - 1) * s.sw() + s.kw() + 1 <= plane_pitch(s.in_w, s.pw());
}
// The planes' four-outputs-per-pass loops in assembly (deploy/kernels/plane_dsp.h, which chooses them by the
// kernel's rows and pairs and the width's stride): 3×3 and 5×5 at stride 1 and 2 (stride 2 loads fewer words per
// kernel row; pricing it apart fitted no better for 5×5).
inline bool four_output_loop(const CallShape& s) {
  return (s.kernel == 3 && s.kw() == 3 && (s.sw() == 1 || s.sw() == 2)) ||
         (s.kernel == 5 && plane_pairs(s) == 3 && (s.sw() == 1 || s.sw() == 2));
}
// One output of those loops in units of a 3×3 output (1 for 3×3, 2.5 for 5×5): their work per output is two
// instructions per kernel row and weight pair, kh·⌈kw/2⌉ of them.
inline double four_output_loop_weight(const CallShape& s) { return s.kernel * plane_pairs(s) / 6.0; }
// Share of a plane's outputs those loops compute: the 5×5 loops and 3×3's at stride 2 leave each row's last out_w
// mod 4 outputs to the two-output loop (3×3's C loop at stride 1 for the rest costs about what its assembly does,
// so there every output counts).
inline double four_output_share(const CallShape& s) {
  return s.kernel == 3 && s.sw() == 1 ? 1.0 : static_cast<double>(s.out_w / 4 * 4) / s.out_w;
}

// Passes of the planes' sums and store loops over one output channel (deploy/kernels/plane_dsp.h): whole output
// rows while they fit its chunk of 64 sums, else each row in pieces of 64.
inline double plane_passes(const CallShape& s) {
  constexpr int32_t chunk = 64;
  if (s.out_w <= chunk) {
    const int32_t rows_per_pass = chunk / s.out_w;
    return static_cast<double>((s.out_h + rows_per_pass - 1) / rows_per_pass);
  }
  return static_cast<double>(s.out_h) * ((s.out_w + chunk - 1) / chunk);
}

namespace work_detail {
inline double value_of(double v) { return v; }
template <class S>
double value_of(const S& v) {
  return v.v;
}
inline double mod4(double v) { return std::fmod(std::round(v), 4.0); }
}  // namespace work_detail

// Sub-vectors of a reuse convolution's im2col rows (blocks of `len` of the k = kh·kw·cin values, the last shorter)
// that hold at least one tap inside the input, and their values rounded up to pairs: the kernel hashes those (a
// sub-vector wholly on the padding gets code 0 without work).
struct HashedSubvectors {
  double count = 0, pair_values = 0;
};
inline HashedSubvectors hashed_subvectors(const CallShape& s, int32_t in_c, int32_t len) {
  const int32_t kw = s.kw(), k = s.kernel * kw * in_c, blocks = (k + len - 1) / len;
  HashedSubvectors h;
  for (int32_t oy = 0; oy < s.out_h; ++oy) {
    const int32_t iy0 = oy * s.stride - s.pad;
    const int32_t ky_lo = iy0 < 0 ? -iy0 : 0, ky_hi = iy0 + s.kernel > s.in_h ? s.in_h - iy0 : s.kernel;
    for (int32_t ox = 0; ox < s.out_w; ++ox) {
      const int32_t ix0 = ox * s.sw() - s.pw();
      const int32_t kx_lo = ix0 < 0 ? -ix0 : 0, kx_hi = ix0 + kw > s.in_w ? s.in_w - ix0 : kw;
      for (int32_t j = 0; j < blocks; ++j) {
        const int32_t begin = j * len, end = begin + len < k ? begin + len : k;
        bool valid = false;  // a kernel row's taps inside the input are one run of values
        for (int32_t ky = ky_lo; ky < ky_hi && !valid && kx_lo < kx_hi; ++ky)
          valid = (ky * kw + kx_lo) * in_c < end && (ky * kw + kx_hi) * in_c > begin;
        if (valid) {
          h.count += 1;
          h.pair_values += 2 * ((end - begin + 1) / 2);
        }
      }
    }
  }
  return h;
}

// Output positions along one axis whose window lies wholly inside the input.
inline double inside_along(int32_t in, int32_t out, int32_t kernel, int32_t stride, int32_t pad) {
  double inside = 0;
  for (int32_t o = 0; o < out; ++o) inside += (o * stride - pad >= 0 && o * stride - pad + kernel <= in) ? 1 : 0;
  return inside;
}
// Sets op.macs (the nominal count reports show), op.outputs and the latency quantities for op.path.
template <class S>
void set_kernel_work(OpInfo<S>& op, const S& in_c, const S& out_c, const CallShape& s) {
  using work_detail::mod4;
  using work_detail::value_of;
  const double pixels = static_cast<double>(s.out_h) * s.out_w;
  const double k2 = static_cast<double>(s.kernel) * s.kw();  // taps per window
  op.pixels = S(pixels);
  switch (op.path) {
    case KernelPath::conv: {
      const double k_mod4 = mod4(k2 * value_of(in_c));
      op.macs = in_c * out_c * (pixels * k2);
      op.executed_macs = op.macs;
      op.outputs = out_c * pixels;
      const S patch = in_c * (pixels * k2);
      if (mod4(value_of(in_c)) == 0) {
        op.patch_values = patch;
      } else {
        op.scalar_patch_values = patch;
        op.scalar_taps = S(pixels * k2);
      }
      op.window_rows = S(pixels * s.kernel);
      op.tail_macs = op.outputs * k_mod4;
      // The tail loop's set-up runs once per output block whenever there is a tail at all: with 9 or 25 values
      // per output (a first layer's single channel) it weighs as much as the MACs.
      if (k_mod4 != 0) op.tail_outputs = op.outputs;
      op.valid_macs = in_c * out_c * valid_taps(s);
      op.valid_row_outputs = out_c * (valid_rows(s) * s.out_w);
      break;
    }
    case KernelPath::conv_planar: {
      const double pitch = plane_pitch(s.in_w, s.pw());
      op.macs = in_c * out_c * (pixels * k2);
      op.executed_macs = op.macs;
      op.outputs = out_c * pixels;
      op.valid_macs = in_c * out_c * valid_taps(s);
      op.valid_row_outputs = out_c * (valid_rows(s) * s.out_w);
      op.patch_values = in_c * (static_cast<double>(s.in_h) * s.in_w);
      op.scalar_taps = in_c * out_c * static_cast<double>(s.kernel * plane_pairs(s));  // weight pairs prepared
      op.scalar_patch_values = in_c * (plane_rows(s.in_h, s.pad) * pitch);
      op.window_rows = in_c * out_c * static_cast<double>(s.out_h);  // fits better than its passes
      const double four = four_output_loop(s) ? four_output_share(s) : 0.0;
      op.tail_outputs = in_c * op.outputs * (four * four_output_loop_weight(s));
      op.tail_macs = in_c * op.outputs * ((1 - four) * s.kernel * 2.0 * plane_pairs(s));
      op.plane_sums = (in_c - 1.0) * op.outputs;  // each further plane's sums added to the first's
      break;
    }
    case KernelPath::fully_connected: {
      // One pixel (deploy/kernels/conv_dsp.h, mcunas_conv_one_pixel): four rows at a time over the first in_c & ~7
      // values in the assembly loop, those rows' last in_c mod 8 values one by one in C (scalar_taps), the last
      // out_c mod 4 rows two at a time (tail_macs, tail_outputs), which splits each input word for two rows.
      const double in_r = std::round(value_of(in_c)), out_r = std::round(value_of(out_c));
      const double block_rows = 4.0 * std::floor(out_r / 4), rest_rows = std::fmod(out_r, 4.0);
      op.macs = in_c * out_c;
      op.executed_macs = op.macs;
      op.outputs = out_c;
      op.tail_macs = in_c * rest_rows;
      op.tail_outputs = S(rest_rows);
      op.scalar_taps = S(block_rows * std::fmod(in_r, 8.0));
      break;
    }
    case KernelPath::conv1x1:
      op.macs = in_c * out_c * pixels;
      op.executed_macs = op.macs;
      op.outputs = out_c * pixels;
      op.tail_macs = op.outputs * mod4(value_of(in_c));
      if (mod4(value_of(in_c)) != 0) op.tail_outputs = op.outputs;  // the tail loop's set-up, as for conv
      if (pixels > 1) {  // each pixel split into an int16 column once
        op.patch_values = in_c * pixels;
        op.scalar_patch_values = S(mod4(value_of(in_c)) * pixels);
      }
      break;
    case KernelPath::depthwise: {
      const double pitch = plane_pitch(s.in_w, s.pw());
      op.macs = in_c * (pixels * k2);
      op.executed_macs = op.macs;  // whole windows on the planes, the portable path's int8 ones too
      op.outputs = in_c * pixels;
      op.patch_values = in_c * (static_cast<double>(s.in_h) * s.in_w);
      op.scalar_patch_values = S(plane_rows(s.in_h, s.pad) * pitch);
      op.window_rows = in_c * plane_passes(s);
      op.scalar_taps = in_c * static_cast<double>(s.in_h + s.out_h);
      const double four = four_output_loop(s) ? four_output_share(s) : 0.0;
      op.tail_outputs = op.outputs * (four * four_output_loop_weight(s));
      op.tail_macs = in_c * (pixels * (1 - four) * s.kernel * 2.0 * plane_pairs(s));
      op.valid_row_outputs = op.outputs * ((1 - four) * s.kernel);
      break;
    }
    case KernelPath::depthwise_groups: {
      const double pitch = plane_pitch(s.in_w, s.pw());
      const double rest = mod4(value_of(in_c)), whole = (std::round(value_of(in_c)) - rest) / 4;
      const double groups = whole + (rest > 0 ? 1 : 0), in_pixels = static_cast<double>(s.in_h) * s.in_w;
      op.macs = in_c * (pixels * k2);
      op.executed_macs = op.macs;
      op.outputs = in_c * pixels;
      op.patch_values = S(4 * whole * in_pixels);
      op.scalar_patch_values = S(4.0 * plane_rows(s.in_h, s.pad) * pitch);
      op.window_rows = S(groups * k2);
      op.scalar_taps = S(groups * (s.in_h + s.out_h));
      if (rest > 0) {
        op.tail_macs = S(pixels * k2);
        op.tail_outputs = S(rest * pixels);
        op.plane_sums = S(in_pixels);
      }
      break;
    }
    case KernelPath::max_pool:
    case KernelPath::avg_pool:
      op.macs = in_c * (pixels * k2);
      op.executed_macs = in_c * valid_taps(s);
      op.outputs = in_c * pixels;
      break;
    case KernelPath::global_avg_pool:  // one accumulate per input element
      op.macs = in_c * (static_cast<double>(s.in_h) * s.in_w);
      op.executed_macs = op.macs;
      op.outputs = in_c;
      break;
    case KernelPath::reuse_conv: {
      const S row = in_c * k2;  // K
      const double k = std::round(value_of(row)), len = s.sub_len;
      const double blocks = std::ceil(k / len - 1e-9), last = k - (blocks - 1) * len;
      const double groups = (blocks - 1) * std::ceil(len / 4) + std::ceil(last / 4);
      const double border = pixels - inside_along(s.in_h, s.out_h, s.kernel, s.stride, s.pad) *
                                         inside_along(s.in_w, s.out_w, s.kw(), s.sw(), s.pw());
      op.macs = row * out_c * pixels;  // the dense convolution's, which reports compare with
      const HashedSubvectors hashed = hashed_subvectors(s, static_cast<int32_t>(std::round(value_of(in_c))), s.sub_len);
      op.executed_macs = S(hashed.pair_values * s.hash_bits);
      op.valid_macs = S(hashed.pair_values);
      op.patch_values = row * pixels;
      op.scalar_taps = S(pixels * blocks);
      op.scalar_patch_values = S(border * blocks);
      op.tail_outputs = S(blocks);
      op.plane_sums = row * (pixels * s.reuse_rate);
      op.tail_macs = op.plane_sums * out_c;
      op.valid_row_outputs = out_c * groups;
      op.window_rows = out_c * (pixels * blocks);
      op.outputs = out_c * pixels;
      break;
    }
    case KernelPath::add:  // element-wise: no MAC, one requantisation per output
      op.macs = in_c * pixels;
      op.outputs = in_c * pixels;
      if (std::round(value_of(op.macs)) >= MCUNAS_ADD_TABLE_MIN_SIZE) {
        op.tail_macs = op.macs;  // the table's loop (about 10 instructions an element)
        op.window_rows = S(1.0);  // the table built
      } else {
        op.executed_macs = op.macs;  // rescaled element by element (about 34)
      }
      break;
  }
}

}  // namespace nas::cost_models
