#include "search/supernet_trainer.h"

#include <chrono>
#include <cmath>

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
                                 constraints::Penalty& penalty, int32_t steps_per_epoch)
    : net_(net),
      config_(config),
      cost_(cost),
      penalty_(penalty),
      weights_opt_(supernet::make_optimizer(config.weights_optimizer, net.weights())),
      arch_opt_(supernet::make_optimizer(adam_for(config.arch), net.arch())),
      schedule_(config.weights_schedule, steps_per_epoch, config.warmup_epochs + config.search_epochs),
      rng_(config.seed ^ 0x5eed5a3b1e5ULL),
      steps_per_epoch_(steps_per_epoch),
      search_steps_total_(int64_t{steps_per_epoch} * config.search_epochs),
      tau_(config.arch.tau_start) {}

void SupernetTrainer::arch_step() {
  // τ(t) = τ_start · (τ_end/τ_start)^(t/T): exponential annealing over the search phase.
  const double t = static_cast<double>(search_step_) / static_cast<double>(std::max<int64_t>(1, search_steps_total_));
  tau_ = config_.arch.tau_start * std::pow(config_.arch.tau_end / config_.arch.tau_start, t);
  soft_ = cost_.soft_costs(net_, &penalty_,
                          config_.arch.price_sampled ? ArchCost::Pricing::sampled : ArchCost::Pricing::expected);
  arch_opt_->step(net_.arch(), config_.arch.lr);
  penalty_.update(ArchCost::per_budget(soft_, penalty_));
  ++search_step_;
}

supernet::EpochResult SupernetTrainer::epoch(supernet::BatchLoader& loader, int32_t epoch, bool search,
                                             const supernet::StepCallback& on_step) {
  const auto start = std::chrono::steady_clock::now();
  supernet::EpochTally tally;
  supernet::Tensor images, grad;
  std::vector<int32_t> labels;
  const int64_t first_step = int64_t{epoch} * steps_per_epoch_;
  loader.start_epoch(epoch);
  for (int32_t step = 0; loader.next(images, labels); ++step) {
    net_.sample(rng_, tau_);
    net_.zero_arch_grads();
    const supernet::Tensor& logits = net_.network().forward(images, /*training=*/true);
    const supernet::LossResult loss = supernet::training_loss(logits, images, labels, loader.batch_indices(),
                                                              distillation_, config_.label_smoothing, &grad);
    net_.network().backward(grad);
    weights_opt_->step(net_.weights(), schedule_.at(first_step + step));
    if (search) arch_step();
    tally.add(loss, static_cast<int64_t>(labels.size()));
    if (on_step) on_step(step + 1, steps_per_epoch_, tally.loss(), tally.accuracy());
  }
  return tally.result(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace nas::search
