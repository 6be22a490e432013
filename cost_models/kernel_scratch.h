// The scratch buffer of each kernel path, taken from the kernel's own `mcunas_*_scratch_bytes`
// (deploy/kernels/mcunas_kernels.h) through one table (kernel_scratch.cpp): the search's lowering, the fixed
// network's reports and the arena plan reserve exactly what the firmware asks for, and no formula is written a
// second time. The kernels return their DSP path's sizes on every build, so one lowered graph serves every target
// and never under-reserves the arena.
#pragma once

#include <cmath>
#include <cstdint>

#include "cost_models/kernel_path.h"
#include "cost_models/kernel_work.h"
#include "mcunas_kernels.h"

namespace nas::cost_models {

// What a kernel's scratch size is computed from, in the kernels' own terms: the call's input and filter shapes
// (filter c = input channels, as the kernels take them), its convolution parameters, and for add the values per
// input; a reuse convolution also its output and its sub-vector length and hash bits (its scratch holds int32 sums
// of every output). The fields a path does not read may stay zero.
struct ScratchCall {
  mcunas_dims input{}, filter{};
  mcunas_conv_params conv{};
  int32_t elements = 0;
  mcunas_dims output{};
  mcunas_reuse_params reuse{};
};

// The bytes the kernel of `path` asks for on `call`.
int32_t kernel_scratch_bytes(KernelPath path, const ScratchCall& call);

// The value of a channel count that may be a Dual.
inline double scalar_value(double v) { return v; }
template <class S>
double scalar_value(const S& v) {
  return v.v;
}

// The same for a soft input channel count (an expectation during search): linear between the kernel's sizes at the
// two whole counts around it (between_whole_counts, with `at` the size at a whole count), so it is the kernel's own
// figure for a fixed network and its slope per channel carries the gradient in between. `call` gives everything
// else; its channel fields are set here (input and filter c, and for add the elements of an in_h × in_w × c input).
template <class S, class At>
S between_whole_counts(const S& count, At&& at) {
  const double c = scalar_value(count);
  const auto below = static_cast<int32_t>(std::floor(c));
  const int32_t n = below < 1 ? 1 : below;
  const double low = at(n);
  if (c == static_cast<double>(n)) return S(low);
  return (count - static_cast<double>(n)) * (at(n + 1) - low) + low;
}

template <class S>
S kernel_scratch_bytes(KernelPath path, ScratchCall call, const S& in_channels) {
  return between_whole_counts(in_channels, [&](int32_t channels) {
    call.input.c = channels;
    call.filter.c = channels;
    call.elements = call.input.h * call.input.w * channels;
    return static_cast<double>(kernel_scratch_bytes(path, call));
  });
}

// A reuse convolution's scratch holds int32 sums of every output, so it follows the soft output channel count the
// same way; `call` has the input, filter, output shape and reuse parameters (channel counts set here).
template <class S>
S reuse_scratch_bytes(ScratchCall call, int32_t in_channels, const S& out_channels) {
  call.input.c = call.filter.c = in_channels;
  return between_whole_counts(out_channels, [&](int32_t channels) {
    call.output.c = channels;
    return static_cast<double>(kernel_scratch_bytes(KernelPath::reuse_conv, call));
  });
}

// Whether the kernel of `path` may write an out_h × out_w output over its input on `call` (in place, as TinyEngine
// does): the kernels' own answer (mcunas_depthwise_conv_s8_in_place: an output of the input's shape, through a
// channel plane on every path), so the planners never put an output where the kernel cannot take it. No other
// path may. Channel counts do not matter.
bool may_write_over_input(KernelPath path, ScratchCall call, int32_t out_h, int32_t out_w);

// Whether a depthwise call of `channels` channels and shape s takes the depthwise_groups path: the kernel's own
// answer (mcunas_depthwise_conv_s8_groups), asked by the search's lowering and by a fixed model alike.
bool depthwise_runs_in_groups(int32_t channels, const CallShape& s);

// A convolution-shaped call (conv, conv1x1, conv_planar, depthwise, fully connected as a 1×1 convolution of a
// 1×1 input, pooling over a k×k window): an in_h × in_w input, a square k×k window at `stride`, `pad` leading
// padding on both axes. Channel counts are filled in by kernel_scratch_bytes; no kernel's scratch depends on the
// output channel count, so the filter holds one.
inline ScratchCall conv_scratch_call(int32_t in_h, int32_t in_w, int32_t kernel, int32_t stride, int32_t pad) {
  ScratchCall call;
  call.input = {1, in_h, in_w, 0};
  call.filter = {1, kernel, kernel, 0};
  call.conv = {stride, stride, pad, pad, 0, 0, -128, 127};
  return call;
}

}  // namespace nas::cost_models
