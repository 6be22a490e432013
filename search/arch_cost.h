// The bridge between the supernet's architecture parameters and the board's cost model: prices the supernet's
// current soft architecture (operator probabilities, expected kept channels) with the target's formulas, and during
// search adds the gradient of the budget penalties to θ_a. The formulas are the same ones that price the fixed
// network afterwards (cost_models/costs.h), evaluated here with the autodiff scalar.
#pragma once

#include <vector>

#include "constraints/penalty.h"
#include "cost_models/costs.h"
#include "cost_models/target.h"
#include "supernet/search_space.h"
#include "supernet/supernet.h"

namespace nas::search {

// The cost of one metric out of a cost struct of either scalar type.
template <class S>
const S& metric_cost(const cost_models::Costs<S>& costs, constraints::Metric metric) {
  switch (metric) {
    case constraints::Metric::ram: return costs.ram_bytes;
    case constraints::Metric::flash: return costs.flash_bytes;
    case constraints::Metric::latency: return costs.latency_s;
    case constraints::Metric::energy: return costs.energy_j;
    case constraints::Metric::macs: return costs.macs;
    case constraints::Metric::params: return costs.params;
  }
  return costs.ram_bytes;
}

class ArchCost {
 public:
  ArchCost(const supernet::SearchSpace& space, supernet::Shape input, int32_t classes,
           const cost_models::Target& target)
      : space_(space), input_(input), classes_(classes), target_(target) {}

  // What the operator choice is priced at:
  //  - expected: the expectation over the operator probabilities p (the soft architecture);
  //  - sampled: the operators the current step sampled (one-hot h), with the straight-through gradient of h, which
  //    is that of p (GDAS). The gradient is the same as the expectation's (the costs are linear in each block's
  //    probabilities), but the hinge and λ see the cost of networks that really run, so once τ is low the
  //    penalty binds on the architecture that will be fixed rather than on an expectation inflated by expensive
  //    operators kept at low probability;
  //  - argmax: the network the fix step starts from (argmax operator and width per block, ArchCost::exact of
  //    SuperNet::fix()), with the expectation's gradient (straight-through). The hinge, the pull and λ act on the
  //    argmax network's use of each budget, so the search ends with that network near the budget: expected pricing
  //    left it at 0.70–1.14 of the budget while the expectation sat at 0.95–1.00 (docs/search.md), because
  //    the costs are not linear across blocks and a width halfway between two choices prices as neither.
  enum class Pricing { expected, sampled, argmax };

  // The costs of the supernet's architecture now (channels: the binarised masks). With a penalty, also adds
  // d(Σ penalties)/dθ_a into the supernet's architecture gradients.
  cost_models::Costs<double> soft_costs(supernet::SuperNet& net, const constraints::Penalty* penalty,
                                        Pricing pricing = Pricing::expected) const;

  // The exact costs of a fixed architecture (the same formulas, in double).
  cost_models::Costs<double> exact(const supernet::FixedArch& arch) const;

  // Per budget, the cost in `costs` (in budgets() order), for Penalty::update and reports.
  static std::vector<double> per_budget(const cost_models::Costs<double>& costs, const constraints::Penalty& penalty);

 private:
  const supernet::SearchSpace& space_;
  supernet::Shape input_;
  int32_t classes_;
  const cost_models::Target& target_;
};

}  // namespace nas::search
