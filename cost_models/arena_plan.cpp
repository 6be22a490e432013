#include "cost_models/arena_plan.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "cost_models/memory_planner.h"

namespace nas::cost_models {

namespace {

// A tensor or a scratch buffer with its life over the schedule (op indices, inclusive).
struct Buffer {
  int64_t bytes = 0;
  int32_t first = 0, last = 0;
  bool scratch = false;
  int32_t index = 0;  // tensor id or op index
};

int64_t whole_bytes(double bytes, const std::string& what) {
  const double rounded = std::round(bytes);
  if (bytes < 0 || std::abs(bytes - rounded) > 1e-9)
    throw Error("arena plan", what + " has " + std::to_string(bytes) + " bytes; a fixed network has whole, "
                                     "non-negative sizes", Error::Kind::failure);
  return static_cast<int64_t>(rounded);
}

// Every tensor's life over the schedule, and the tensor whose bytes hold it: itself, or for the output of an op that
// writes over its input (memory_planner.h, overwritten_input) that input's holder. Computed once per graph; the
// buffers, both layouts and the plan's check read it.
struct Residence {
  std::vector<planner_detail::Interval> lives;
  std::vector<int32_t> holder;
};

Residence residence_of(const OpGraph<double>& g) {
  Residence r{planner_detail::intervals(g, [](int32_t) { return true; }), std::vector<int32_t>(g.tensors.size())};
  for (size_t t = 0; t < r.holder.size(); ++t) r.holder[t] = static_cast<int32_t>(t);
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const int32_t t = planner_detail::overwritten_input(g, r.lives, static_cast<int32_t>(j));
    if (t >= 0) r.holder[static_cast<size_t>(g.ops[j].output)] = r.holder[static_cast<size_t>(t)];
  }
  return r;
}

bool held_elsewhere(const Residence& r, size_t t) { return r.holder[t] != static_cast<int32_t>(t); }

// One buffer per holding tensor, alive from its birth to the last death of the tensors it holds, and one per
// scratch.
std::vector<Buffer> buffers_of(const OpGraph<double>& g, const Residence& r) {
  const auto& iv = r.lives;
  std::vector<Buffer> out;
  std::vector<size_t> buffer_of(g.tensors.size(), 0);
  for (size_t t = 0; t < iv.size(); ++t)
    if (iv[t].exists && !held_elsewhere(r, t)) {
      buffer_of[t] = out.size();
      out.push_back({whole_bytes(g.tensors[t].bytes, "tensor '" + g.tensors[t].name + "'"), iv[t].birth,
                     iv[t].death, false, static_cast<int32_t>(t)});
    }
  for (size_t t = 0; t < iv.size(); ++t)
    if (iv[t].exists && held_elsewhere(r, t)) {
      Buffer& held_in = out[buffer_of[static_cast<size_t>(r.holder[t])]];
      held_in.last = std::max(held_in.last, iv[t].death);
    }
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const int64_t bytes = whole_bytes(g.ops[j].scratch_bytes, "the scratch of op '" + g.ops[j].name + "'");
    if (bytes > 0) out.push_back({bytes, static_cast<int32_t>(j), static_cast<int32_t>(j), true, static_cast<int32_t>(j)});
  }
  return out;
}

bool overlap_in_time(const Buffer& a, const Buffer& b) { return a.first <= b.last && b.first <= a.last; }

int64_t& offset_of(ArenaPlan& plan, const Buffer& b) {
  return b.scratch ? plan.scratch_offset[b.index] : plan.tensor_offset[b.index];
}

ArenaPlan empty_plan(const OpGraph<double>& g) {
  ArenaPlan plan;
  plan.tensor_offset.assign(g.tensors.size(), -1);
  plan.scratch_offset.assign(g.ops.size(), -1);
  return plan;
}

