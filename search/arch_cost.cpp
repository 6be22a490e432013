#include "search/arch_cost.h"

#include "cost_models/arch_view.h"
#include "cost_models/dual.h"
#include "cost_models/lowering.h"

namespace nas::search {

using cost_models::Costs;
using cost_models::Dual;

namespace {

Costs<double> values(const Costs<Dual>& c) {
  Costs<double> out;
  out.flash_bytes = c.flash_bytes.v;
  out.ram_bytes = c.ram_bytes.v;
  out.latency_s = c.latency_s.v;
  out.energy_j = c.energy_j.v;
  out.arena_bytes = c.arena_bytes.v;
  out.model_flash_bytes = c.model_flash_bytes.v;
  out.macs = c.macs.v;
  out.params = c.params.v;
  return out;
}

// Straight-through: each cost takes the argmax network's value and keeps the expectation's gradient.
void argmax_values(Costs<Dual>& c, const Costs<double>& argmax) {
  c.flash_bytes.v = argmax.flash_bytes;
  c.ram_bytes.v = argmax.ram_bytes;
  c.latency_s.v = argmax.latency_s;
  c.energy_j.v = argmax.energy_j;
  c.arena_bytes.v = argmax.arena_bytes;
  c.model_flash_bytes.v = argmax.model_flash_bytes;
  c.macs.v = argmax.macs;
  c.params.v = argmax.params;
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
