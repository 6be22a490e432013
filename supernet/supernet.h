// The supernet of a search: a chain of SearchableBlocks (supernet/searchable_block.h) followed by a fixed head
// (global average pool, linear to the classes), with two flat parameter buffers:
//  - θ_w, the weights of every candidate op and the head: network().params() (= weights());
//  - θ_a, the architecture parameters: arch(), slots `<block>.op_logits` (one per candidate) and
//    `<block>.width_logits` (one per width choice), initialised to 0 so every choice starts equally likely, all
//    ParamRole::no_decay so an Adam from make_optimizer can train them.
//
// A weight step: sample(rng, τ) picks one op and one width per block (Gumbel-max), network().forward/backward in
// BlockMode::sampled trains θ_w. An architecture step: an estimator of supernet/arch_gradient.h (REINFORCE over
// sampled paths, or the mixture) WRITES the task loss's θ_a gradient into arch().grads() from held-out data (not the
// sampled path's own backward: searchable_block.h explains why); add_cost_gradient() then ADDS the cost terms' θ_a
// gradients; an optimizer steps arch(). Evaluation uses select_argmax() in sampled mode.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "supernet/network.h"
#include "supernet/rng.h"
#include "supernet/search_space.h"
#include "supernet/searchable_block.h"

namespace nas::supernet {

class SuperNet {
 public:
  // `input` is one image's shape (n ignored). Weights are drawn from `seed`.
  SuperNet(SearchSpace space, Shape input, int32_t num_classes, uint64_t seed);
  SuperNet(SuperNet&&) = default;
  SuperNet& operator=(SuperNet&&) = default;

  Network& network() { return net_; }
  const Network& network() const { return net_; }
  ParamStore& weights() { return net_.params(); }
  const ParamStore& weights() const { return net_.params(); }
  ParamStore& arch() { return arch_; }
  const ParamStore& arch() const { return arch_; }
  const SearchSpace& space() const { return space_; }
  Shape input_shape() const { return input_; }
  int32_t num_classes() const { return num_classes_; }
  size_t block_count() const { return blocks_.size(); }
  SearchableBlock& block(size_t b) { return *blocks_.at(b); }
  const SearchableBlock& block(size_t b) const { return *blocks_.at(b); }
  // The network node of block b; the head's nodes follow the last block.
  int32_t block_node(size_t b) const { return static_cast<int32_t>(b); }
  int32_t head_fc_node() const { return static_cast<int32_t>(blocks_.size()) + 1; }

  // Draws each block's op and width by Gumbel-max over θ/τ and φ/τ (samples of the two softmaxes) and sets τ.
  void sample(Rng& rng, double tau);
  // Draws each block's op and width uniformly, whatever θ_a says (τ unchanged).
  void sample_uniform(Rng& rng);
  // Selects every block's first operator (the seed network's) at a uniformly drawn width: the path a
  // channels-only supernet of the seed would train (τ unchanged).
  void sample_seed_path(Rng& rng);
  // Selects each block's most likely op and width (argmax, the first on ties), for evaluation; τ is kept.
  void select_argmax();
  // Selects a fixed architecture's operators, each block at the smallest of its widths that holds the fixed
  // channel count (the masks only cut at the widths; the fix step's channel counts fall in between). Throws
  // nas::Error when an operator is not among the block's candidates.
  void select_fixed(const FixedArch& arch);
  void set_tau(double tau);
  double tau() const { return tau_; }
  void set_mode(BlockMode mode);

  // Per block: softmax(θ/τ) over the ops, softmax(φ/τ) over the widths, the expected width Σ q_k w_k, the
  // selected width, and the channels of the most likely width.
  std::vector<double> op_probabilities(size_t b) const;
  std::vector<double> width_probabilities(size_t b) const;
  double expected_channels(size_t b) const;
  double selected_channels(size_t b) const;
  std::vector<int32_t> kept_channel_indices(size_t b) const;
  // P(width > c) per output channel of block b: how strongly the search wants channel c (non-increasing in c).
  std::vector<double> channel_keep_probabilities(size_t b) const { return blocks_.at(b)->channel_keep_probabilities(); }

  // ADDS dCost/dθ_a of block b to arch().grads(), given dCost/dp (one per candidate) and dCost/d(channels):
  // through the softmax Jacobian for the op logits, dp_i/dθ_j = p_i (δ_ij − p_j) / τ, and through the expected
  // width's for the width logits, dE/dφ_j = q_j (w_j − E) / τ. With sampled pricing (a one-hot op and width and
  // their straight-through gradients) the gradient is the same, since the costs are priced per block choice.
  void add_cost_gradient(size_t b, std::span<const double> d_prob, double d_channels);
  // ADDS weight · ∇ log P(block b runs op `op` at width index `width`) to arch().grads():
  // weight · (1[j = op] − p_j)/τ for the op logits, weight · (1[k = width] − q_k)/τ for the width logits (the
  // score function of a REINFORCE estimator).
  void add_score_gradient(size_t b, size_t op, size_t width, double weight);
  void zero_arch_grads();

  // Argmax op and width per block; a skip keeps its input's channels (the previous block's, or the image's for the
  // first block).
  FixedArch fix() const;
  // The same with the given operator per block (indices into each block's candidates) and the argmax widths.
  FixedArch fix_with_ops(const std::vector<size_t>& ops) const;
  // Block b's operator logits θ (softmax(θ) is the distribution at τ = 1).
  std::vector<double> op_logits(size_t b) const;

 private:
  SearchSpace space_;
  Shape input_;
  int32_t num_classes_;
  Network net_;
  ParamStore arch_;
  std::vector<SearchableBlock*> blocks_;  // owned by net_
  std::vector<int32_t> logits_slots_, width_slots_;
  double tau_ = 1.0;
};

}  // namespace nas::supernet
