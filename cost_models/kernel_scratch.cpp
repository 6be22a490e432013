#include "cost_models/kernel_scratch.h"

namespace nas::cost_models {

// One row per kernel path: the scratch function of the kernel that path runs. A switch without a default, so a
// new path that has no row here fails to compile (-Wswitch, -Werror). Fully connected runs as a 1×1 convolution of
// a 1×1 input (deploy/int8_model.h), so it asks what mcunas_conv_s8 asks.
int32_t kernel_scratch_bytes(KernelPath path, const ScratchCall& c) {
  switch (path) {
    case KernelPath::conv:
    case KernelPath::conv1x1:
    case KernelPath::conv_planar:
    case KernelPath::fully_connected: return mcunas_conv_s8_scratch_bytes(&c.conv, &c.input, &c.filter);
    case KernelPath::depthwise:
    case KernelPath::depthwise_groups: return mcunas_depthwise_conv_s8_scratch_bytes(&c.conv, &c.input, &c.filter);
    case KernelPath::max_pool: return mcunas_max_pool_s8_scratch_bytes(&c.input);
    case KernelPath::avg_pool: return mcunas_avg_pool_s8_scratch_bytes(&c.input);
    case KernelPath::global_avg_pool: return mcunas_global_avg_pool_s8_scratch_bytes(&c.input);
    case KernelPath::add: return mcunas_add_s8_scratch_bytes(c.elements);
    case KernelPath::reuse_conv: return mcunas_reuse_conv_s8_scratch_bytes(&c.reuse, &c.input, &c.filter, &c.output);
  }
  return 0;
}

bool may_write_over_input(KernelPath path, ScratchCall call, int32_t out_h, int32_t out_w) {
  if (path != KernelPath::depthwise && path != KernelPath::depthwise_groups) return false;
  call.input.c = 1;
  call.filter.c = 1;
  const mcunas_dims out{call.input.n, out_h, out_w, 1};
  return mcunas_depthwise_conv_s8_in_place(&call.conv, &call.input, &call.filter, &out) != 0;
}

bool depthwise_runs_in_groups(int32_t channels, const CallShape& s) {
  const mcunas_conv_params conv{s.stride, s.sw(), s.pad, s.pw(), 0, 0, -128, 127};
  const mcunas_dims input{1, s.in_h, s.in_w, channels}, filter{1, s.kernel, s.kw(), channels},
      output{1, s.out_h, s.out_w, channels};
  return mcunas_depthwise_conv_s8_groups(&conv, &input, &filter, &output) != 0;
}

}  // namespace nas::cost_models