// Each buffer in `order` at the lowest offset clear of the already placed buffers it overlaps in time.
ArenaPlan first_fit(const OpGraph<double>& g, const Residence& r, const std::vector<Buffer>& buffers,
                    const std::vector<size_t>& order, const std::string& layout) {
  ArenaPlan plan = empty_plan(g);
  plan.layout = layout;
  std::vector<size_t> placed;
  for (const size_t i : order) {
    const Buffer& b = buffers[i];
    std::vector<std::pair<int64_t, int64_t>> taken;  // [begin, end) of placed buffers alive with b
    for (const size_t k : placed)
      if (overlap_in_time(b, buffers[k])) {
        const int64_t begin = offset_of(plan, buffers[k]);
        taken.emplace_back(begin, begin + buffers[k].bytes);
      }
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : taken) {
      if (offset + b.bytes <= begin) break;  // fits in the gap below this one
      offset = std::max(offset, end);
    }
    offset_of(plan, b) = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + b.bytes);
    placed.push_back(i);
  }
  for (size_t t = 0; t < r.holder.size(); ++t)  // a tensor written over its input at that input's offset
    if (held_elsewhere(r, t)) plan.tensor_offset[t] = plan.tensor_offset[static_cast<size_t>(r.holder[t])];
  return plan;
}

// The buffers sorted by `before`, ties kept in index order.
template <class Before>
std::vector<size_t> sorted_buffers(const std::vector<Buffer>& buffers, Before before) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return before(buffers[a], buffers[b]); });
  return order;
}

// Largest first (TFLite Micro's greedy planner), longest-lived first (a residual branch's input, alive through the
// whole block, then settles at one end and the block's short-lived tensors pack around it), largest bytes × life
// first, and in order of birth; the smallest kept. (The first two alone missed the liveness bound by 648 bytes on
// an inverted-residual network once the depthwise group planes made its scratch buffers large:
// tests/deploy/export_costs_test.cpp.)
ArenaPlan greedy(const OpGraph<double>& g, const Residence& r, const std::vector<Buffer>& buffers) {
  ArenaPlan best;
  auto consider = [&](auto before, const char* layout) {  // an order's layout replaces a larger one, ties kept
    ArenaPlan plan = first_fit(g, r, buffers, sorted_buffers(buffers, before), layout);
    if (best.layout.empty() || plan.arena_bytes < best.arena_bytes) best = std::move(plan);
  };
  consider([](const Buffer& a, const Buffer& b) { return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first; },
           "greedy by size");
  consider(
      [](const Buffer& a, const Buffer& b) {
        const int32_t life_a = a.last - a.first, life_b = b.last - b.first;
        if (life_a != life_b) return life_a > life_b;
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first;
      },
      "greedy by lifetime");
  consider(
      [](const Buffer& a, const Buffer& b) {
        const int64_t area_a = a.bytes * (a.last - a.first + 1), area_b = b.bytes * (b.last - b.first + 1);
        return area_a != area_b ? area_a > area_b : a.first < b.first;
      },
      "greedy by area");
  consider([](const Buffer& a, const Buffer& b) { return a.first != b.first ? a.first < b.first : a.bytes > b.bytes; },
           "in order of birth");
  return best;
}

// Tensor ids t_0 .. t_n along a chain (op j reads exactly t_j and writes t_{j+1}), or empty when the graph is not
// one.
std::vector<int32_t> chain_of(const OpGraph<double>& g) {
  std::vector<int32_t> chain{g.input};
  for (const auto& op : g.ops) {
    if (op.inputs.size() != 1 || op.inputs[0] != chain.back()) return {};
    for (const int32_t t : chain)
      if (t == op.output) return {};
    chain.push_back(op.output);
  }
  if (g.output != chain.back()) return {};
  return chain;
}

