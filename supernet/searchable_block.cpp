#include "supernet/searchable_block.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "supernet/batchnorm2d.h"
#include "supernet/conv2d.h"
#include "supernet/error.h"
#include "supernet/parallel.h"

namespace nas::supernet {

namespace {

constexpr int64_t kRowsPerChunk = 2048;
constexpr double kKeepThreshold = 0.5;  // |γ| above it keeps a channel (PIT's threshold on the binarised mask)

// The straight-through derivative of the binarised mask H(|γ| − 0.5) with respect to γ: that of |γ|.
inline float mask_ste(float gamma) { return gamma < 0.0f ? -1.0f : 1.0f; }

Conv2dSpec conv_spec(int32_t out, int32_t kernel, int32_t stride, int32_t groups) {
  Conv2dSpec spec;
  spec.out_channels = out;
  spec.kernel_h = spec.kernel_w = kernel;
  spec.stride = stride;
  spec.padding = kernel / 2;
  spec.groups = groups;
  spec.bias = false;  // the BatchNorm after it has its own shift
  return spec;
}

// Per-channel Σ_rows a[r,c]·b[r,c] in double (float within a chunk, chunks combined in order, so the result does
// not depend on the thread count). When `masked` is given, also writes masked[r,c] = a[r,c]·mask[c] in the same
// pass over memory.
std::vector<double> channel_products(const Tensor& a, const Tensor& b, const float* mask, Tensor* masked,
                                     std::vector<float>& partials) {
  const int32_t c_n = a.shape().c;
  const int64_t rows = a.size() / c_n;
  const int64_t chunks = chunk_count(rows, kRowsPerChunk);
  partials.assign(static_cast<size_t>(chunks * c_n), 0.0f);
  if (masked) masked->resize(a.shape());
  parallel_chunks(rows, kRowsPerChunk, [&](int64_t index, int64_t r0, int64_t r1) {
    float* sum = partials.data() + index * c_n;
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = a.data() + r * c_n;
      const float* y = b.data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) sum[c] += x[c] * y[c];
      if (masked) {
        float* out = masked->data() + r * c_n;
#pragma omp simd
        for (int32_t c = 0; c < c_n; ++c) out[c] = x[c] * mask[c];
      }
    }
  });
  std::vector<double> sums(static_cast<size_t>(c_n), 0.0);
  for (int64_t p = 0; p < chunks; ++p)
    for (int32_t c = 0; c < c_n; ++c) sums[static_cast<size_t>(c)] += partials[static_cast<size_t>(p * c_n + c)];
  return sums;
}

void copy_tensor(const Tensor& from, Tensor& to) {
  to.resize(from.shape());
  std::memcpy(to.data(), from.data(), sizeof(float) * static_cast<size_t>(from.size()));
}

}  // namespace

SearchableBlock::SearchableBlock(SearchBlock spec) : spec_(std::move(spec)) {
  if (spec_.ops.empty()) throw Error("searchable block '" + spec_.name + "'", "has no candidate ops");
  if (spec_.out_channels <= 0)
    throw Error("searchable block '" + spec_.name + "'", "out channels must be positive (got " +
                                                           std::to_string(spec_.out_channels) + ")");
}

Shape SearchableBlock::output_shape(std::span<const Shape> inputs) {
  const Shape in = inputs[0];
  const std::string where = "searchable block '" + spec_.name + "'";
  if (!ops_.empty() && in.c != in_.c)
    throw Error(where, "input channels changed after the block was built", Error::Kind::failure);
  in_ = in;
  out_ = {in.n, (in.h - 1) / spec_.stride + 1, (in.w - 1) / spec_.stride + 1, spec_.out_channels};
  if (ops_.empty()) {
    for (const OpCandidate& op : spec_.ops) {
      Candidate candidate{op, {}};
      auto stage = [&](std::unique_ptr<Layer> layer) { candidate.stages.push_back(Stage{std::move(layer), 0, 0, {}}); };
      switch (op.kind) {
        case OpKind::skip:
          if (spec_.stride != 1 || in.c != spec_.out_channels)
            throw Error(where, "skip needs stride 1 and as many input as output channels (got stride " +
                                   std::to_string(spec_.stride) + ", " + std::to_string(in.c) + " -> " +
                                   std::to_string(spec_.out_channels) + " channels)");
          break;
        case OpKind::conv:
          stage(std::make_unique<Conv2d>(conv_spec(spec_.out_channels, op.kernel, spec_.stride, 1)));
          stage(std::make_unique<BatchNorm2d>(BatchNorm2d::Activation::relu));
          break;
        case OpKind::dwsep:
          stage(std::make_unique<Conv2d>(conv_spec(in.c, op.kernel, spec_.stride, in.c)));
          stage(std::make_unique<BatchNorm2d>(BatchNorm2d::Activation::relu));
          stage(std::make_unique<Conv2d>(conv_spec(spec_.out_channels, 1, 1, 1)));
          stage(std::make_unique<BatchNorm2d>(BatchNorm2d::Activation::relu));
          break;
      }
      ops_.push_back(std::move(candidate));
    }
  }
  size_t most_stages = 0;
  for (auto& candidate : ops_) {
    Shape shape = in;
    for (auto& stage : candidate.stages) {
      const Shape shapes[] = {shape};
      shape = stage.layer->output_shape(shapes);
    }
    if (!(shape == out_))
      throw Error(where, "op " + candidate.op.name() + " outputs " + shape.str() + ", expected " + out_.str(),
                  Error::Kind::failure);
    most_stages = std::max(most_stages, candidate.stages.size());
  }
  stage_out_.resize(most_stages);
  return out_;
}

