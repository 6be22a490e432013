// Peak RAM of a lowered network by liveness over its execution order: a tensor is live from the op that produces
// it (the graph input from the start) to the last op that reads it (the graph output to the end). At each op the
// arena holds every live tensor plus that op's scratch buffer; the peak is the true maximum over the schedule (a
// sub-gradient when S is Dual), as DESIGN.md allows. Residual branches stay live naturally: their last reader is
// later. An op whose kernel may write over its input (in-place depthwise, kernel_scratch.h) and whose input dies
// there counts its output inside that input.
//
// Alternatives (op_graph.h): for a group of candidate operators, each choice c is planned as if it alone ran
// (other choices' ops neither produce nor read anything), giving that choice's own peak m_c. The group's moment is
// the expectation Σ_c p_c·m_c + (1 − Σ_c p_c)·baseline, where the baseline (the skip case) is what is live on
// entering the group. With one-hot presences this is exactly the chosen operator's peak, so a fixed network is
// priced exactly; with soft presences it is the expected peak of the block, not the peak of a mixture that could
// never run. Tensors produced inside one choice (a depthwise intermediate) carry their full size: they only count
// in their own choice's plan.
#pragma once

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "cost_models/dual.h"
#include "cost_models/op_graph.h"

namespace nas::cost_models {

namespace planner_detail {

struct Interval {
  int32_t birth = 0;  // op index that produces it; -1 for the graph input
  int32_t death = -1; // last op index that reads it; ops.size() for the graph output
  bool exists = false;
};

// Ids in range, and each group's ops contiguous (a group is one block of the schedule).
template <class S>
void validate(const OpGraph<S>& g) {
  const auto n_tensors = static_cast<int32_t>(g.tensors.size());
  auto check_id = [&](int32_t id, const std::string& what) {
    if (id < 0 || id >= n_tensors)
      throw Error("memory planner", what + " refers to tensor " + std::to_string(id) + " of " +
                                        std::to_string(n_tensors), Error::Kind::failure);
  };
  if (g.input >= 0) check_id(g.input, "the graph input");
  if (g.output >= 0) check_id(g.output, "the graph output");
  std::vector<int32_t> finished_groups;
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const auto& op = g.ops[j];
    for (const int32_t t : op.inputs) check_id(t, "op '" + op.name + "'");
    check_id(op.output, "op '" + op.name + "'");
    const bool group_ends = op.group >= 0 && (j + 1 == g.ops.size() || g.ops[j + 1].group != op.group);
    for (const int32_t done : finished_groups)
      if (done == op.group)
        throw Error("memory planner", "ops of group " + std::to_string(op.group) + " are not contiguous (op '" +
                                          op.name + "')", Error::Kind::failure);
    if (group_ends) finished_groups.push_back(op.group);
  }
}

// Live intervals counting only the ops for which keep(j) holds.
template <class S, class Keep>
std::vector<Interval> intervals(const OpGraph<S>& g, Keep keep) {
  std::vector<Interval> iv(g.tensors.size());
  if (g.input >= 0) iv[g.input] = {-1, -1, true};
  const auto n = static_cast<int32_t>(g.ops.size());
  for (int32_t j = 0; j < n; ++j) {
    if (!keep(j)) continue;
    const auto& op = g.ops[j];
    for (const int32_t t : op.inputs) iv[t].death = j > iv[t].death ? j : iv[t].death;
    auto& out = iv[op.output];
    if (!out.exists) out = {j, j, true};
    out.death = j > out.death ? j : out.death;
  }
  if (g.output >= 0) iv[g.output].death = n;
  return iv;
}

template <class S>
S live_at(const OpGraph<S>& g, const std::vector<Interval>& iv, int32_t j) {
  S total(0.0);
  for (size_t t = 0; t < iv.size(); ++t)
    if (iv[t].exists && iv[t].birth <= j && j <= iv[t].death) total += g.tensors[t].bytes;
  return total;
}

// The tensor op j writes its output over, or -1: its kernel may (op_graph.h, writes_over_input) and its single input
// dies at j (no later op reads it, and it is not the graph output). The arena plan puts the output inside that
// input's bytes (arena_plan.h), so the two count once.
template <class S>
int32_t overwritten_input(const OpGraph<S>& g, const std::vector<Interval>& iv, int32_t j) {
  const auto& op = g.ops[static_cast<size_t>(j)];
  if (!op.writes_over_input || op.inputs.size() != 1) return -1;
  const int32_t t = op.inputs[0];
  if (t == g.output || t == op.output || iv[static_cast<size_t>(t)].death != j) return -1;
  return t;
}

// Bytes in the arena while op j runs: the live tensors (its output inside its input when it writes over it) and its
// scratch.
template <class S>
S op_bytes(const OpGraph<S>& g, const std::vector<Interval>& iv, int32_t j) {
  const auto& op = g.ops[static_cast<size_t>(j)];
  S bytes = live_at(g, iv, j) + op.scratch_bytes;
  if (overwritten_input(g, iv, j) >= 0) bytes -= g.tensors[static_cast<size_t>(op.output)].bytes;
  return bytes;
}

// One moment of the schedule: an always-running op, or a whole group of alternatives.
template <class S>
struct Step {
  S bytes;
  int32_t first_op = 0;
  int32_t last_op = 0;
};

template <class S>
struct Moments {
  std::vector<S> op_live;  // per op: live tensors + its scratch (for a grouped op: when its choice runs)
  std::vector<Step<S>> steps;
};

template <class S>
Moments<S> moments(const OpGraph<S>& g) {
  validate(g);
  const auto n = static_cast<int32_t>(g.ops.size());
  const auto all = intervals(g, [](int32_t) { return true; });
  Moments<S> m;
  m.op_live.assign(g.ops.size(), S(0.0));
  for (int32_t j = 0; j < n;) {
    const auto& op = g.ops[j];
    if (op.group < 0) {
      m.op_live[j] = op_bytes(g, all, j);
      m.steps.push_back({m.op_live[j], j, j});
      ++j;
      continue;
    }
    int32_t last = j;
    while (last + 1 < n && g.ops[last + 1].group == op.group) ++last;

    S baseline(0.0);  // live on entering the group: what stays in the arena if no choice runs (skip)
    for (size_t t = 0; t < all.size(); ++t)
      if (all[t].exists && all[t].birth < j && all[t].death >= j) baseline += g.tensors[t].bytes;

    std::vector<int32_t> choices;
    for (int32_t k = j; k <= last; ++k) {
      bool seen = false;
      for (const int32_t c : choices) seen = seen || c == g.ops[k].choice;
      if (!seen) choices.push_back(g.ops[k].choice);
    }
    S expected(0.0);
    S present(0.0);
    for (const int32_t c : choices) {
      const auto iv = intervals(g, [&](int32_t k) { return g.ops[k].group != op.group || g.ops[k].choice == c; });
      S choice_peak(0.0);
      S presence(0.0);
      bool first = true;
      for (int32_t k = j; k <= last; ++k) {
        if (g.ops[k].choice != c) continue;
        m.op_live[k] = op_bytes(g, iv, k);
        choice_peak = first ? m.op_live[k] : scalar_max(choice_peak, m.op_live[k]);
        if (first) presence = g.ops[k].presence;
        first = false;
      }
      expected += presence * choice_peak;
      present += presence;
    }
    expected += (1.0 - present) * baseline;
    m.steps.push_back({expected, j, last});
    j = last + 1;
  }
  return m;
}

}  // namespace planner_detail

// Peak arena bytes of the schedule (activations + scratch; weights live in flash).
template <class S>
S peak_ram(const OpGraph<S>& graph) {
  const auto m = planner_detail::moments(graph);
  if (m.steps.empty()) return graph.input >= 0 ? graph.tensors[graph.input].bytes : S(0.0);
  S peak = m.steps.front().bytes;
  for (size_t i = 1; i < m.steps.size(); ++i) peak = scalar_max(peak, m.steps[i].bytes);
  return peak;
}

// For reports: live bytes at each op and where the peak is.
struct LivenessReport {
  std::vector<double> live_bytes;  // per op: live tensors + its scratch (grouped op: as if its choice ran)
  double peak_bytes = 0;           // == peak_ram(graph)
  int32_t peak_op = -1;            // the op at the peak (in a group: the largest op of its most likely choice)
};

LivenessReport liveness(const OpGraph<double>& graph);

}  // namespace nas::cost_models
