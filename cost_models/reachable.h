// The cheapest and the dearest a search space can be on a target, per metric, so the search can refuse a budget
// no architecture meets (naming the smallest reachable cost) and reports can show the range.
//
// smallest_costs: every block keeps 1 channel (every cost grows with channels), and the operator choices are
// searched by brute force when the product of the blocks' candidate counts is at most kBruteForceLimit (one
// evaluation lowers and prices the whole net, ~36 µs for 9 blocks on the development machine, so 1e5 combinations
// take a few seconds); above that, by one greedy sweep per metric (block by block, each block takes the candidate
// that lowers the metric most given the blocks already set; later blocks start at their first candidate). The greedy result is the cost
// of a real architecture, so it is an upper bound of the true minimum, not the minimum itself: refuse a budget
// only when smallest_is_exact(space), otherwise warn.
// largest_costs: every block keeps all its channels, same search maximising. Flash and RAM of any architecture are
// below it; latency and energy may not be, by a few percent: a convolution whose input channels are not a multiple
// of 4 copies its im2col value by value, so a narrower block can be the slower one (tests/cost_models/reachable_test).
// Each metric is optimised on its own, so the four figures may come from different architectures.
#pragma once

#include <cstdint>

#include "cost_models/costs.h"
#include "cost_models/target.h"
#include "supernet/search_space.h"

namespace nas::cost_models {

inline constexpr double kBruteForceLimit = 1e5;

// Whether smallest_costs / largest_costs are exact for `space` (brute force) rather than greedy bounds.
bool smallest_is_exact(const supernet::SearchSpace& space);

Costs<double> smallest_costs(const supernet::SearchSpace& space, supernet::Shape input, int32_t classes,
                             const Target& target);
Costs<double> largest_costs(const supernet::SearchSpace& space, supernet::Shape input, int32_t classes,
                            const Target& target);

}  // namespace nas::cost_models