void SearchableBlock::declare(ParamStore& store) {
  for (auto& candidate : ops_) {
    for (auto& stage : candidate.stages) {
      stage.first_slot = static_cast<int32_t>(store.slots().size());
      stage.layer->declare(store);
      stage.slot_count = static_cast<int32_t>(store.slots().size()) - stage.first_slot;
    }
  }
}

void SearchableBlock::bind(ParamStore& store) {
  for (auto& candidate : ops_) {
    for (auto& stage : candidate.stages) {
      stage.layer->bind(store);
      stage.grads.clear();
      for (int32_t s = stage.first_slot; s < stage.first_slot + stage.slot_count; ++s)
        if (store.slots()[static_cast<size_t>(s)].role != ParamRole::state) stage.grads.push_back(store.grad(s));
    }
  }
}

void SearchableBlock::init(ParamStore& store, Rng& rng) {
  for (auto& candidate : ops_)
    for (auto& stage : candidate.stages) stage.layer->init(store, rng);
}

void SearchableBlock::bind_arch(ParamStore& arch, int32_t logits_slot, int32_t gamma_slot) {
  const std::string where = "searchable block '" + spec_.name + "'";
  if (arch.value(logits_slot).size() != spec_.ops.size())
    throw Error(where, "op_logits slot has " + std::to_string(arch.value(logits_slot).size()) + " values, expected " +
                           std::to_string(spec_.ops.size()), Error::Kind::failure);
  if (arch.value(gamma_slot).size() != static_cast<size_t>(spec_.out_channels))
    throw Error(where, "gamma slot has " + std::to_string(arch.value(gamma_slot).size()) + " values, expected " +
                           std::to_string(spec_.out_channels), Error::Kind::failure);
  logits_ = arch.value(logits_slot).data();
  dlogits_ = arch.grad(logits_slot).data();
  gamma_ = arch.value(gamma_slot).data();
  dgamma_ = arch.grad(gamma_slot).data();
}

void SearchableBlock::select(size_t op) {
  if (op >= spec_.ops.size())
    throw Error("searchable block '" + spec_.name + "'", "op " + std::to_string(op) + " does not exist (" +
                                                           std::to_string(spec_.ops.size()) + " candidates)",
                Error::Kind::failure);
  selected_ = op;
}

void SearchableBlock::set_tau(double tau) {
  if (!(tau > 0)) throw Error("searchable block '" + spec_.name + "'", "temperature must be positive (got " +
                                                                     std::to_string(tau) + ")");
  tau_ = tau;
}

std::vector<double> SearchableBlock::op_probabilities() const {
  if (!logits_) throw Error("searchable block '" + spec_.name + "'", "architecture parameters not bound", Error::Kind::failure);
  const size_t n = spec_.ops.size();
  std::vector<double> p(n);
  double top = -INFINITY;
  for (size_t j = 0; j < n; ++j) top = std::max(top, double{logits_[j]} / tau_);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += p[j] = std::exp(double{logits_[j]} / tau_ - top);
  for (double& v : p) v /= sum;
  return p;
}

std::vector<float> SearchableBlock::channel_mask() const {
  if (!gamma_) throw Error("searchable block '" + spec_.name + "'", "architecture parameters not bound", Error::Kind::failure);
  const auto c_n = static_cast<size_t>(spec_.out_channels);
  std::vector<float> mask(c_n);
  size_t strongest = 0;
  for (size_t c = 0; c < c_n; ++c) {
    mask[c] = std::abs(gamma_[c]) > kKeepThreshold ? 1.0f : 0.0f;
    if (std::abs(gamma_[c]) > std::abs(gamma_[strongest])) strongest = c;
  }
  mask[strongest] = 1.0f;
  return mask;
}

std::vector<int32_t> SearchableBlock::kept_channel_indices() const {
  const std::vector<float> mask = channel_mask();
  std::vector<int32_t> kept;
  for (size_t c = 0; c < mask.size(); ++c)
    if (mask[c] != 0.0f) kept.push_back(static_cast<int32_t>(c));
  return kept;
}

std::vector<int32_t> SearchableBlock::strongest_channels(int32_t count) const {
  std::vector<int32_t> kept(static_cast<size_t>(spec_.out_channels));
  std::iota(kept.begin(), kept.end(), 0);
  if (count <= 0 || count > spec_.out_channels)
    throw Error("searchable block '" + spec_.name + "'", "cannot keep " + std::to_string(count) + " channels (it has " +
                                                           std::to_string(spec_.out_channels) + ")");
  std::stable_sort(kept.begin(), kept.end(), [&](int32_t a, int32_t b) {
    return std::abs(gamma_[static_cast<size_t>(a)]) > std::abs(gamma_[static_cast<size_t>(b)]);
  });
  kept.resize(static_cast<size_t>(count));
  std::sort(kept.begin(), kept.end());
  return kept;
}

