#include "supernet/searchable_block.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "common/error.h"
#include "supernet/batchnorm2d.h"
#include "supernet/conv2d.h"
#include "supernet/parallel.h"
#include "supernet/reuse_conv2d.h"

namespace nas::supernet {

namespace {

constexpr int64_t kRowsPerChunk = 2048;

std::vector<double> softmax(const float* logits, size_t n, double tau) {
  std::vector<double> p(n);
  double top = -INFINITY;
  for (size_t j = 0; j < n; ++j) top = std::max(top, double{logits[j]} / tau);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += p[j] = std::exp(double{logits[j]} / tau - top);
  for (double& v : p) v /= sum;
  return p;
}

// y[r, c] = x[r, c]·scale[c] (or y += that), over NHWC rows; y has x's shape.
void scale_channels(const Tensor& x, const float* scale, Tensor& y, bool accumulate) {
  const int32_t c_n = x.shape().c;
  parallel_chunks(x.size() / c_n, kRowsPerChunk, [&](int64_t, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* in = x.data() + r * c_n;
      float* out = y.data() + r * c_n;
      if (accumulate) {
#pragma omp simd
        for (int32_t c = 0; c < c_n; ++c) out[c] += in[c] * scale[c];
      } else {
#pragma omp simd
        for (int32_t c = 0; c < c_n; ++c) out[c] = in[c] * scale[c];
      }
    }
  });
}

void add_tensor(const Tensor& from, Tensor& to) {
  float* y = to.data();
  const float* x = from.data();
  parallel_chunks(from.size(), kRowsPerChunk * 16, [&](int64_t, int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) y[i] += x[i];
  });
}

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

std::vector<double> softmax_backward(const std::vector<double>& p, const std::vector<double>& d_p, double tau) {
  double mean = 0;
  for (size_t i = 0; i < p.size(); ++i) mean += p[i] * d_p[i];
  std::vector<double> d_logits(p.size());
  for (size_t j = 0; j < p.size(); ++j) d_logits[j] = p[j] * (d_p[j] - mean) / tau;
  return d_logits;
}

SearchableBlock::SearchableBlock(SearchBlock spec) : spec_(std::move(spec)) {
  const std::string where = "searchable block '" + spec_.name + "'";
  if (spec_.ops.empty()) throw Error(where, "has no candidate ops");
  if (spec_.out_channels <= 0)
    throw Error(where, "out channels must be positive (got " + std::to_string(spec_.out_channels) + ")");
  widths_ = width_choices(spec_);
  for (size_t k = 0; k < widths_.size(); ++k)
    if (widths_[k] <= 0 || widths_[k] > spec_.out_channels || (k > 0 && widths_[k] <= widths_[k - 1]) ||
        (k + 1 == widths_.size() && widths_[k] != spec_.out_channels))
      throw Error(where, "widths must be strictly ascending channel counts ending with out (" +
                             std::to_string(spec_.out_channels) + ")");
  selected_width_ = widths_.size() - 1;
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
      Candidate candidate;
      candidate.op = op;
      if (op.keeps_input_channels() && (spec_.stride != 1 || in.c != spec_.out_channels))
        throw Error(where, op.name() + (op.residual ? " with a residual join" : "") +
                               " needs stride 1 and as many input as output channels (got stride " +
                               std::to_string(spec_.stride) + ", " + std::to_string(in.c) + " -> " +
                               std::to_string(spec_.out_channels) + " channels)");
      candidate.stages = build_stages(op, in.c, &candidate.hidden_stage);
      candidate.outs.resize(candidate.stages.size());
      ops_.push_back(std::move(candidate));
    }
    if (spec_.share_kernels || spec_.share_expansions) share_weights();
  }
  for (auto& candidate : ops_) {
    Shape shape = in;
    for (auto& stage : candidate.stages) {
      const Shape shapes[] = {shape};
      shape = stage.layer->output_shape(shapes);
    }
    if (!(shape == out_))
      throw Error(where, "op " + candidate.op.name() + " outputs " + shape.str() + ", expected " + out_.str(),
                  Error::Kind::failure);
  }
  return out_;
}

