// A network lowered to int8 kernel calls in execution order: the one structure the memory planner and the cost
// formulas read. Generic over the scalar S (double for a fixed net, Dual during search), so sizes may be
// expectations over the soft architecture.
//
// Alternatives: ops of a searchable block are the block's candidate operators, of which exactly one runs (or none,
// for skip). They share a `group` (the block) and each candidate has its own `choice` index; `presence` is the
// candidate's probability. The memory planner prices a group as the expectation over its choices of each choice's
// own peak (memory_planner.h); latency and flash weight each op by its presence. Ops outside any group
// (group = -1) always run, with presence 1.
#pragma once

#include <cstdint>
#include <utility>
#include <string>
#include <vector>

#include "cost_models/kernel_path.h"

namespace nas::cost_models {

template <class S>
struct TensorInfo {
  std::string name;
  S bytes{};  // int8 activations: H·W·C bytes (the network input included)
};

template <class S>
struct OpInfo {
  std::string name;
  KernelPath path = KernelPath::conv;
  std::vector<int32_t> inputs;  // tensor ids
  int32_t output = -1;          // tensor id
  int32_t group = -1;           // -1: always runs; else the set of alternatives it belongs to
  int32_t choice = 0;           // which alternative of the group (ops of one choice run together)
  S presence{1.0};              // probability the op runs
  S macs{};                     // multiply-accumulates (pooling: input elements read)
  S outputs{};                  // output elements
  // What the latency model prices (kernel_work.h sets them all, with macs and outputs).
  S executed_macs{}, pixels{}, patch_values{}, scalar_patch_values{}, window_rows{}, tail_macs{}, tail_outputs{};
  S valid_macs{}, valid_row_outputs{}, scalar_taps{}, plane_sums{};
  S weight_bytes{};             // int8 weights
  S bias_bytes{};               // int32 per output channel
  S qparam_bytes{};             // per-channel requantisation: int32 multiplier + int32 shift
  S scratch_bytes{};            // kernel scratch buffer, live only during this op (kernel_scratch.h)
  // The kernel may write its output over its single input (kernel_scratch.h, may_write_over_input): the planners
  // place it there when the input dies at this op (memory_planner.h).
  bool writes_over_input = false;
};

template <class S>
struct OpGraph {
  std::vector<TensorInfo<S>> tensors;
  std::vector<OpInfo<S>> ops;  // execution order
  int32_t input = -1;          // live from the start
  int32_t output = -1;         // live until the end

  int32_t add_tensor(std::string name, S bytes) {
    tensors.push_back({std::move(name), std::move(bytes)});
    return static_cast<int32_t>(tensors.size()) - 1;
  }
};

}  // namespace nas::cost_models
