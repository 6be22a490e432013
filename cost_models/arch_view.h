// The soft architecture a cost formula prices: per searchable block, the probability of each candidate operator
// and the expected number of output channels kept. S is double for a fixed network (one-hot probabilities,
// integer channels: the exact cost) or an autodiff scalar (cost_models/dual.h) during search, so one formula
// serves both (DESIGN.md, "One cost formula, two uses").
#pragma once

#include <vector>

#include "supernet/search_space.h"

namespace nas::cost_models {

template <class S>
struct BlockView {
  std::vector<S> op_prob;  // one per candidate of the block, in SearchBlock::ops order; sums to 1
  S out_channels;          // expected kept channels when the chosen operator is not skip (Σ binarised mask)
};

template <class S>
struct ArchView {
  std::vector<BlockView<S>> blocks;  // one per SearchSpace::blocks entry
};

// The exact view of a fixed architecture: one-hot probabilities, integer channels (throws nas::Error when the
// fixed architecture does not belong to the space).
ArchView<double> fixed_view(const supernet::SearchSpace& space, const supernet::FixedArch& arch);

}  // namespace nas::cost_models
