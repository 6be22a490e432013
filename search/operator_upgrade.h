// The fix step's operator upgrade: the search's argmax operators are what its distribution preferred under the
// penalties, but the penalties priced an expectation, and repair then moves the channel counts; budget can be left
// that a costlier operator would use better than more channels of the cheap one. Greedy, after repair and before
// the channel fit (fix_to_budgets.h):
//   while some block can swap its operator for a costlier candidate of that block (at the same channel count; a
//   skip becoming an operator keeps its input's channels) with every budget still met, take the swap with the
//   largest drop of the supernet's held-out loss per unit of added binding cost (max over budgets of cost/limit);
//   a swap that does not lower the loss, or does not cost more, never.
// The loss is the supernet's own estimate of each candidate network (weights shared, BatchNorm on batch statistics,
// as the paths were trained), on the same held-out images for every candidate, so the differences are paired.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "constraints/budget.h"
#include "search/arch_cost.h"
#include "supernet/search_space.h"

namespace nas::search {

// The held-out loss of a fixed architecture (lower is better).
using ArchLoss = std::function<double(const supernet::FixedArch&)>;

struct OperatorUpgrade {
  std::string block, from, to;  // operator names
  double loss_before = 0, loss_after = 0;
};

struct UpgradeResult {
  supernet::FixedArch arch;
  std::vector<OperatorUpgrade> upgrades;  // in the order taken
};

// `arch` must fit `budgets`; `space` gives each block's candidates and channel limit.
UpgradeResult upgrade_operators(supernet::FixedArch arch, const supernet::SearchSpace& space, const ArchCost& cost,
                                const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                                const ArchLoss& loss);

}  // namespace nas::search