// Tensors alternate between the bottom (offset 0) and the top (flush with the arena's end); an op that writes over
// its input leaves its output in the input's place, and its scratch goes above what sits at the bottom.
ArenaPlan two_ended(const OpGraph<double>& g, const Residence& r, const std::vector<int32_t>& chain, int64_t arena) {
  ArenaPlan plan = empty_plan(g);
  plan.layout = "two-ended";
  plan.arena_bytes = arena;
  auto bytes = [&](int32_t t) { return static_cast<int64_t>(std::round(g.tensors[t].bytes)); };
  std::vector<bool> top(chain.size(), false);
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const bool in_place = held_elsewhere(r, static_cast<size_t>(chain[j + 1]));
    top[j + 1] = in_place ? top[j] : !top[j];
    if (g.ops[j].scratch_bytes > 0)
      plan.scratch_offset[j] = in_place ? (top[j] ? 0 : bytes(chain[j])) : bytes(top[j] ? chain[j + 1] : chain[j]);
  }
  for (size_t j = 0; j < chain.size(); ++j) plan.tensor_offset[chain[j]] = top[j] ? arena - bytes(chain[j]) : 0;
  return plan;
}

// The ops that run: a fixed network lowered through the search space keeps its blocks' alternatives with
// presence 0 or 1 (op_graph.h); the ones that do not run are dropped. A block where none runs (skip) passes its
// input on: later readers of its output read its input instead (`alias`). Tensor ids are kept.
struct RunningOps {
  OpGraph<double> graph;
  std::vector<int32_t> alias;  // per tensor: the tensor holding its values
};

RunningOps running_ops(const OpGraph<double>& g) {
  OpGraph<double> out;
  out.tensors = g.tensors;
  out.input = g.input;
  out.output = g.output;
  std::vector<int32_t> alias(g.tensors.size());
  for (size_t t = 0; t < alias.size(); ++t) alias[t] = static_cast<int32_t>(t);
  for (size_t j = 0; j < g.ops.size();) {
    size_t end = j + 1;  // one op, or a whole group of alternatives
    while (g.ops[j].group >= 0 && end < g.ops.size() && g.ops[end].group == g.ops[j].group) ++end;
    bool any_runs = false;
    for (size_t k = j; k < end; ++k) {
      const auto& op = g.ops[k];
      if (op.presence != 0.0 && op.presence != 1.0)
        throw Error("arena plan", "op '" + op.name + "' runs with probability " + std::to_string(op.presence) +
                                      "; plan a fixed network", Error::Kind::failure);
      if (op.presence == 0.0) continue;
      any_runs = true;
      out.ops.push_back(op);
      out.ops.back().group = -1;
      for (auto& t : out.ops.back().inputs) t = alias[static_cast<size_t>(t)];
    }
    if (!any_runs) {  // skip: the group's output is its input
      std::vector<int32_t> written, read;
      for (size_t k = j; k < end; ++k) written.push_back(g.ops[k].output);
      for (size_t k = j; k < end; ++k)
        for (const int32_t t : g.ops[k].inputs)
          if (std::find(written.begin(), written.end(), t) == written.end()) read.push_back(t);
      std::vector<int32_t> passed;  // written inside, read by no op of the group
      for (size_t k = j; k < end; ++k) {
        bool internal = false;
        for (size_t i = j; i < end; ++i)
          for (const int32_t t : g.ops[i].inputs) internal = internal || t == g.ops[k].output;
        if (!internal && std::find(passed.begin(), passed.end(), g.ops[k].output) == passed.end())
          passed.push_back(g.ops[k].output);
      }
      std::sort(read.begin(), read.end());
      read.erase(std::unique(read.begin(), read.end()), read.end());
      if (read.size() != 1 || passed.size() != 1)
        throw Error("arena plan", "no alternative of op '" + g.ops[j].name + "''s group runs and it has no single "
                                  "input to pass on", Error::Kind::failure);
      alias[static_cast<size_t>(passed[0])] = alias[static_cast<size_t>(read[0])];
    }
    j = end;
  }
  out.output = alias[static_cast<size_t>(g.output)];
  return {std::move(out), std::move(alias)};
}

}  // namespace

