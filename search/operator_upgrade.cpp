#include "search/operator_upgrade.h"

#include <algorithm>
#include <limits>

#include "search/fix_to_budgets.h"

namespace nas::search {

namespace {

// The largest cost/limit over the budgets: how much of the binding budget the network uses.
double binding_use(const cost_models::Costs<double>& costs, const std::vector<constraints::Budget>& budgets) {
  double use = 0;
  for (const auto& b : budgets) use = std::max(use, metric_cost(costs, b.metric) / b.limit);
  return use;
}

}  // namespace

UpgradeResult upgrade_operators(supernet::FixedArch arch, const supernet::SearchSpace& space, const ArchCost& cost,
                                const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                                const ArchLoss& loss) {
  UpgradeResult result;
  propagate_skip_channels(arch, input_channels);
  double current_loss = loss(arch);
  double current_use = binding_use(cost.exact(arch), budgets);
  for (;;) {
    supernet::FixedArch best_arch;
    OperatorUpgrade best_upgrade;
    double best_score = -std::numeric_limits<double>::infinity(), best_use = current_use;
    for (size_t b = 0; b < arch.blocks.size(); ++b) {
      const supernet::FixedBlock& block = arch.blocks[b];
      for (const supernet::OpCandidate& op : space.blocks[b].ops) {
        if (op == block.op) continue;
        supernet::FixedArch trial = arch;
        trial.blocks[b].op = op;
        trial.blocks[b].out_channels = std::min(block.out_channels, space.blocks[b].out_channels);
        propagate_skip_channels(trial, input_channels);
        const auto costs = cost.exact(trial);
        if (budget_excess(costs, budgets) > 0) continue;
        // Only swaps that spend budget: a cheaper operator frees budget that only channels could use, and a block
        // at its channel limit cannot take them (a search at 100 ms swapped conv5x5 for dwsep5x5 on a loss
        // 0.1 % lower and ended at 86 % of its budget).
        const double use = binding_use(costs, budgets), added = use - current_use;
        if (added <= 0) continue;
        const double trial_loss = loss(trial);
        if (!(trial_loss < current_loss)) continue;
        const double score = (current_loss - trial_loss) / added;
        if (score > best_score) {
          best_score = score;
          best_arch = std::move(trial);
          best_upgrade = {block.name, block.op.name(), op.name(), current_loss, trial_loss};
          best_use = use;
        }
      }
    }
    if (best_arch.blocks.empty()) break;
    arch = std::move(best_arch);
    current_loss = best_upgrade.loss_after;
    current_use = best_use;
    result.upgrades.push_back(std::move(best_upgrade));
  }
  result.arch = std::move(arch);
  return result;
}

}  // namespace nas::search
