// One searchable block of the supernet as a Layer: a choice among candidate operators (each a small chain of
// Conv2d and BatchNorm2d+ReLU, or the identity) and a choice among a few output widths (SearchBlock::widths).
// Both choices are categorical, each with its own logits in θ_a: p = softmax(θ/τ) over the operators and
// q = softmax(φ/τ) over the widths. A width w keeps channels 0..w−1 (channels are ordered, as in FBNetV2, OFA and
// BigNAS: training with sampled widths teaches the low channels to carry the most).
//
// Two modes (set_mode):
//  - sampled (weight training; evaluation): forward runs only the selected operator i at the selected width k,
//    y = op_i(x) ⊙ 1[c < w_k]. Its θ_a gradient is GDAS's straight-through estimator (Dong & Yang, CVPR 2019):
//    the output scaled by h = 1 whose gradient is that of p_i (and of q_k), so dL/dθ_j = S·p_i(δ_ij − p_j)/τ with
//    S = Σ grad_out ⊙ y. S is the derivative along a scale of the block's output, and the conv + training-mode
//    BatchNorm that starts every next candidate makes the loss invariant to that scale: S ≈ 0, the accuracy
//    signal vanishes (DESIGN.md, "Architecture gradients must compare candidates"). Kept as
//    `estimator: straight_through` for comparison; the search's default, REINFORCE over sampled paths, lives in
//    supernet/arch_gradient.h and only needs this mode's forward.
//  - mixture (architecture steps): every candidate runs and the block outputs the expectation over both choices,
//    y = Σ_i p_i · op_i(x) ⊙ M + p_skip · x,  M_c = Σ_{k: w_k > c} q_k = P(width > c)
//    (the DARTS / FBNet relaxation; FBNetV2's mask mixture for the widths). Then
//      dL/dp_i = ⟨g, op_i(x) ⊙ M⟩ (⟨g, x⟩ for skip),  dL/dM_c = Σ_i p_i ⟨g_c, op_i(x)_c⟩,
//      dL/dq_k = Σ_{c < w_k} dL/dM_c,
//    and through the softmaxes dL/dθ_j = p_j (dL/dp_j − Σ_i p_i dL/dp_i)/τ (the same for φ with q). These compare
//    candidates — the difference between two operators' outputs, or between two widths' masks, is not a scale of
//    the output — so BatchNorm cannot cancel them (tests/supernet/arch_gradient_test.cpp).
//
// Skip (the identity) ignores the width: its output is its input, and a fixed net with skip has its input's
// channels. A residual candidate (an inverted residual at stride 1, in = out) ignores it too: y = op(x) ⊙ K + x,
// where K is the input's keep — which channels of x exist in the fixed network (set_input_source: the previous
// block's output_keep(), all ones for the first block) — so the fixed block projects to its input's channels. An
// expanding candidate's hidden channels follow K the same way (hidden channel h is kept with input channel h / E),
// masked where the projection reads them. With hard masks (sampled mode) the supernet computes exactly what the
// fixed network does; in mixture mode K is the previous block's expected keep, taken as a constant (no gradient
// reaches the previous block's width logits through it).
//
// Gradients: backward WRITES the θ_a gradients of this block (every operator and width logit) into the arch store
// bound by bind_arch(), and writes the weight gradients of every candidate (zero for those that did not run, so the
// flat weight-gradient span never holds stale values). The selection must not change between forward and backward.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "supernet/candidate_kinds.h"
#include "supernet/layer.h"
#include "supernet/search_space.h"

namespace nas::supernet {

enum class BlockMode { sampled, mixture };

// The gradient through p = softmax(θ/τ): given dL/dp, dL/dθ_j = p_j (dL/dp_j − Σ_i p_i dL/dp_i) / τ. Every θ_a
// gradient of the supernet (operators and widths; task loss and costs) goes through it.
std::vector<double> softmax_backward(const std::vector<double>& p, const std::vector<double>& d_p, double tau);

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
  // `<block>.width_logits` (one per width choice). Must be called before the first forward.
  void bind_arch(ParamStore& arch, int32_t op_logits_slot, int32_t width_logits_slot);

  const SearchBlock& spec() const { return spec_; }
  size_t op_count() const { return spec_.ops.size(); }
  const std::vector<int32_t>& widths() const { return widths_; }
  void select(size_t op);  // throws nas::Error when out of range
  size_t selected() const { return selected_; }
  void select_width(size_t width);  // an index into widths(); throws nas::Error when out of range
  size_t selected_width() const { return selected_width_; }
  void set_mode(BlockMode mode) { mode_ = mode; }
  BlockMode mode() const { return mode_; }
  void set_tau(double tau);  // the softmax temperature of both choices; > 0
  double tau() const { return tau_; }

  // softmax(θ/τ) over the candidates; softmax(φ/τ) over the widths.
  std::vector<double> op_probabilities() const;
  std::vector<double> width_probabilities() const;
  size_t argmax_width() const;  // the most likely width (the first on ties)
  // P(width > c) per output channel: the mixture's soft mask, non-increasing in c, 1 for channel 0.
  std::vector<double> channel_keep_probabilities() const;
  // The channels of the most likely width: 0..widths()[argmax_width()]−1.
  std::vector<int32_t> kept_channel_indices() const;
  // The channels a fixed architecture with `count` channels keeps: 0..count−1 (the ordered channels).
  // 1 ≤ count ≤ out_channels.
  std::vector<int32_t> strongest_channels(int32_t count) const;