ArenaPlan plan_arena(const OpGraph<double>& graph) {
  const RunningOps running = running_ops(graph);
  const OpGraph<double>& g = running.graph;
  const Residence residence = residence_of(g);
  const auto buffers = buffers_of(g, residence);
  const int64_t bound = whole_bytes(peak_ram(g), "the liveness bound");

  ArenaPlan best = greedy(g, residence, buffers);
  if (g.input >= 0 && !g.ops.empty()) {
    const auto chain = chain_of(g);
    if (!chain.empty() && bound < best.arena_bytes) best = two_ended(g, residence, chain, bound);
  }
  best.lower_bound_bytes = bound;
  for (size_t t = 0; t < running.alias.size(); ++t)  // a skipped block's output is its input
    if (running.alias[t] != static_cast<int32_t>(t)) best.tensor_offset[t] = best.tensor_offset[running.alias[t]];
  if (g.ops.size() == graph.ops.size()) return best;
  // Offsets per op of the given graph: dropped alternatives have no scratch.
  std::vector<int64_t> scratch(graph.ops.size(), -1);
  for (size_t j = 0, k = 0; j < graph.ops.size(); ++j)
    if (graph.ops[j].presence == 1.0) scratch[j] = best.scratch_offset[k++];
  best.scratch_offset = std::move(scratch);
  return best;
}

std::string plan_violation(const OpGraph<double>& graph, const ArenaPlan& plan) {
  const OpGraph<double> g = running_ops(graph).graph;
  std::vector<int64_t> scratch_offsets;  // per running op
  for (size_t j = 0; j < graph.ops.size() && plan.scratch_offset.size() == graph.ops.size(); ++j)
    if (graph.ops[j].presence == 1.0) scratch_offsets.push_back(plan.scratch_offset[j]);
  if (plan.tensor_offset.size() != g.tensors.size() || plan.scratch_offset.size() != graph.ops.size())
    return "the plan has offsets for " + std::to_string(plan.tensor_offset.size()) + " tensors and " +
           std::to_string(plan.scratch_offset.size()) + " ops, the graph " + std::to_string(g.tensors.size()) +
           " and " + std::to_string(graph.ops.size());
  ArenaPlan running = plan;
  running.scratch_offset = scratch_offsets;
  const Residence residence = residence_of(g);
  const auto buffers = buffers_of(g, residence);
  auto name = [&](const Buffer& b) {
    return b.scratch ? "the scratch of '" + g.ops[b.index].name + "'" : "tensor '" + g.tensors[b.index].name + "'";
  };
  for (size_t j = 0; j < g.ops.size(); ++j) {  // buffers_of counts such an output in its input's buffer
    const auto u = static_cast<size_t>(g.ops[j].output);
    if (!held_elsewhere(residence, u)) continue;
    const int32_t t = g.ops[j].inputs[0];
    if (running.tensor_offset[u] != running.tensor_offset[static_cast<size_t>(t)])
      return "op '" + g.ops[j].name + "' writes over its input '" + g.tensors[static_cast<size_t>(t)].name +
             "', but its output lies elsewhere";
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    const int64_t begin = offset_of(running, buffers[i]);
    if (begin < 0 || begin + buffers[i].bytes > running.arena_bytes)
      return name(buffers[i]) + " at " + std::to_string(begin) + " (+" + std::to_string(buffers[i].bytes) +
             ") lies outside the arena of " + std::to_string(running.arena_bytes) + " bytes";
    for (size_t k = 0; k < i; ++k) {
      if (!overlap_in_time(buffers[i], buffers[k])) continue;
      const int64_t other = offset_of(running, buffers[k]);
      if (begin < other + buffers[k].bytes && other < begin + buffers[i].bytes)
        return name(buffers[i]) + " and " + name(buffers[k]) + " are alive at once and share bytes";
    }
  }
  return "";
}

}  // namespace nas::cost_models