std::vector<SearchableBlock::Stage> SearchableBlock::build_stages(const OpCandidate& op, int32_t in_channels,
                                                                   int32_t* hidden_stage) const {
  std::vector<Stage> stages;
  auto stage = [&](std::unique_ptr<Layer> layer) { stages.push_back(Stage{std::move(layer), 0, 0, {}}); };
  const std::vector<CandidateStage> rows = candidate_stages(op);
  *hidden_stage = -1;
  int32_t channels = in_channels;  // of the activation the next stage reads
  for (size_t s = 0; s < rows.size(); ++s) {
    const CandidateStage& row = rows[s];
    const int32_t kernel = row.kxk ? op.kernel : 1, stride = row.kxk ? spec_.stride : 1;
    switch (row.kind) {
      case CandidateStage::Kind::conv:
        // An expanding candidate's hidden channels follow its input's live ones (set_input_source): the activation
        // this convolution reads is masked.
        if (candidate_kind(op.kind).expands) *hidden_stage = static_cast<int32_t>(s) - 1;
        channels = spec_.out_channels;
        stage(std::make_unique<Conv2d>(conv_spec(channels, kernel, stride, 1)));
        break;
      case CandidateStage::Kind::expand:
        channels = in_channels * op.expansion;
        stage(std::make_unique<Conv2d>(conv_spec(channels, kernel, stride, 1)));
        break;
      case CandidateStage::Kind::depthwise:
        stage(std::make_unique<Conv2d>(conv_spec(channels, kernel, stride, channels)));
        break;
      case CandidateStage::Kind::reuse_conv: {
        channels = spec_.out_channels;
        ReuseSpec reuse;
        reuse.sub_len = op.sub_len;
        reuse.hash_bits = op.hash_bits;
        stage(std::make_unique<ReuseConv2d>(conv_spec(channels, kernel, stride, 1), reuse));
        break;
      }
      case CandidateStage::Kind::batchnorm: {
        using Act = CandidateStage::Activation;
        const auto activation = row.activation == Act::relu    ? BatchNorm2d::Activation::relu
                                : row.activation == Act::relu6 ? BatchNorm2d::Activation::relu6
                                                               : BatchNorm2d::Activation::none;
        stage(std::make_unique<BatchNorm2d>(activation));
        break;
      }
    }
  }
  return stages;
}

size_t SearchableBlock::weight_source(size_t j) const {
  const OpCandidate& small = ops_[j].op;
  size_t source = j;
  // A reuse convolution's projections are its own and its clusters depend on its L: it shares nothing.
  if (candidate_kind(small.kind).reuses) return source;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const OpCandidate& big = ops_[i].op;
    const bool kernel_ok = spec_.share_kernels ? big.kernel >= small.kernel : big.kernel == small.kernel;
    const bool expansion_ok =
        spec_.share_expansions ? big.expansion >= small.expansion : big.expansion == small.expansion;
    if (big.kind != small.kind || !kernel_ok || !expansion_ok) continue;
    const OpCandidate& best = ops_[source].op;
    if (big.kernel > best.kernel || (big.kernel == best.kernel && big.expansion > best.expansion)) source = i;
  }
  return source;
}

void SearchableBlock::share_weights() {
  auto conv_at = [&](size_t j, size_t stage) { return static_cast<Conv2d*>(ops_[j].stages[stage].layer.get()); };
  for (size_t j = 0; j < ops_.size(); ++j) {
    const size_t source = weight_source(j);
    if (source == j) continue;
    // Hidden channel h of an expansion-E' candidate is channel (h / E')·E + h mod E' of the source's E: the first E'
    // of the E hidden channels each input channel has (an E' = 1 candidate's depthwise runs on the input's channels,
    // the first of each group). Equal expansions (every non-expanding kind): the same channels.
    const int32_t e_small = std::max(ops_[j].op.expansion, 1), e_big = std::max(ops_[source].op.expansion, 1);
    std::vector<int32_t> hidden;
    if (e_small != e_big)
      for (int32_t h = 0; h < e_small * in_.c; ++h) hidden.push_back(h / e_small * e_big + h % e_small);
    // Each convolution stage computes with the source's stage of the same kind, in order (an E' = 1 candidate has
    // no expand stage): a k×k kernel as the centre of the larger, hidden channels through the map above.
    const std::vector<CandidateStage> stages = candidate_stages(ops_[j].op);
    const std::vector<CandidateStage> big_stages = candidate_stages(ops_[source].op);
    size_t t = 0;
    for (size_t s = 0; s < stages.size(); ++s) {
      const CandidateStage::Kind kind = stages[s].kind;
      if (kind == CandidateStage::Kind::batchnorm) continue;
      while (big_stages.at(t).kind != kind) ++t;
      const bool hidden_out = kind == CandidateStage::Kind::expand ||
                              (kind == CandidateStage::Kind::depthwise && candidate_kind(ops_[j].op.kind).expands);
      const bool hidden_in = kind == CandidateStage::Kind::conv && candidate_kind(ops_[j].op.kind).expands;
      conv_at(j, s)->share_weights_of(conv_at(source, t), hidden_in ? hidden : std::vector<int32_t>{},
                                      hidden_out ? hidden : std::vector<int32_t>{});
      ++t;
    }
  }
}

