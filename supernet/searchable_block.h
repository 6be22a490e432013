// One searchable block of the supernet as a Layer: a choice among candidate operators (each a small chain of
// Conv2d and BatchNorm2d+ReLU, or the identity) and a mask over the output channels.
//
// Operator choice, single path: forward runs only the selected candidate i, as GDAS does with its hard
// Gumbel-softmax (Dong & Yang, "Searching for a Robust Neural Architecture in Four GPU Hours", CVPR 2019). The
// output is scaled by a straight-through weight h_i whose forward value is 1 and whose gradient is that of
// p_i = softmax(θ/τ)_i, so
//     dL/dθ_j = S · p_i (δ_ij − p_j) / τ,   S = Σ grad_out ⊙ output   (the masked output of op i).
// The Gumbel noise only picks i (SuperNet::sample); p carries no noise, so the gradient is that of the expected
// quantities the cost models use.
//
// Channel mask (PIT: Risso et al., "Pruning In Time", DAC 2021): m_c = 1 if |γ_c| > 0.5, else 0, except that the
// channel with the largest |γ| (the first on ties) is always kept, so a block never outputs nothing. The binarisation
// has a straight-through gradient: m_c is treated as |γ_c| locally, so dm_c/dγ_c = sign(γ_c) (sign(0) = +1) and
//     dL/dγ_c = sign(γ_c) · Σ_{n,h,w} grad_out[c] · op_i(x)[c].
// PIT's identity STE is the same for γ > 0 (γ starts at 1); sign keeps the estimator consistent with |γ| when a
// γ goes negative, where the identity would push the wrong way. Masked channels are zero in the output, but their
// γ still receives a gradient, so a channel can come back.
//
// Skip (the identity) ignores the mask: its output is its input unchanged, and its γ gradients are zero.
//
// Gradients: backward WRITES the θ_a gradients of this block (every candidate's logit, every γ) into the arch
// store bound by bind_arch(), and writes zero into the weight gradients of the candidates not selected, so the
// flat weight-gradient span never holds stale values. The selection must not change between forward and backward.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "supernet/layer.h"
#include "supernet/search_space.h"

namespace nas::supernet {

class SearchableBlock final : public Layer {
 public:
  explicit SearchableBlock(SearchBlock spec);

  std::string type() const override { return "searchable"; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void declare(ParamStore& store) override;
  void bind(ParamStore& store) override;
  void init(ParamStore& store, Rng& rng) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

  // θ_a of this block in a separate store (SuperNet::arch()): slots `<block>.op_logits` (one per candidate) and
  // `<block>.gamma` (one per output channel). Must be called before the first forward.
  void bind_arch(ParamStore& arch, int32_t logits_slot, int32_t gamma_slot);

  const SearchBlock& spec() const { return spec_; }
  size_t op_count() const { return spec_.ops.size(); }
  void select(size_t op);  // throws nas::Error when out of range
  size_t selected() const { return selected_; }
  void set_tau(double tau);  // the softmax temperature of the straight-through gradient; > 0
  double tau() const { return tau_; }

  // softmax(θ/τ) over the candidates.
  std::vector<double> op_probabilities() const;
  // The binarised mask (0/1 per output channel), the always-kept channel included.
  std::vector<float> channel_mask() const;
  std::vector<int32_t> kept_channel_indices() const;
  // The `count` channels with the largest |γ| (ties: the lower index), in ascending index order: the channels of a
  // fixed architecture whose count differs from what the mask keeps (a budget repair removed some, or the fit step
  // added back the strongest masked ones). The always-kept channel has the largest |γ|, so it comes first.
  // 1 ≤ count ≤ out_channels.
  std::vector<int32_t> strongest_channels(int32_t count) const;

  // Parameter slots (handles into the weight store) of candidate `op`'s stage `stage`: a Conv2d stage declares
  // [weight], a BatchNorm stage [gamma, beta, running_mean, running_var]. Stages: conv → {conv, bn};
  // dwsep → {dw, dw_bn, pw, pw_bn}; skip → none.
  std::vector<int32_t> stage_slots(size_t op, size_t stage) const;
  size_t stage_count(size_t op) const { return ops_.at(op).stages.size(); }

  // The selected candidate's output before the mask, as of the last forward (the input itself for skip).
  const Tensor& op_output() const;

 private:
  struct Stage {
    std::unique_ptr<Layer> layer;
    int32_t first_slot = 0, slot_count = 0;
    std::vector<std::span<float>> grads;  // its trainable slots' gradients (spans into the store's heap buffer)
  };
  struct Candidate {
    OpCandidate op;
    std::vector<Stage> stages;  // empty for skip
  };

  // Runs the selected candidate's stages; the last writes into stage_out_.back() of that candidate's length.
  const Tensor& run_stages(const Tensor& input, bool training);
  void zero_unselected_weight_grads() const;

  SearchBlock spec_;
  std::vector<Candidate> ops_;
  Shape in_, out_;
  size_t selected_ = 0;
  size_t forward_selected_ = 0;  // the candidate the last forward ran
  double tau_ = 1.0;
  std::vector<Tensor> stage_out_;  // shared by the candidates (one runs at a time)
  Tensor grad_a_, grad_b_;         // ping-pong gradients between stages
  std::vector<float> mask_;        // the mask the last forward applied
  std::vector<float> partials_;    // per-chunk channel sums of grad_out ⊙ op output
  float *logits_ = nullptr, *dlogits_ = nullptr, *gamma_ = nullptr, *dgamma_ = nullptr;
  const Tensor* last_input_ = nullptr;
};

}  // namespace nas::supernet