  // Parameter slots (handles into the weight store) of candidate `op`'s stage `stage`: a Conv2d stage declares
  // [weight], a ReuseConv2d stage [weight, projection], a BatchNorm stage [gamma, beta, running_mean, running_var].
  // Stages: candidate_stages(op), e.g. conv → {conv, bn}; dwsep → {dw, dw_bn, pw, pw_bn}; skip → none.
  // A stage whose convolution shares a larger candidate's weights (SearchBlock::share_kernels, share_expansions) has
  // no slots.
  std::vector<int32_t> stage_slots(size_t op, size_t stage) const;
  size_t stage_count(size_t op) const { return ops_.at(op).stages.size(); }
  // The weights candidate `op`'s convolution stage (Conv2d or ReuseConv2d) computes with (HWIO): its own, or the
  // centre of the shared kernel.
  std::vector<float> conv_weights(size_t op, size_t stage) const;

  // The selected candidate's output before the width mask, as of the last sampled forward (the input for skip).
  const Tensor& op_output() const;

  // The block whose output this block reads (null for the first block: every input channel exists).
  void set_input_source(const SearchableBlock* previous) { input_source_ = previous; }
  // Per output channel, as of the last forward, whether it exists in the fixed network: the width mask, or the
  // input's keep for skip and residual candidates (their expectation in mixture mode). All ones before a forward.
  std::vector<float> output_keep() const;

 private:
  struct Stage {
    std::unique_ptr<Layer> layer;
    int32_t first_slot = 0, slot_count = 0;
    std::vector<std::span<float>> grads;  // its trainable slots' gradients (spans into the store's heap buffer)
  };
  struct Candidate {
    OpCandidate op;
    std::vector<Stage> stages;  // empty for skip
    std::vector<Tensor> outs;   // each stage's output as of the last forward that ran this candidate
    int32_t hidden_stage = -1;  // the stage whose output is masked by the input's keep (expanding kinds), or -1
    std::vector<float> hidden_mask;  // that mask, per hidden channel, as of the last forward
    Tensor hidden;                   // that stage's output times the mask: what the next stage read
  };

  // Candidate `op`'s trainable layers, from its kind's row (candidate_kinds.h); sets *hidden_stage.
  std::vector<Stage> build_stages(const OpCandidate& op, int32_t in_channels, int32_t* hidden_stage) const;
  // The mask candidate j's output is multiplied by: the width mask, or the input's keep when it keeps its input's
  // channels.
  const std::vector<float>& candidate_mask(size_t j) const;
  // The candidate whose weights candidate j computes with (SearchBlock::share_kernels, share_expansions): of its
  // kind, the largest kernel and then the largest expansion that holds j's (j itself when none is larger).
  size_t weight_source(size_t j) const;
  // Links each candidate's convolutions to its weight source's.
  void share_weights();
  // Runs candidate j's stages; returns the last stage's output.
  const Tensor& run_stages(size_t j, const Tensor& input, bool training);
  // Backpropagates `grad` (grad_a_ or grad_b_: the gradient at candidate j's output, overwritten) to `grad_in`
  // (may be null).
  void backprop_stages(size_t j, const Tensor& input, Tensor& grad, Tensor* grad_in);
  void zero_weight_grads(size_t j) const;
  void forward_sampled(const Tensor& input, Tensor& output, bool training);
  void forward_mixture(const Tensor& input, Tensor& output, bool training);
  void backward_sampled(const Tensor& input, const Tensor& grad_output, Tensor* grad_in);
  void backward_mixture(const Tensor& input, const Tensor& grad_output, Tensor* grad_in);
  // softmax_backward(p, d_p, τ), written into `out`.
  void write_softmax_gradient(const std::vector<double>& p, const std::vector<double>& d_p, float* out) const;
  void check_bound() const;

  SearchBlock spec_;
  std::vector<int32_t> widths_;
  std::vector<Candidate> ops_;
  Shape in_, out_;
  size_t selected_ = 0, selected_width_ = 0;
  size_t forward_selected_ = 0, forward_width_ = 0;  // what the last forward ran
  BlockMode mode_ = BlockMode::sampled, forward_mode_ = BlockMode::sampled;
  double tau_ = 1.0;
  Tensor grad_a_, grad_b_, grad_in_part_;  // scratch gradients
  std::vector<float> mask_;                 // the mask the last forward applied (soft in mixture mode)
  std::vector<double> forward_p_, forward_q_;  // the probabilities the last mixture forward used
  std::vector<float> partials_;             // per-chunk channel sums of grad_out ⊙ op output
  float *op_logits_ = nullptr, *d_op_logits_ = nullptr, *width_logits_ = nullptr, *d_width_logits_ = nullptr;
  const Tensor* last_input_ = nullptr;
  const SearchableBlock* input_source_ = nullptr;
  std::vector<float> in_keep_;  // the input's keep as of the last forward
};

}  // namespace nas::supernet