std::vector<float> SearchableBlock::conv_weights(size_t op, size_t stage) const {
  const Layer* layer = ops_.at(op).stages.at(stage).layer.get();
  if (const auto* reuse = dynamic_cast<const ReuseConv2d*>(layer))
    return {reuse->weights().begin(), reuse->weights().end()};
  const auto* conv = dynamic_cast<const Conv2d*>(layer);
  if (!conv)
    throw Error("searchable block '" + spec_.name + "'", "stage " + std::to_string(stage) + " of op " +
                                                           ops_.at(op).op.name() + " is not a convolution",
                Error::Kind::failure);
  return conv->weights();
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

void SearchableBlock::bind_arch(ParamStore& arch, int32_t op_logits_slot, int32_t width_logits_slot) {
  const std::string where = "searchable block '" + spec_.name + "'";
  if (arch.value(op_logits_slot).size() != spec_.ops.size())
    throw Error(where, "op_logits slot has " + std::to_string(arch.value(op_logits_slot).size()) +
                           " values, expected " + std::to_string(spec_.ops.size()), Error::Kind::failure);
  if (arch.value(width_logits_slot).size() != widths_.size())
    throw Error(where, "width_logits slot has " + std::to_string(arch.value(width_logits_slot).size()) +
                           " values, expected " + std::to_string(widths_.size()), Error::Kind::failure);
  op_logits_ = arch.value(op_logits_slot).data();
  d_op_logits_ = arch.grad(op_logits_slot).data();
  width_logits_ = arch.value(width_logits_slot).data();
  d_width_logits_ = arch.grad(width_logits_slot).data();
}

void SearchableBlock::check_bound() const {
  if (!op_logits_)
    throw Error("searchable block '" + spec_.name + "'", "architecture parameters not bound", Error::Kind::failure);
}

void SearchableBlock::select(size_t op) {
  if (op >= spec_.ops.size())
    throw Error("searchable block '" + spec_.name + "'", "op " + std::to_string(op) + " does not exist (" +
                                                           std::to_string(spec_.ops.size()) + " candidates)",
                Error::Kind::failure);
  selected_ = op;
}

void SearchableBlock::select_width(size_t width) {
  if (width >= widths_.size())
    throw Error("searchable block '" + spec_.name + "'", "width " + std::to_string(width) + " does not exist (" +
                                                           std::to_string(widths_.size()) + " choices)",
                Error::Kind::failure);
  selected_width_ = width;
}

void SearchableBlock::set_tau(double tau) {
  if (!(tau > 0)) throw Error("searchable block '" + spec_.name + "'", "temperature must be positive (got " +
                                                                     std::to_string(tau) + ")");
  tau_ = tau;
}

std::vector<double> SearchableBlock::op_probabilities() const {
  check_bound();
  return softmax(op_logits_, spec_.ops.size(), tau_);
}

std::vector<double> SearchableBlock::width_probabilities() const {
  check_bound();
  return softmax(width_logits_, widths_.size(), tau_);
}

size_t SearchableBlock::argmax_width() const {
  check_bound();
  return static_cast<size_t>(std::max_element(width_logits_, width_logits_ + widths_.size()) - width_logits_);
}

std::vector<double> SearchableBlock::channel_keep_probabilities() const {
  const std::vector<double> q = width_probabilities();
  std::vector<double> keep(static_cast<size_t>(spec_.out_channels), 0.0);
  // M_c = Σ_{k: w_k > c} q_k: walk the widths from the widest down, accumulating.
  double tail = 0;
  size_t k = widths_.size();
  for (int32_t c = spec_.out_channels - 1; c >= 0; --c) {
    while (k > 0 && widths_[k - 1] > c) tail += q[--k];
    keep[static_cast<size_t>(c)] = tail;
  }
  return keep;
}

std::vector<int32_t> SearchableBlock::kept_channel_indices() const {
  return strongest_channels(widths_[argmax_width()]);
}

std::vector<int32_t> SearchableBlock::strongest_channels(int32_t count) const {
  if (count <= 0 || count > spec_.out_channels)
    throw Error("searchable block '" + spec_.name + "'", "cannot keep " + std::to_string(count) + " channels (it has " +
                                                           std::to_string(spec_.out_channels) + ")");
  std::vector<int32_t> kept(static_cast<size_t>(count));
  std::iota(kept.begin(), kept.end(), 0);
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
  return candidate.outs.back();
}

std::vector<float> SearchableBlock::output_keep() const {
  if (mask_.empty()) return std::vector<float>(static_cast<size_t>(out_.c), 1.0f);  // no forward yet
  if (forward_mode_ == BlockMode::sampled) return candidate_mask(forward_selected_);
  std::vector<float> keep(static_cast<size_t>(out_.c), 0.0f);
  for (size_t j = 0; j < ops_.size(); ++j) {
    const std::vector<float>& m = candidate_mask(j);
    for (size_t c = 0; c < keep.size(); ++c) keep[c] += static_cast<float>(forward_p_[j]) * m[c];
  }
  return keep;
}

const std::vector<float>& SearchableBlock::candidate_mask(size_t j) const {
  return ops_[j].op.keeps_input_channels() ? in_keep_ : mask_;
}

const Tensor& SearchableBlock::run_stages(size_t j, const Tensor& input, bool training) {
  Candidate& candidate = ops_[j];
  const Tensor* in = &input;
  for (size_t s = 0; s < candidate.stages.size(); ++s) {
    const Tensor* ins[] = {in};
    candidate.stages[s].layer->forward(ins, candidate.outs[s], training);
    in = &candidate.outs[s];
    if (static_cast<int32_t>(s) == candidate.hidden_stage) {
      // Hidden channel h exists in the fixed network when its input channel h / E does (ordered channels: the
      // first E·w of E·cin): mask it with that channel's keep.
      const int32_t expansion = std::max(candidate.op.expansion, 1);
      std::vector<float> mask(static_cast<size_t>(in->shape().c));
      for (size_t h = 0; h < mask.size(); ++h) mask[h] = in_keep_[h / static_cast<size_t>(expansion)];
      candidate.hidden_mask = std::move(mask);
      candidate.hidden.resize(in->shape());
      scale_channels(*in, candidate.hidden_mask.data(), candidate.hidden, /*accumulate=*/false);
      in = &candidate.hidden;
    }
  }
  return *in;
}

void SearchableBlock::backprop_stages(size_t j, const Tensor& input, Tensor& grad, Tensor* grad_in) {
  // `grad` is grad_a_ or grad_b_; the stages ping-pong between the two.
  Candidate& candidate = ops_[j];
  Tensor* current = &grad;
  for (size_t s = candidate.stages.size(); s-- > 0;) {
    const bool reads_hidden = s > 0 && static_cast<int32_t>(s) - 1 == candidate.hidden_stage;
    const Tensor* ins[] = {s == 0 ? &input : reads_hidden ? &candidate.hidden : &candidate.outs[s - 1]};
    Tensor* target = s == 0 ? grad_in : (current == &grad_a_ ? &grad_b_ : &grad_a_);  // ping-pong
    Tensor* targets[] = {target};
    candidate.stages[s].layer->backward(ins, candidate.outs[s], *current, targets);
    current = target;
    if (reads_hidden) scale_channels(*current, candidate.hidden_mask.data(), *current, /*accumulate=*/false);
  }
}

void SearchableBlock::forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) {
  check_bound();
  const Tensor& input = *inputs[0];
  last_input_ = &input;
  in_keep_ = input_source_ ? input_source_->output_keep() : std::vector<float>(static_cast<size_t>(in_.c), 1.0f);
  if (in_keep_.size() != static_cast<size_t>(in_.c))
    throw Error("searchable block '" + spec_.name + "'", "its input source has " + std::to_string(in_keep_.size()) +
                                                           " channels, its input " + std::to_string(in_.c),
                Error::Kind::failure);
  forward_mode_ = mode_;
  forward_selected_ = selected_;
  forward_width_ = selected_width_;
  if (mode_ == BlockMode::mixture)
    forward_mixture(input, output, training);
  else
    forward_sampled(input, output, training);
}

