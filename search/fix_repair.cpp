#include "search/fix_repair.h"

#include <algorithm>

namespace nas::search {

namespace {

double excess(const cost_models::Costs<double>& costs, const std::vector<constraints::Budget>& budgets) {
  double sum = 0;
  for (const auto& b : budgets) sum += std::max(0.0, metric_cost(costs, b.metric) / b.limit - 1.0);
  return sum;
}

}  // namespace

void propagate_skip_channels(supernet::FixedArch& arch, int32_t input_channels) {
  int32_t channels = input_channels;
  for (auto& block : arch.blocks) {
    if (block.op.kind == supernet::OpKind::skip) block.out_channels = channels;
    channels = block.out_channels;
  }
}

RepairResult repair_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                               const std::vector<constraints::Budget>& budgets, int32_t input_channels) {
  RepairResult result;
  propagate_skip_channels(arch, input_channels);
  double current = excess(cost.exact(arch), budgets);
  while (current > 0) {
    size_t best = arch.blocks.size();
    double best_excess = current;
    for (size_t b = 0; b < arch.blocks.size(); ++b) {
      const auto& block = arch.blocks[b];
      if (block.op.kind == supernet::OpKind::skip || block.out_channels <= 1) continue;
      supernet::FixedArch trial = arch;
      --trial.blocks[b].out_channels;
      propagate_skip_channels(trial, input_channels);
      const double e = excess(cost.exact(trial), budgets);
      const bool wider = best < arch.blocks.size() && block.out_channels > arch.blocks[best].out_channels;
      if (e < best_excess || (best < arch.blocks.size() && e == best_excess && wider)) {
        best = b;
        best_excess = e;
      }
    }
    if (best == arch.blocks.size()) {
      result.fits = false;
      break;
    }
    --arch.blocks[best].out_channels;
    propagate_skip_channels(arch, input_channels);
    ++result.removed_channels;
    current = best_excess;
  }
  result.arch = std::move(arch);
  return result;
}

}  // namespace nas::search
