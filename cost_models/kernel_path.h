// The kernel paths a lowered network runs through. Each path is one int8 kernel family (CMSIS-NN style) with its
// own latency coefficients and code size in a target file; one table holds the names so the YAML keys, reports and
// the enum cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace nas::cost_models {

enum class KernelPath { conv, conv1x1, depthwise, fully_connected, max_pool, avg_pool, global_avg_pool, add };

inline constexpr size_t kKernelPathCount = 8;

// Names in enum order; they are the keys under `latency:` and `code_bytes:` in a target YAML.
inline constexpr std::array<std::string_view, kKernelPathCount> kKernelPathNames = {
    "conv", "conv1x1", "depthwise", "fully_connected", "max_pool", "avg_pool", "global_avg_pool", "add"};

static_assert(static_cast<size_t>(KernelPath::add) + 1 == kKernelPathCount, "one name per kernel path");

constexpr size_t index_of(KernelPath path) { return static_cast<size_t>(path); }
constexpr std::string_view name_of(KernelPath path) { return kKernelPathNames[index_of(path)]; }

}  // namespace nas::cost_models
