#include "search/arch_cost.h"

#include "cost_models/arch_view.h"
#include "cost_models/dual.h"
#include "cost_models/lowering.h"

namespace nas::search {

using cost_models::Costs;
using cost_models::Dual;

namespace {

// Calls f(dual, value) for each cost of the two structs, so the conversions below list the fields once.
template <class DualCosts, class ValueCosts, class F>
void for_each_cost(DualCosts& d, ValueCosts& v, F f) {
  f(d.flash_bytes, v.flash_bytes);
  f(d.ram_bytes, v.ram_bytes);
  f(d.latency_s, v.latency_s);
  f(d.energy_j, v.energy_j);
  f(d.arena_bytes, v.arena_bytes);
  f(d.model_flash_bytes, v.model_flash_bytes);
  f(d.macs, v.macs);
  f(d.params, v.params);
}

Costs<double> values(const Costs<Dual>& c) {
  Costs<double> out;
  for_each_cost(c, out, [](const Dual& d, double& v) { v = d.v; });
  return out;
}

// Straight-through: each cost takes the argmax network's value and keeps the expectation's gradient.
void argmax_values(Costs<Dual>& c, const Costs<double>& argmax) {
  for_each_cost(c, argmax, [](Dual& d, const double& v) { d.v = v; });
}

}  // namespace

Costs<double> ArchCost::soft_costs(supernet::SuperNet& net, const constraints::Penalty* penalty,
                                   Pricing pricing) const {
  // Variables: per block its operator probabilities, then its expected kept channels.
  size_t n = 0;
  for (const auto& block : space_.blocks) n += block.ops.size() + 1;
  cost_models::ArchView<Dual> view;
  size_t index = 0;
  for (size_t b = 0; b < space_.blocks.size(); ++b) {
    cost_models::BlockView<Dual> block;
    const std::vector<double> p = net.op_probabilities(b);
    for (size_t i = 0; i < p.size(); ++i) {
      const double value = pricing != Pricing::sampled ? p[i] : (i == net.block(b).selected() ? 1.0 : 0.0);
      block.op_prob.push_back(Dual::variable(value, index++, n));
    }
    const double channels = pricing != Pricing::sampled ? net.expected_channels(b) : net.selected_channels(b);
    block.out_channels = Dual::variable(channels, index++, n);
    view.blocks.push_back(std::move(block));
  }
  Costs<Dual> costs = cost_models::estimate(cost_models::lower(space_, view, input_, classes_), target_);
  if (pricing == Pricing::argmax) argmax_values(costs, exact(net.fix()));
  if (penalty) {
    const Dual total = penalty->total<Dual>([&](constraints::Metric m) { return metric_cost(costs, m); });
    index = 0;
    for (size_t b = 0; b < space_.blocks.size(); ++b) {
      std::vector<double> d_prob;
      for (size_t i = 0; i < space_.blocks[b].ops.size(); ++i) d_prob.push_back(total.grad(index++));
      net.add_cost_gradient(b, d_prob, total.grad(index++));
    }
  }
  return values(costs);
}

Costs<double> ArchCost::exact(const supernet::FixedArch& arch) const {
  return cost_models::exact_costs(space_, arch, input_, classes_, target_);
}

std::vector<double> ArchCost::per_budget(const Costs<double>& costs, const constraints::Penalty& penalty) {
  std::vector<double> out;
  for (const auto& b : penalty.budgets()) out.push_back(metric_cost(costs, b.metric));
  return out;
}

}  // namespace nas::search
