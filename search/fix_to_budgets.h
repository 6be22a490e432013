// After `fix` the exact cost of the argmax architecture differs from the expected cost the penalties saw, both
// ways: an expensive operator kept at low probability inflates the expectation (so the fixed net comes out well
// under the budget), and a channel on the threshold can tip it over. Two greedy steps on the channel counts close
// the gap, with the operators as the search chose them:
//  - repair: while a budget is missed, remove 1 to 4 channels from the block where that lowers the total relative
//    excess Σ_b max(0, c_b/limit_b − 1) the most per share of the block's channels removed (n / out: a channel of
//    a 2-channel stem is half of it, one of a 64-channel block a 64th; ties: the widest block), never below the
//    block's narrowest width choice while anything else can go. Up to 4 because the kernels work 4 channels per
//    SIMD step: with calibrated latency, leaving a multiple of 4 can cost more before it costs less. (Scored per
//    channel, the repair of an iso-accuracy search at 100 ms cut the 1-channel image's stem to 1 channel, the
//    cheapest latency per channel, and the network lost 1.7 points to its twin seed.)
//  - fit: while every budget holds, add the next channel of the block whose next channel the search wanted most,
//    P(width > c) (over all blocks), as long as that keeps every budget: the search's own width distribution,
//    read one channel further than its argmax.
// Weight inheritance then takes each block's first channels (channels are ordered). Both counts are reported and
// stored.
#pragma once

#include <vector>

#include "constraints/budget.h"
#include "search/arch_cost.h"
#include "supernet/search_space.h"

namespace nas::search {

struct RepairResult {
  supernet::FixedArch arch;
  int32_t removed_channels = 0;
  bool fits = true;  // false when even one channel per block misses a budget (the operators chosen are too costly)
};

struct FitResult {
  supernet::FixedArch arch;
  int32_t added_channels = 0;
};

// The share of a latency or energy budget that fixing leaves unused. Those two are estimates from the calibrated
// latency model, which underestimated the instructions counted in QEMU by at most 1.7 % on the 40 profiles of
// docs/latency-model.md; fitted to the budget itself, the README search's network, at 99.6 % of its budget by
// estimate, measured 0.2 % over it. RAM is exact and flash within 0.6 %: no margin.
inline constexpr double kEstimateMargin = 0.02;

// The budgets with latency and energy limits lowered by kEstimateMargin, for repair and fit.
std::vector<constraints::Budget> with_estimate_margin(std::vector<constraints::Budget> budgets);

// Σ_b max(0, cost_b / limit_b − 1): how far `costs` miss the budgets in all (0 when every budget holds).
double budget_excess(const cost_models::Costs<double>& costs, const std::vector<constraints::Budget>& budgets);

// Skip and residual blocks carry their input's channel count; call after changing a block's channels.
void propagate_skip_channels(supernet::FixedArch& arch, int32_t input_channels);

// `min_channels[b]` is block b's narrowest width choice (empty: 1 everywhere); below it only when nothing else fits.
RepairResult repair_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                               const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                               const std::vector<int32_t>& min_channels = {});

// Every block of `arch` (skip blocks aside) at a share α of `max_channels[b]` (rounded, at least 1 channel), for
// the largest α = s/64 (s = 64, 63, …, 1) whose network meets every budget: uniform width scaling, MobileNet's width
// multiplier (Howard et al. 2017), the plainest channel-pruning baseline. The shortlist scales the seed network so:
// a repair from the widths a search learned for other operators can leave one block a bottleneck (an iso-accuracy
// search at 25 ms: 12 channels in a 64-channel block), which no later step undoes. `removed_channels` counts the
// channels below the limits; fits=false (α = 1/64, as repair_to_budgets) when even that misses a budget.
RepairResult scale_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                              const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                              const std::vector<int32_t>& max_channels);

// `channel_strength[b]` ranks block b's channels (SuperNet::channel_keep_probabilities: its strongest
// `out_channels` are the ones kept); `max_channels[b]` the space's limit. The architecture must already fit.
FitResult fit_to_budgets(supernet::FixedArch arch, const ArchCost& cost, const std::vector<constraints::Budget>& budgets,
                         int32_t input_channels, const std::vector<std::vector<float>>& channel_strength,
                         const std::vector<int32_t>& max_channels);

}  // namespace nas::search
