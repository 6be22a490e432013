// A small search space and a synthetic target shared by the cost-model tests: four blocks with a skip, depthwise
// separable candidates, a 1×1 conv and two stride-2 blocks on an odd-sized input (so ceil(H/stride) matters).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cost_models/arch_view.h"
#include "cost_models/target.h"
#include "supernet/search_space.h"

namespace nas::cost_models::test {

using supernet::OpCandidate;
using supernet::OpKind;

inline supernet::SearchSpace small_space() {
  supernet::SearchSpace space;
  space.blocks.push_back({"b1", 8, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 3}}});
  space.blocks.push_back({"b2", 16, 2, {{OpKind::conv, 3}, {OpKind::conv, 5}, {OpKind::dwsep, 5}}});
  space.blocks.push_back({"b3", 16, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 3}, {OpKind::skip, 0}}});
  space.blocks.push_back({"b4", 16, 2, {{OpKind::conv, 1}, {OpKind::dwsep, 3}}});
  return space;
}

inline supernet::Shape small_input() { return {1, 9, 9, 2}; }
inline constexpr int32_t kClasses = 10;

// Round numbers, distinct per path, so a hand computation is easy to follow.
inline Target synthetic_target() {
  Target t;
  t.name = "synthetic";
  t.core = "cortex-m4f";
  t.clock_hz = 1e6;
  t.sram_bytes = 1 << 20;
  t.flash_bytes = 1 << 21;
  t.ram_reserved_bytes = 1000;
  t.flash_reserved_bytes = 2000;
  t.active_power_w = 0.5;
  for (size_t p = 0; p < kKernelPathCount; ++p) {
    t.latency[p] = {1.0 + static_cast<double>(p), 10.0 + static_cast<double>(p), 100.0 * static_cast<double>(p + 1)};
    t.code_bytes[p] = 1000 * static_cast<int64_t>(p + 1);
  }
  t.per_layer_code_bytes = 50;
  return t;
}

// A random fixed architecture of `space` (skip and residual joins keep their input's channels; `input_channels` is
// the image's).
inline supernet::FixedArch random_arch(const supernet::SearchSpace& space, int32_t input_channels, std::mt19937& rng) {
  supernet::FixedArch arch;
  arch.input_channels = input_channels;
  int32_t in = input_channels;
  for (const auto& block : space.blocks) {
    const auto& op = block.ops[std::uniform_int_distribution<size_t>(0, block.ops.size() - 1)(rng)];
    const int32_t out =
        op.keeps_input_channels() ? in : std::uniform_int_distribution<int32_t>(1, block.out_channels)(rng);
    arch.blocks.push_back({block.name, op, out, block.stride});
    in = out;
  }
  return arch;
}

}  // namespace nas::cost_models::test
