// The training loop of the warm-up and search phases. Each step samples one path through the supernet (hard
// Gumbel-softmax, single path), trains the weights on it, and in the search phase also prices the soft
// architecture with the board's cost model, adds the budget penalties' gradient and updates θ_a with Adam and the
// penalties' λ. The temperature τ anneals exponentially from tau_start to tau_end over the search phase.
#pragma once

#include <cstdint>
#include <memory>

#include "constraints/penalty.h"
#include "search/arch_cost.h"
#include "search/search_config.h"
#include "supernet/dataset.h"
#include "supernet/optimizer.h"
#include "supernet/rng.h"
#include "supernet/supernet.h"
#include "supernet/trainer.h"

namespace nas::search {

class SupernetTrainer {
 public:
  SupernetTrainer(supernet::SuperNet& net, const SearchConfig& config, const ArchCost& cost,
                  constraints::Penalty& penalty, int32_t steps_per_epoch);

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

 private:
  void arch_step();

  supernet::SuperNet& net_;
  const SearchConfig& config_;
  const ArchCost& cost_;
  constraints::Penalty& penalty_;
  std::unique_ptr<supernet::Optimizer> weights_opt_, arch_opt_;
  supernet::LrSchedule schedule_;
  supernet::Rng rng_;
  int32_t steps_per_epoch_;
  int64_t search_steps_total_, search_step_ = 0;
  double tau_;
  cost_models::Costs<double> soft_{};
  const supernet::Distillation* distillation_ = nullptr;
};

}  // namespace nas::search