std::vector<int32_t> SearchableBlock::stage_slots(size_t op, size_t stage) const {
  const Stage& s = ops_.at(op).stages.at(stage);
  std::vector<int32_t> slots;
  for (int32_t k = 0; k < s.slot_count; ++k) slots.push_back(s.first_slot + k);
  return slots;
}

const Tensor& SearchableBlock::op_output() const {
  const Candidate& candidate = ops_.at(forward_selected_);
  if (candidate.stages.empty()) {
    if (!last_input_) throw Error("searchable block '" + spec_.name + "'", "no forward yet", Error::Kind::failure);
    return *last_input_;
  }
  return stage_out_[candidate.stages.size() - 1];
}

const Tensor& SearchableBlock::run_stages(const Tensor& input, bool training) {
  const Candidate& candidate = ops_[forward_selected_];
  const Tensor* in = &input;
  for (size_t s = 0; s < candidate.stages.size(); ++s) {
    const Tensor* ins[] = {in};
    candidate.stages[s].layer->forward(ins, stage_out_[s], training);
    in = &stage_out_[s];
  }
  return *in;
}

void SearchableBlock::forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) {
  if (!logits_) throw Error("searchable block '" + spec_.name + "'", "architecture parameters not bound", Error::Kind::failure);
  const Tensor& input = *inputs[0];
  last_input_ = &input;
  forward_selected_ = selected_;
  if (ops_[forward_selected_].stages.empty()) {  // skip: the input unchanged, no mask
    copy_tensor(input, output);
    return;
  }
  const Tensor& op_out = run_stages(input, training);
  mask_ = channel_mask();
  output.resize(op_out.shape());
  // The mask goes straight from the op's buffer into the block output: one pass, no extra copy.
  const int32_t c_n = out_.c;
  const float* mask = mask_.data();
  parallel_chunks(op_out.size() / c_n, kRowsPerChunk, [&](int64_t, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = op_out.data() + r * c_n;
      float* y = output.data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) y[c] = x[c] * mask[c];
    }
  });
}

// The network writes (not accumulates) gradients, so candidates that did not run must write zeros; otherwise the
// optimizer would see the gradient of the last step they ran in.
void SearchableBlock::zero_unselected_weight_grads() const {
  for (size_t j = 0; j < ops_.size(); ++j) {
    if (j == forward_selected_) continue;
    for (const Stage& stage : ops_[j].stages)
      for (std::span<float> g : stage.grads) std::fill(g.begin(), g.end(), 0.0f);
  }
}

void SearchableBlock::backward(std::span<const Tensor* const> inputs, const Tensor& /*output*/,
                               const Tensor& grad_output, std::span<Tensor* const> grad_inputs) {
  const Tensor& input = *inputs[0];
  Tensor* grad_in = grad_inputs[0];
  zero_unselected_weight_grads();
  const Candidate& candidate = ops_[forward_selected_];
  const auto c_n = static_cast<size_t>(out_.c);

  // S = Σ grad_out ⊙ (masked op output), the straight-through factor of the logit gradient.
  double s_total = 0;
  if (candidate.stages.empty()) {
    const std::vector<double> sums = channel_products(grad_output, input, nullptr, nullptr, partials_);
    for (double v : sums) s_total += v;
    std::fill_n(dgamma_, c_n, 0.0f);
    if (grad_in) copy_tensor(grad_output, *grad_in);
  } else {
    const Tensor& op_out = stage_out_[candidate.stages.size() - 1];
    // One pass: per-channel Σ grad_out·op_out (for γ and S) and the masked gradient that enters the op.
    const std::vector<double> sums = channel_products(grad_output, op_out, mask_.data(), &grad_a_, partials_);
    for (size_t c = 0; c < c_n; ++c) {
      s_total += mask_[c] * sums[c];
      dgamma_[c] = static_cast<float>(mask_ste(gamma_[c]) * sums[c]);
    }
    const Tensor* grad = &grad_a_;
    for (size_t s = candidate.stages.size(); s-- > 0;) {
      const Tensor* ins[] = {s == 0 ? &input : &stage_out_[s - 1]};
      Tensor* target = s == 0 ? grad_in : (grad == &grad_a_ ? &grad_b_ : &grad_a_);
      Tensor* targets[] = {target};
      candidate.stages[s].layer->backward(ins, stage_out_[s], *grad, targets);
      grad = target;
    }
  }

  // dL/dθ_j = S · p_i (δ_ij − p_j) / τ
  const std::vector<double> p = op_probabilities();
  const size_t i = forward_selected_;
  for (size_t j = 0; j < p.size(); ++j)
    dlogits_[j] = static_cast<float>(s_total * p[i] * ((i == j ? 1.0 : 0.0) - p[j]) / tau_);
}

}  // namespace nas::supernet
