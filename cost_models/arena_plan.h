// Offsets inside one arena for every activation tensor and scratch buffer of a fixed network: the static memory
// plan the host executor and the generated C use. It reads the same op graph and live intervals as peak_ram
// (memory_planner.h): a tensor lives from the op that writes it (the graph input from the start) to the last op
// that reads it (the graph output to the end), a scratch buffer only during its op. Buffers whose lives overlap
// get disjoint byte ranges, except that an op writing over its input (in-place depthwise, memory_planner.h) puts its
// output at its input's offset.
//
// The lower bound on any arena is the largest number of bytes live at once, which is what peak_ram prices. Two
// layouts are tried and the smaller kept:
//  - two-ended, for chains (each op reads only the previous op's output, the shape of every network of the search
//    space): tensors alternate between the bottom and the top of the arena and each op's scratch sits between its
//    input and its output, so the arena is exactly the lower bound;
//  - greedy, for any other graph (residual joins): each buffer at the lowest offset clear of the buffers it
//    overlaps in time, in two orders — largest first (as TFLite Micro's greedy planner does) and longest-lived
//    first (a residual block's input, alive through the block, settles at one end) — the smaller kept. This meets
//    the lower bound on every inverted-residual network of tests/deploy/export_costs_test.cpp and
//    tests/integration/mbconv_firmware_test.sh; where it does not, nas profile shows the arena above the estimate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cost_models/op_graph.h"

namespace nas::cost_models {

struct ArenaPlan {
  std::vector<int64_t> tensor_offset;   // per tensor; -1 for a tensor no op reads or writes
  std::vector<int64_t> scratch_offset;  // per op; -1 when the op has no scratch
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;        // max over the schedule of bytes live at once (== peak_ram of the graph)
  std::string layout;                   // "two-ended", "greedy by size" or "greedy by lifetime"
};

// Plans a fixed graph: every op runs with presence 1 or 0 (a fixed network lowered through the search space keeps
// its blocks' other alternatives at 0; they are left out) and every size is a whole number of bytes; anything else
// throws nas::Error (failure). scratch_offset is -1 for ops left out.
ArenaPlan plan_arena(const OpGraph<double>& graph);

// Empty when the plan is sound (every buffer inside the arena, no two buffers alive at once share a byte), else
// the first clash in words. The planner's tests and the executor's checks call it.
std::string plan_violation(const OpGraph<double>& graph, const ArenaPlan& plan);

}  // namespace nas::cost_models
