// After `fix` the exact cost of the argmax architecture can miss a budget by a little: the penalty saw expected
// costs, and λ stops pushing once the expected cost is inside. Rather than store a net that does not fit, the
// repair removes channels one at a time until every budget holds: each round takes one channel from the block
// whose loss of a channel lowers the total relative excess Σ_b max(0, c_b/limit_b − 1) the most (ties: the widest
// block). The channels removed are the block's weakest (smallest |γ|), so weight inheritance keeps the strongest.
// The count is reported and stored; a search whose penalties worked needs none.
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

// Skip blocks carry their input's channel count; call after changing a block's channels.
void propagate_skip_channels(supernet::FixedArch& arch, int32_t input_channels);

RepairResult repair_to_budgets(supernet::FixedArch arch, const ArchCost& cost,
                               const std::vector<constraints::Budget>& budgets, int32_t input_channels);

}  // namespace nas::search
