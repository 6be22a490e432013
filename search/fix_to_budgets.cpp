#include "search/fix_to_budgets.h"

#include <algorithm>
#include <cmath>

namespace nas::search {

double budget_excess(const cost_models::Costs<double>& costs, const std::vector<constraints::Budget>& budgets) {
  double sum = 0;
  for (const auto& b : budgets) sum += std::max(0.0, metric_cost(costs, b.metric) / b.limit - 1.0);
  return sum;
}

void propagate_skip_channels(supernet::FixedArch& arch, int32_t input_channels) {
  int32_t channels = input_channels;
  for (auto& block : arch.blocks) {
    if (block.op.keeps_input_channels()) block.out_channels = channels;
    channels = block.out_channels;
  }
}

std::vector<constraints::Budget> with_estimate_margin(std::vector<constraints::Budget> budgets) {
  for (auto& b : budgets)
    if (b.metric == constraints::Metric::latency || b.metric == constraints::Metric::energy)
      b.limit *= 1.0 - kEstimateMargin;
  return budgets;
}

RepairResult repair_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                               const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                               const std::vector<int32_t>& min_channels) {
  RepairResult result;
  propagate_skip_channels(arch, input_channels);
  double current = budget_excess(cost.exact(arch), budgets);
  // Moves of 1 to 4 channels in one block: the kernels run 4 channels per SIMD step, so the calibrated latency can
  // rise when one channel leaves the multiple of 4 and fall only at the next one (cost_models/kernel_work.h). The
  // move that gains the most per share of its block removed wins; ties go to the wider block. First above each
  // block's narrowest width choice; if that cannot fit, down to one channel.
  constexpr int32_t kLongestMove = 4;
  bool floors = !min_channels.empty();
  while (current > 0) {
    size_t best = arch.blocks.size();
    int32_t best_count = 0;
    double best_gain = 0, best_excess = current;
    for (size_t b = 0; b < arch.blocks.size(); ++b) {
      const auto& block = arch.blocks[b];
      if (block.op.keeps_input_channels()) continue;
      const int32_t floor = floors ? std::max(1, min_channels[b]) : 1;
      for (int32_t n = 1; n <= kLongestMove && block.out_channels - n >= floor; ++n) {
        supernet::FixedArch trial = arch;
        trial.blocks[b].out_channels -= n;
        propagate_skip_channels(trial, input_channels);
        const double e = budget_excess(cost.exact(trial), budgets);
        const double gain = (current - e) * block.out_channels / n;
        const bool wider = best < arch.blocks.size() && block.out_channels > arch.blocks[best].out_channels;
        if (e < current && (gain > best_gain || (gain == best_gain && wider))) {
          best = b;
          best_count = n;
          best_gain = gain;
          best_excess = e;
        }
      }
    }
    if (best == arch.blocks.size()) {
      if (floors) {  // every block at its narrowest choice and still over: go below them
        floors = false;
        continue;
      }
      result.fits = false;
      break;
    }
    arch.blocks[best].out_channels -= best_count;
    propagate_skip_channels(arch, input_channels);
    result.removed_channels += best_count;
    current = best_excess;
  }
  result.arch = std::move(arch);
  return result;
}

RepairResult scale_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                              const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                              const std::vector<int32_t>& max_channels) {
  constexpr int32_t kSteps = 64;
  RepairResult result;
  for (int32_t s = kSteps; s >= 1; --s) {
    result.removed_channels = 0;
    for (size_t b = 0; b < arch.blocks.size(); ++b) {
      if (arch.blocks[b].op.keeps_input_channels()) continue;
      const double share = static_cast<double>(max_channels[b]) * s / kSteps;
      const int32_t width = std::max<int32_t>(1, static_cast<int32_t>(std::lround(share)));
      arch.blocks[b].out_channels = width;
      result.removed_channels += max_channels[b] - width;
    }
    propagate_skip_channels(arch, input_channels);
    result.fits = budget_excess(cost.exact(arch), budgets) <= 0;
    if (result.fits) break;
  }
  result.arch = std::move(arch);
  return result;
}

FitResult fit_to_budgets(supernet::FixedArch arch, const ArchCost& cost, const std::vector<constraints::Budget>& budgets,
                         int32_t input_channels, const std::vector<std::vector<float>>& channel_strength,
                         const std::vector<int32_t>& max_channels) {
  FitResult result;
  propagate_skip_channels(arch, input_channels);
  // Per block its channel strengths from strongest to weakest: the next channel to add is at index out_channels.
  std::vector<std::vector<float>> ranked = channel_strength;
  for (auto& g : ranked) {
    for (auto& v : g) v = std::abs(v);
    std::stable_sort(g.begin(), g.end(), std::greater<>());
  }
  std::vector<bool> blocked(arch.blocks.size(), false);  // adding to it would miss a budget
  for (;;) {
    size_t best = arch.blocks.size();
    for (size_t b = 0; b < arch.blocks.size(); ++b) {
      const auto& block = arch.blocks[b];
      if (blocked[b] || block.op.keeps_input_channels() || block.out_channels >= max_channels[b]) continue;
      const float next = ranked[b][static_cast<size_t>(block.out_channels)];
      if (best == arch.blocks.size() || next > ranked[best][static_cast<size_t>(arch.blocks[best].out_channels)])
        best = b;
    }
    if (best == arch.blocks.size()) break;
    supernet::FixedArch trial = arch;
    ++trial.blocks[best].out_channels;
    propagate_skip_channels(trial, input_channels);
    if (budget_excess(cost.exact(trial), budgets) > 0) {
      blocked[best] = true;  // this block is done (a channel more past a multiple of 4 rarely costs less)
      continue;
    }
    arch = std::move(trial);
    ++result.added_channels;
  }
  result.arch = std::move(arch);
  return result;
}

}  // namespace nas::search
