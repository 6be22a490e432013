// The four costs of a lowered network on a target, written once over the scalar type (DESIGN.md, "One cost
// formula, two uses"): double prices a fixed network, Dual gives the search its gradient.
//   arena   = peak_ram(graph) (memory_planner.h)
//   model flash = Σ presence·(weights + biases + qparams + per-layer code)
//               + Σ_families kernel code · P(family used), P = 1 − Π_ops of the family (1 − presence); a family is
//                 one kernel source (kernel_path.h), its code the largest code_bytes of its paths
//   latency = Σ presence·cycles(op) / clock, cycles = the path's linear model over kernel_work.h's quantities
//   energy  = latency · active power
// ram_bytes and flash_bytes add what the firmware itself keeps (Target::*_reserved_bytes), so a budget such as
// `--max-ram 256K` compares against the whole board's use; arena_bytes and model_flash_bytes are the model's own
// share, for reports. P(path used) treats ops as independent, which is exact for one-hot presences; within one
// block the alternatives are exclusive, so a soft estimate of shared kernel code is slightly low there.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "cost_models/arch_view.h"
#include "cost_models/dual.h"
#include "cost_models/memory_planner.h"
#include "cost_models/op_graph.h"
#include "cost_models/target.h"
#include "supernet/search_space.h"

namespace nas::cost_models {

template <class S>
struct Costs {
  S flash_bytes{};        // model flash + target.flash_reserved_bytes
  S ram_bytes{};          // arena + target.ram_reserved_bytes
  S latency_s{};          // one inference
  S energy_j{};           // one inference at active power
  S arena_bytes{};        // model's peak activation + scratch bytes
  S model_flash_bytes{};  // weights, biases, qparams and kernel code of the model
  S macs{};               // multiply-accumulates per inference (OpInfo::macs: pooling counts the elements it reads)
  S params{};             // int8 weights + int32 biases, counted as values
};

// Cycles of one call of `op` if it runs (presence not applied): the linear latency model of its kernel path over
// the quantities of kernel_work.h.
template <class S>
S op_cycles(const OpInfo<S>& op, const Target& target) {
  const auto& c = target.latency_of(op.path);
  return op.executed_macs * c.per_mac + op.outputs * c.per_output + op.pixels * c.per_pixel +
         op.patch_values * c.per_patch_value + op.scalar_patch_values * c.per_scalar_patch_value +
         op.window_rows * c.per_window_row + op.tail_macs * c.per_tail_mac + op.tail_outputs * c.per_tail_output +
         op.valid_macs * c.per_valid_mac + op.valid_row_outputs * c.per_valid_row_output +
         op.scalar_taps * c.per_scalar_tap + op.plane_sums * c.per_plane_sum + S(c.per_call);
}

// Flash bytes of `op`'s parameters and call site if it runs (presence not applied; kernel code excluded).
template <class S>
S op_flash_bytes(const OpInfo<S>& op, const Target& target) {
  return op.weight_bytes + op.bias_bytes + op.qparam_bytes + S(static_cast<double>(target.per_layer_code_bytes));
}

template <class S>
Costs<S> estimate(const OpGraph<S>& graph, const Target& target) {
  S cycles(0.0);
  S flash(0.0);
  S macs(0.0), params(0.0);
  std::array<S, kKernelFamilyCount> family_unused;  // Π (1 − presence) over the ops of the family's paths
  family_unused.fill(S(1.0));
  for (const auto& op : graph.ops) {
    cycles += op.presence * op_cycles(op, target);
    flash += op.presence * op_flash_bytes(op, target);
    macs += op.presence * op.macs;
    params += op.presence * (op.weight_bytes + op.bias_bytes / 4.0);  // int8 weights, int32 biases
    family_unused[family_of(op.path)] *= 1.0 - op.presence;
  }
  std::array<double, kKernelFamilyCount> family_code{};  // the largest code_bytes among the family's paths
  for (size_t p = 0; p < kKernelPathCount; ++p) {
    double& code = family_code[family_of(static_cast<KernelPath>(p))];
    code = std::max(code, static_cast<double>(target.code_bytes[p]));
  }
  for (size_t f = 0; f < kKernelFamilyCount; ++f) flash += (1.0 - family_unused[f]) * family_code[f];

  Costs<S> costs;
  costs.arena_bytes = peak_ram(graph);
  costs.model_flash_bytes = flash;
  costs.ram_bytes = costs.arena_bytes + static_cast<double>(target.ram_reserved_bytes);
  costs.flash_bytes = flash + static_cast<double>(target.flash_reserved_bytes);
  costs.latency_s = cycles / target.clock_hz;
  costs.energy_j = costs.latency_s * target.active_power_w;
  costs.macs = macs;
  costs.params = params;
  return costs;
}

// The exact costs of a fixed architecture: fixed_view, lower<double>, estimate. Throws nas::Error when the
// architecture does not belong to the space.
Costs<double> exact_costs(const supernet::SearchSpace& space, const supernet::FixedArch& arch, supernet::Shape input,
                          int32_t classes, const Target& target);

}  // namespace nas::cost_models
