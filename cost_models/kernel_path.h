// The kernel paths a lowered network runs through. Each path is one int8 kernel family (CMSIS-NN style) with its
// own latency coefficients and code size in a target file; one table holds the names so the YAML keys, reports and
// the enum cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace nas::cost_models {

// conv_planar: a general convolution with at most MCUNAS_CONV_PLANAR_MAX_IN (3) input channels, a first layer,
// which the DSP path runs through one int16 plane per input channel instead of im2col columns.
// depthwise_groups: a depthwise convolution on a narrow map, whose DSP path runs four channels at a time
// (mcunas_depthwise_conv_s8_groups) instead of one plane per channel.
// reuse_conv: a convolution with transient redundancy elimination (mcunas_reuse_conv_s8: im2col sub-vectors hashed
// and clustered, one product per cluster).
enum class KernelPath {
  conv,
  conv1x1,
  depthwise,
  fully_connected,
  max_pool,
  avg_pool,
  global_avg_pool,
  add,
  conv_planar,
  depthwise_groups,
  reuse_conv
};

inline constexpr size_t kKernelPathCount = 11;
// The largest input channel count of conv_planar: deploy/kernels' MCUNAS_CONV_PLANAR_MAX_IN (held equal by
// tests/deploy/scratch_bytes_test.cpp).
inline constexpr int kConvPlanarMaxInputs = 3;
// The planes' weight pairs per output channel: deploy/kernels' MCUNAS_PLANE_MAX_PAIRS (held equal there too).
inline constexpr int kPlaneMaxPairs = 48;

// Names in enum order; they are the keys under `latency:` and `code_bytes:` in a target YAML.
inline constexpr std::array<std::string_view, kKernelPathCount> kKernelPathNames = {
    "conv", "conv1x1", "depthwise", "fully_connected", "max_pool", "avg_pool", "global_avg_pool", "add",
    "conv_planar", "depthwise_groups", "reuse_conv"};

static_assert(static_cast<size_t>(KernelPath::reuse_conv) + 1 == kKernelPathCount, "one name per kernel path");

constexpr size_t index_of(KernelPath path) { return static_cast<size_t>(path); }

// The kernel source a path runs: conv, conv_planar, conv1x1 and fully connected are all mcunas_conv_s8
// (conv_s8.c), max and average pooling share pool_s8.c. Kernel code is linked once per source file that any layer
// uses, so flash counts it once per family.
inline constexpr size_t kKernelFamilyCount = 6;
constexpr size_t family_of(KernelPath path) {
  switch (path) {
    case KernelPath::conv:
    case KernelPath::conv_planar:
    case KernelPath::conv1x1:
    case KernelPath::fully_connected: return 0;
    case KernelPath::depthwise:
    case KernelPath::depthwise_groups: return 1;
    case KernelPath::max_pool:
    case KernelPath::avg_pool: return 2;
    case KernelPath::global_avg_pool: return 3;
    case KernelPath::add: return 4;
    case KernelPath::reuse_conv: return 5;
  }
  return 0;
}
constexpr std::string_view name_of(KernelPath path) { return kKernelPathNames[index_of(path)]; }

}  // namespace nas::cost_models