void SearchableBlock::forward_sampled(const Tensor& input, Tensor& output, bool training) {
  mask_.assign(static_cast<size_t>(out_.c), 0.0f);
  std::fill_n(mask_.begin(), widths_[forward_width_], 1.0f);
  const Candidate& candidate = ops_[forward_selected_];
  if (candidate.stages.empty()) {  // skip: the input unchanged, no mask
    copy_tensor(input, output);
    return;
  }
  const Tensor& op_out = run_stages(forward_selected_, input, training);
  output.resize(op_out.shape());
  // The mask goes straight from the op's buffer into the block output: one pass, no extra copy.
  scale_channels(op_out, candidate_mask(forward_selected_).data(), output, /*accumulate=*/false);
  if (candidate.op.residual) add_tensor(input, output);
}

void SearchableBlock::forward_mixture(const Tensor& input, Tensor& output, bool training) {
  forward_p_ = op_probabilities();
  forward_q_ = width_probabilities();
  const std::vector<double> keep = channel_keep_probabilities();
  mask_.assign(keep.begin(), keep.end());
  const int32_t c_n = out_.c;
  output.resize(Shape{input.shape().n, out_.h, out_.w, c_n});
  output.zero();
  std::vector<float> scale(static_cast<size_t>(c_n));
  for (size_t j = 0; j < ops_.size(); ++j) {
    const Candidate& candidate = ops_[j];
    const auto pj = static_cast<float>(forward_p_[j]);
    if (candidate.op.keeps_input_channels()) {  // skip, or a residual join's identity branch: p_j·x
      std::fill(scale.begin(), scale.end(), pj);
      scale_channels(input, scale.data(), output, /*accumulate=*/true);
      if (candidate.stages.empty()) continue;
    }
    const Tensor& a = run_stages(j, input, training);
    const std::vector<float>& m = candidate_mask(j);
    for (int32_t c = 0; c < c_n; ++c) scale[static_cast<size_t>(c)] = pj * m[static_cast<size_t>(c)];
    scale_channels(a, scale.data(), output, /*accumulate=*/true);
  }
}

