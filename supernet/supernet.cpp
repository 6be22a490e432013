#include "supernet/supernet.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "supernet/linear.h"
#include "supernet/pooling.h"

namespace nas::supernet {

SuperNet::SuperNet(SearchSpace space, Shape input, int32_t num_classes, uint64_t seed)
    : space_(std::move(space)), input_({1, input.h, input.w, input.c}), num_classes_(num_classes), net_(input) {
  if (space_.blocks.empty()) throw Error("supernet", "the search space has no blocks");
  if (num_classes <= 0) throw Error("supernet", "classes must be positive (got " + std::to_string(num_classes) + ")");
  for (const SearchBlock& spec : space_.blocks) {
    auto block = std::make_unique<SearchableBlock>(spec);
    block->set_input_source(blocks_.empty() ? nullptr : blocks_.back());
    blocks_.push_back(block.get());
    net_.add(spec.name, std::move(block), {net_.size() - 1});
  }
  net_.add("head.pool", std::make_unique<GlobalAvgPool>(), {net_.size() - 1});
  net_.add("head.fc", std::make_unique<Linear>(num_classes), {net_.size() - 1});
  net_.finalize(seed);

  for (const SearchBlock& spec : space_.blocks) {
    logits_slots_.push_back(
        arch_.declare(spec.name + ".op_logits", static_cast<int64_t>(spec.ops.size()), ParamRole::no_decay));
    width_slots_.push_back(arch_.declare(spec.name + ".width_logits", static_cast<int64_t>(width_choices(spec).size()),
                                         ParamRole::no_decay));
  }
  arch_.allocate();  // zero logits: every op and every width equally likely
  for (size_t b = 0; b < blocks_.size(); ++b) blocks_[b]->bind_arch(arch_, logits_slots_[b], width_slots_[b]);
}

void SuperNet::set_mode(BlockMode mode) {
  for (SearchableBlock* block : blocks_) block->set_mode(mode);
}

void SuperNet::set_tau(double tau) {
  if (!(tau > 0)) throw Error("supernet", "temperature must be positive (got " + std::to_string(tau) + ")");
  tau_ = tau;
  for (SearchableBlock* block : blocks_) block->set_tau(tau);
}

namespace {

// Gumbel-max: argmax_j (θ_j/τ + g_j) with g_j = −log(−log u_j) is distributed as softmax(θ/τ).
size_t gumbel_max(std::span<const float> logits, double tau, Rng& rng) {
  size_t best = 0;
  double best_score = -INFINITY;
  for (size_t j = 0; j < logits.size(); ++j) {
    const double u = (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53;  // in (0, 1): both logs finite
    const double score = double{logits[j]} / tau - std::log(-std::log(u));
    if (score > best_score) {
      best_score = score;
      best = j;
    }
  }
  return best;
}

size_t argmax(std::span<const float> logits) {
  return static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace

void SuperNet::sample(Rng& rng, double tau) {
  set_tau(tau);
  for (size_t b = 0; b < blocks_.size(); ++b) {
    blocks_[b]->select(gumbel_max(arch_.value(logits_slots_[b]), tau, rng));
    blocks_[b]->select_width(gumbel_max(arch_.value(width_slots_[b]), tau, rng));
  }
}

void SuperNet::sample_uniform(Rng& rng) {
  for (SearchableBlock* block : blocks_) {
    block->select(static_cast<size_t>(rng.uniform(0.0, 1.0) * static_cast<double>(block->op_count())));
    block->select_width(static_cast<size_t>(rng.uniform(0.0, 1.0) * static_cast<double>(block->widths().size())));
  }
}

void SuperNet::sample_seed_path(Rng& rng) {
  for (SearchableBlock* block : blocks_) {
    block->select(0);
    block->select_width(static_cast<size_t>(rng.uniform(0.0, 1.0) * static_cast<double>(block->widths().size())));
  }
}

void SuperNet::select_argmax() {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    blocks_[b]->select(argmax(arch_.value(logits_slots_[b])));
    blocks_[b]->select_width(argmax(arch_.value(width_slots_[b])));
  }
}

void SuperNet::select_fixed(const FixedArch& arch) {
  if (arch.blocks.size() != blocks_.size())
    throw Error("select_fixed", std::to_string(arch.blocks.size()) + " blocks given for a supernet of " +
                                    std::to_string(blocks_.size()),
                Error::Kind::failure);
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const auto& ops = space_.blocks[b].ops;
    const auto op = std::find(ops.begin(), ops.end(), arch.blocks[b].op);
    if (op == ops.end())
      throw Error("select_fixed", "block " + space_.blocks[b].name + " has no candidate " + arch.blocks[b].op.name(),
                  Error::Kind::failure);
    blocks_[b]->select(static_cast<size_t>(op - ops.begin()));
    const std::vector<int32_t>& widths = blocks_[b]->widths();
    const auto width = std::lower_bound(widths.begin(), widths.end(), arch.blocks[b].out_channels);
    blocks_[b]->select_width(width == widths.end() ? widths.size() - 1 : static_cast<size_t>(width - widths.begin()));
  }
}

std::vector<double> SuperNet::op_probabilities(size_t b) const { return blocks_.at(b)->op_probabilities(); }

std::vector<double> SuperNet::width_probabilities(size_t b) const { return blocks_.at(b)->width_probabilities(); }

double SuperNet::expected_channels(size_t b) const {
  const std::vector<double> q = width_probabilities(b);
  const std::vector<int32_t>& widths = blocks_.at(b)->widths();
  double sum = 0;
  for (size_t k = 0; k < q.size(); ++k) sum += q[k] * widths[k];
  return sum;
}

double SuperNet::selected_channels(size_t b) const {
  return blocks_.at(b)->widths()[blocks_.at(b)->selected_width()];
}

std::vector<int32_t> SuperNet::kept_channel_indices(size_t b) const { return blocks_.at(b)->kept_channel_indices(); }

void SuperNet::add_cost_gradient(size_t b, std::span<const double> d_prob, double d_channels) {
  const std::vector<double> p = op_probabilities(b);
  if (d_prob.size() != p.size())
    throw Error("supernet", "cost gradient for block '" + space_.blocks.at(b).name + "' has " +
                                std::to_string(d_prob.size()) + " op terms, expected " + std::to_string(p.size()),
                Error::Kind::failure);
  auto add = [](std::span<float> grads, const std::vector<double>& d) {
    for (size_t j = 0; j < d.size(); ++j) grads[j] += static_cast<float>(d[j]);
  };
  add(arch_.grad(logits_slots_[b]), softmax_backward(p, {d_prob.begin(), d_prob.end()}, tau_));
  // E = Σ_k q_k w_k, so dC/dq_k = dC/dE · w_k.
  const std::vector<int32_t>& widths = blocks_.at(b)->widths();
  std::vector<double> d_q(widths.size());
  for (size_t k = 0; k < widths.size(); ++k) d_q[k] = d_channels * widths[k];
  add(arch_.grad(width_slots_[b]), softmax_backward(width_probabilities(b), d_q, tau_));
}

void SuperNet::add_score_gradient(size_t b, size_t op, size_t width, double weight) {
  const std::vector<double> p = op_probabilities(b), q = width_probabilities(b);
  auto d_op = arch_.grad(logits_slots_.at(b));
  auto d_width = arch_.grad(width_slots_.at(b));
  for (size_t j = 0; j < p.size(); ++j) d_op[j] += static_cast<float>(weight * ((j == op ? 1.0 : 0.0) - p[j]) / tau_);
  for (size_t k = 0; k < q.size(); ++k)
    d_width[k] += static_cast<float>(weight * ((k == width ? 1.0 : 0.0) - q[k]) / tau_);
}

void SuperNet::zero_arch_grads() { std::fill(arch_.grads().begin(), arch_.grads().end(), 0.0f); }

FixedArch SuperNet::fix() const {
  std::vector<size_t> ops;
  for (size_t b = 0; b < blocks_.size(); ++b) ops.push_back(argmax(arch_.value(logits_slots_[b])));
  return fix_with_ops(ops);
}

FixedArch SuperNet::fix_with_ops(const std::vector<size_t>& ops) const {
  if (ops.size() != blocks_.size())
    throw Error("fix_with_ops", std::to_string(ops.size()) + " operators given for a supernet of " +
                                    std::to_string(blocks_.size()) + " blocks");
  FixedArch arch;
  arch.input_channels = input_.c;
  int32_t channels = input_.c;  // what the next block reads
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const SearchBlock& spec = space_.blocks[b];
    FixedBlock block{spec.name, spec.ops.at(ops[b]), 0, spec.stride};
    if (!block.op.keeps_input_channels()) channels = static_cast<int32_t>(kept_channel_indices(b).size());
    block.out_channels = channels;
    arch.blocks.push_back(std::move(block));
  }
  return arch;
}

std::vector<double> SuperNet::op_logits(size_t b) const {
  const auto logits = arch_.value(logits_slots_.at(b));
  return {logits.begin(), logits.end()};
}

}  // namespace nas::supernet
