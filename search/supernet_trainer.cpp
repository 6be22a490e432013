#include "search/supernet_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/error.h"
#include "supernet/arch_gradient.h"
#include "supernet/state_guard.h"
#include "supernet/teacher_logits.h"

namespace nas::search {

namespace {

supernet::OptimizerSpec adam_for(const ArchTraining& arch) {
  supernet::OptimizerSpec spec;
  spec.type = "adam";
  spec.beta1 = arch.beta1;
  spec.beta2 = arch.beta2;
  spec.weight_decay = 0.0;  // θ_a slots are no_decay anyway; the penalties are the only pull on them
  return spec;
}

}  // namespace

SupernetTrainer::SupernetTrainer(supernet::SuperNet& net, const SearchConfig& config, const ArchCost& cost,
                                 constraints::Penalty& penalty, int32_t steps_per_epoch,
                                 const supernet::Dataset& holdout)
    : net_(net),
      config_(config),
      cost_(cost),
      penalty_(penalty),
      weights_opt_(supernet::make_optimizer(config.weights_optimizer, net.weights())),
      arch_opt_(supernet::make_optimizer(adam_for(config.arch), net.arch())),
      schedule_(config.weights_schedule, steps_per_epoch, config.warmup_epochs + config.search_epochs),
      rng_(config.seed ^ 0x5eed5a3b1e5ULL),
      holdout_loader_(holdout, config.arch.batch_size, /*shuffle=*/true, supernet::Augment{}, config.seed ^ 0xa4c4ULL),
      shares_(net.block_count()),
      steps_per_epoch_(steps_per_epoch),
      search_steps_total_(int64_t{steps_per_epoch} * config.search_epochs),
      tau_(config.arch.tau_start) {}

void SupernetTrainer::save(supernet::StateWriter& out) const {
  out.floats(net_.weights().theta());
  out.floats(net_.weights().state());
  out.floats(net_.arch().theta());
  out.f64(net_.tau());
  weights_opt_->save(out);
  arch_opt_->save(out);
  for (const uint64_t word : rng_.state()) out.u64(word);
  out.i64(holdout_epoch_);
  out.i64(holdout_loader_.epoch());
  out.i64(holdout_loader_.cursor());
  out.i64(search_step_);
  out.f64(tau_);
  const constraints::Penalty::State penalty = penalty_.state();
  out.doubles(penalty.lambda);
  out.doubles(penalty.level);
  out.i64(penalty.steps);
}

void SupernetTrainer::load(supernet::StateReader& in) {
  in.floats(net_.weights().theta());
  in.floats(net_.weights().state());
  in.floats(net_.arch().theta());
  net_.set_tau(in.f64());
  weights_opt_->load(in);
  arch_opt_->load(in);
  std::array<uint64_t, 4> words{};
  for (uint64_t& word : words) word = in.u64();
  rng_.set_state(words);
  holdout_epoch_ = static_cast<int32_t>(in.i64());
  const auto loader_epoch = static_cast<int32_t>(in.i64());
  holdout_loader_.seek(loader_epoch, static_cast<int32_t>(in.i64()));
  search_step_ = in.i64();
  tau_ = in.f64();
  constraints::Penalty::State penalty;
  penalty.lambda = in.doubles();
  penalty.level = in.doubles();
  penalty.steps = in.i64();
  penalty_.restore(penalty);
}

void SupernetTrainer::next_holdout_batch() {
  if (holdout_loader_.next(holdout_images_, holdout_labels_)) return;
  holdout_loader_.start_epoch(++holdout_epoch_);
  if (!holdout_loader_.next(holdout_images_, holdout_labels_))
    throw Error("nas search", "the held-out split for the architecture steps is empty", Error::Kind::failure);
}

void SupernetTrainer::arch_step() {
  if (config_.arch.estimator != Estimator::straight_through) {
    // Held-out data; BatchNorm statistics are put back afterwards, so the weights see nothing of this step.
    next_holdout_batch();
    const supernet::StateGuard keep_statistics(net_.weights());
    if (config_.arch.estimator == Estimator::mixture)
      supernet::mixture_gradient(net_, holdout_images_, holdout_labels_, tau_, holdout_grad_);
    else
      supernet::reinforce_gradient(net_, holdout_images_, holdout_labels_, config_.arch.samples, tau_, rng_);
  }
  // (straight_through: the weight step's backward on the sampled path has written the task loss's θ_a gradient.)
  const auto grads = net_.arch().grads();
  const std::vector<float> accuracy(grads.begin(), grads.end());
  soft_ = cost_.soft_costs(net_, &penalty_, config_.arch.price);
  tally_gradients(accuracy, grads);
  arch_opt_->step(net_.arch(), config_.arch.lr);
  penalty_.update(ArchCost::per_budget(soft_, penalty_));
}

void SupernetTrainer::tally_gradients(std::span<const float> accuracy, std::span<const float> total) {
  ++arch_steps_in_epoch_;
  const auto& slots = net_.arch().slots();
  // Slots come in pairs per block: op logits, then width logits (supernet/supernet.h).
  for (size_t b = 0; b < shares_.size(); ++b) {
    for (size_t part = 0; part < 2; ++part) {
      const auto& slot = slots[2 * b + part];
      double acc = 0, pen = 0;
      for (int64_t i = slot.offset; i < slot.offset + slot.count; ++i) {
        acc += std::abs(accuracy[static_cast<size_t>(i)]);
        pen += std::abs(total[static_cast<size_t>(i)] - accuracy[static_cast<size_t>(i)]);
      }
      const auto n = static_cast<double>(slot.count);
      GradientShare& share = shares_[b];
      // Running mean over the epoch's architecture steps.
      const double k = static_cast<double>(arch_steps_in_epoch_);
      double& a = part == 0 ? share.op_accuracy : share.width_accuracy;
      double& p = part == 0 ? share.op_penalty : share.width_penalty;
      a += (acc / n - a) / k;
      p += (pen / n - p) / k;
    }
  }
}

void SupernetTrainer::add_seed_path_gradient(const supernet::Tensor& images, const std::vector<int32_t>& labels,
                                             std::span<const int32_t> batch_indices) {
  // The network writes its weight gradients (it does not accumulate), so the sampled path's are kept aside and
  // added back after the seed path's backward.
  const auto grads = net_.weights().grads();
  sampled_grads_.assign(grads.begin(), grads.end());
  net_.sample_seed_path(rng_);
  supernet::Tensor grad;
  const supernet::Tensor& logits = net_.network().forward(images, /*training=*/true);
  supernet::training_loss(logits, images, labels, batch_indices, distillation_, config_.label_smoothing, &grad);
  net_.network().backward(grad);
  for (size_t i = 0; i < grads.size(); ++i) grads[i] += sampled_grads_[i];
}

supernet::EpochResult SupernetTrainer::epoch(supernet::BatchLoader& loader, int32_t epoch, bool search,
                                             const supernet::StepCallback& on_step) {
  const auto start = std::chrono::steady_clock::now();
  supernet::EpochTally tally;
  supernet::Tensor images, grad;
  std::vector<int32_t> labels;
  const int64_t first_step = int64_t{epoch} * steps_per_epoch_;
  loader.start_epoch(epoch);
  std::fill(shares_.begin(), shares_.end(), GradientShare{});
  arch_steps_in_epoch_ = 0;
  for (int32_t step = 0; loader.next(images, labels); ++step) {
    if (search) {
      // τ(t) = τ_start · (τ_end/τ_start)^(t/T): exponential annealing over the search phase.
      const double t = static_cast<double>(search_step_) /
                       static_cast<double>(std::max<int64_t>(1, search_steps_total_));
      tau_ = config_.arch.tau_start * std::pow(config_.arch.tau_end / config_.arch.tau_start, t);
    }
    // In the search phase the distribution narrows as τ falls; a share of uniformly drawn paths keeps training the
    // operators and widths it has turned away from, so a late change of mind finds them trained.
    if (search && rng_.uniform(0.0, 1.0) < config_.arch.uniform_share) {
      net_.set_tau(tau_);
      net_.sample_uniform(rng_);
    } else {
      net_.sample(rng_, tau_);
    }
    net_.zero_arch_grads();
    const supernet::Tensor& logits = net_.network().forward(images, /*training=*/true);
    const supernet::LossResult loss = supernet::training_loss(logits, images, labels, loader.batch_indices(),
                                                              distillation_, config_.label_smoothing, &grad);
    net_.network().backward(grad);
    if (!search && config_.seed_path) add_seed_path_gradient(images, labels, loader.batch_indices());
    weights_opt_->step(net_.weights(), schedule_.at(first_step + step));
    if (search) {
      if (search_step_ % config_.arch.every == 0) arch_step();
      ++search_step_;
    }
    tally.add(loss, static_cast<int64_t>(labels.size()));
    if (on_step) on_step(step + 1, steps_per_epoch_, tally.loss(), tally.accuracy());
  }
  return tally.result(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace nas::search