// The network writes (not accumulates) gradients, so candidates that did not run must write zeros; otherwise the
// optimizer would see the gradient of the last step they ran in.
void SearchableBlock::zero_weight_grads(size_t j) const {
  for (const Stage& stage : ops_[j].stages)
    for (std::span<float> g : stage.grads) std::fill(g.begin(), g.end(), 0.0f);
}

void SearchableBlock::write_softmax_gradient(const std::vector<double>& p, const std::vector<double>& d_p,
                                             float* out) const {
  const std::vector<double> d_logits = softmax_backward(p, d_p, tau_);
  for (size_t j = 0; j < d_logits.size(); ++j) out[j] = static_cast<float>(d_logits[j]);
}

void SearchableBlock::backward(std::span<const Tensor* const> inputs, const Tensor& /*output*/,
                               const Tensor& grad_output, std::span<Tensor* const> grad_inputs) {
  if (forward_mode_ == BlockMode::mixture)
    backward_mixture(*inputs[0], grad_output, grad_inputs[0]);
  else
    backward_sampled(*inputs[0], grad_output, grad_inputs[0]);
}

void SearchableBlock::backward_sampled(const Tensor& input, const Tensor& grad_output, Tensor* grad_in) {
  for (size_t j = 0; j < ops_.size(); ++j)
    if (j != forward_selected_) zero_weight_grads(j);
  const Candidate& candidate = ops_[forward_selected_];
  const auto c_n = static_cast<size_t>(out_.c);

  // S = Σ grad_out ⊙ (block output), the straight-through factor of both choices' logit gradients.
  double s_total = 0;
  if (candidate.op.keeps_input_channels())  // the identity branch: Σ grad_out ⊙ x
    for (double v : channel_products(grad_output, input, nullptr, nullptr, partials_)) s_total += v;
  if (candidate.stages.empty()) {
    if (grad_in) copy_tensor(grad_output, *grad_in);
  } else {
    // One pass: per-channel Σ grad_out·op_out and the masked gradient that enters the op.
    const std::vector<float>& m = candidate_mask(forward_selected_);
    const std::vector<double> sums = channel_products(grad_output, candidate.outs.back(), m.data(), &grad_a_,
                                                      partials_);
    for (size_t c = 0; c < c_n; ++c) s_total += m[c] * sums[c];
    backprop_stages(forward_selected_, input, grad_a_, grad_in);
    if (grad_in && candidate.op.residual) add_tensor(grad_output, *grad_in);
  }

  // dL/dθ_j = S · p_i (δ_ij − p_j) / τ: the softmax's gradient for dL/dp = S at the selected choice i, zero
  // elsewhere; the same for the widths (zero for skip and residual joins, which do not use the width).
  auto straight_through = [&](const std::vector<double>& p, size_t i, double s, float* out) {
    std::vector<double> d_p(p.size(), 0.0);
    d_p[i] = s;
    write_softmax_gradient(p, d_p, out);
  };
  straight_through(op_probabilities(), forward_selected_, s_total, d_op_logits_);
  straight_through(width_probabilities(), forward_width_, candidate.op.keeps_input_channels() ? 0.0 : s_total,
                   d_width_logits_);
}

