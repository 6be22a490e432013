// The training loop of the warm-up and search phases. Each weight step samples one path through the supernet (one
// operator and one width per block, Gumbel-max) and trains the weights on it. In the search phase, every
// `arch.every` weight steps an architecture step follows on a held-out batch: the task loss's θ_a gradient is
// estimated there (search_config.h, Estimator) and kept as the accuracy part, the budget terms add theirs (the
// penalty part), Adam steps θ_a and the penalties update λ. The architecture step changes no weight and no BatchNorm statistic. The temperature
// τ anneals exponentially from tau_start to tau_end over the search phase.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "constraints/penalty.h"
#include "search/arch_cost.h"
#include "search/search_config.h"
#include "supernet/dataset.h"
#include "supernet/optimizer.h"
#include "supernet/rng.h"
#include "supernet/state_blob.h"
#include "supernet/supernet.h"
#include "supernet/trainer.h"

namespace nas::search {

class SupernetTrainer {
 public:
  // `holdout` feeds the architecture steps (the weights never train on it); it must not be empty for search epochs.
  SupernetTrainer(supernet::SuperNet& net, const SearchConfig& config, const ArchCost& cost,
                  constraints::Penalty& penalty, int32_t steps_per_epoch, const supernet::Dataset& holdout);

  // One epoch; `search` switches the architecture updates on. Epochs are counted over warm-up and search
  // together (0-based), which indexes the loader's shuffle and the weights' learning-rate schedule.
  supernet::EpochResult epoch(supernet::BatchLoader& loader, int32_t epoch, bool search,
                              const supernet::StepCallback& on_step);

  // From now on every step's loss is the distillation loss against `distillation`'s teacher (null: cross-entropy).
  void set_distillation(const supernet::Distillation* distillation) { distillation_ = distillation; }

  double tau() const { return tau_; }
  double learning_rate(int64_t step) const { return schedule_.at(step); }
  // The costs the penalties saw at the last search step (sampled path or expectation, per config).
  const cost_models::Costs<double>& last_soft_costs() const { return soft_; }

  // Per block, the mean |θ_a gradient| per logit and architecture step of the epoch that just ended, split into the
  // task loss's part and the budget terms' part (stored as arch_gradient_trace).
  struct GradientShare {
    double op_accuracy = 0, op_penalty = 0, width_accuracy = 0, width_penalty = 0;
  };
  const std::vector<GradientShare>& gradient_shares() const { return shares_; }

  // Everything an epoch boundary carries into the next epoch — the supernet's weights, BatchNorm statistics and
  // architecture logits, both optimisers, the sampling RNG, the held-out loader's position, the temperature
  // schedule and the penalties' λ — so that load(save()) continues bit for bit (the checkpoints of `nas search`).
  void save(supernet::StateWriter& out) const;
  void load(supernet::StateReader& in);

 private:
  void arch_step();
  void next_holdout_batch();
  // With config.seed_path: ADDS the seed path's weight gradient on the same batch to the sampled path's.
  void add_seed_path_gradient(const supernet::Tensor& images, const std::vector<int32_t>& labels,
                              std::span<const int32_t> batch_indices);
  void tally_gradients(std::span<const float> accuracy, std::span<const float> total);

  supernet::SuperNet& net_;
  const SearchConfig& config_;
  const ArchCost& cost_;
  constraints::Penalty& penalty_;
  std::unique_ptr<supernet::Optimizer> weights_opt_, arch_opt_;
  supernet::LrSchedule schedule_;
  supernet::Rng rng_;
  supernet::BatchLoader holdout_loader_;
  int32_t holdout_epoch_ = 0;
  supernet::Tensor holdout_images_, holdout_grad_;
  std::vector<int32_t> holdout_labels_;
  std::vector<GradientShare> shares_;
  int64_t arch_steps_in_epoch_ = 0;
  int32_t steps_per_epoch_;
  int64_t search_steps_total_, search_step_ = 0;
  double tau_;
  cost_models::Costs<double> soft_{};
  std::vector<float> sampled_grads_;
  const supernet::Distillation* distillation_ = nullptr;
};

}  // namespace nas::search