void SearchableBlock::backward_mixture(const Tensor& input, const Tensor& grad_output, Tensor* grad_in) {
  const auto c_n = static_cast<size_t>(out_.c);
  std::vector<double> d_p(ops_.size(), 0.0), d_mask(c_n, 0.0);
  std::vector<float> scale(c_n);
  if (grad_in) {
    grad_in->resize(input.shape());
    grad_in->zero();
  }
  for (size_t j = 0; j < ops_.size(); ++j) {
    const Candidate& candidate = ops_[j];
    const auto pj = static_cast<float>(forward_p_[j]);
    if (candidate.op.keeps_input_channels()) {  // the identity branch: y += p_j·x
      for (double v : channel_products(grad_output, input, nullptr, nullptr, partials_)) d_p[j] += v;
      if (grad_in) {
        Tensor& part = grad_in_part_;
        part.resize(input.shape());
        for (int64_t i = 0; i < part.size(); ++i) part[i] = grad_output[i] * pj;
        add_tensor(part, *grad_in);
      }
      if (candidate.stages.empty()) continue;
    }
    // y += p_j · a ⊙ m: per channel Σ g·a (for p_j and, when m is the width mask M, for M) and the gradient
    // p_j·m ⊙ g that enters the op. A residual candidate's m is its input's keep, a constant here.
    const std::vector<float>& m = candidate_mask(j);
    for (size_t c = 0; c < c_n; ++c) scale[c] = pj * m[c];
    const std::vector<double> sums = channel_products(grad_output, candidate.outs.back(), scale.data(), &grad_a_,
                                                      partials_);
    for (size_t c = 0; c < c_n; ++c) {
      d_p[j] += m[c] * sums[c];
      if (!candidate.op.keeps_input_channels()) d_mask[c] += forward_p_[j] * sums[c];
    }
    backprop_stages(j, input, grad_a_, grad_in ? &grad_in_part_ : nullptr);
    if (grad_in) add_tensor(grad_in_part_, *grad_in);
  }
  write_softmax_gradient(forward_p_, d_p, d_op_logits_);
  // dL/dq_k = Σ_{c < w_k} dL/dM_c
  std::vector<double> d_q(widths_.size(), 0.0);
  double prefix = 0;
  int32_t c = 0;
  for (size_t k = 0; k < widths_.size(); ++k) {
    for (; c < widths_[k]; ++c) prefix += d_mask[static_cast<size_t>(c)];
    d_q[k] = prefix;
  }
  write_softmax_gradient(forward_q_, d_q, d_width_logits_);
}

}  // namespace nas::supernet
