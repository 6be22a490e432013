// Penalties that push one search under several budgets at once (Burrello et al., TETC 2023; DESIGN.md
// "Constraints"). Each budget b with cost c(θ_a) adds
//
//     λ_b · max(0, c/b − 1)
//
// to the loss: normalised by the budget, so RAM in bytes and latency in seconds weigh alike, and zero inside the
// budget, so a net that fits is pushed by accuracy alone. λ_b adapts while the search runs:
//   - ramp: over the first `ramp_steps` search steps λ_b rises linearly from 0 to `lambda_init`, so the
//     architecture parameters first follow the task loss (the weights were warmed up on the full supernet);
//   - while c > b, λ_b grows multiplicatively by (1 + growth) per step (a Lagrangian-style dual update in log
//     space: the longer a budget is violated, the harder it pushes), capped at lambda_max;
//   - while c ≤ b, λ_b decays by (1 − decay) per step back towards lambda_init, so a budget that was met long ago
//     does not keep pushing costs far below it (that would leave accuracy on the table).
// Defaults (docs/search.md has the reasoning): lambda_init 1, growth 0.01, decay 0.01, lambda_max 1000.
//
// The hinge is silent inside the budget, so nothing in it pulls a cheap architecture back up towards the budget,
// and a search whose argmax lands at 40 % of its latency budget leaves the rest to the channel-only fit step. A
// second, one-sided term pulls the binding budget's use up to `target_use`:
//
//     pull · max(0, target_use − max_b c_b/b)
//
// (the binding budget is the one used most; the term is zero once it reaches target_use, so the hinge and the
// pull never act on the same side). pull = 0 switches it off. With pull_growth > 0 the pull's weight adapts as λ
// does, mirrored: it grows by (1 + pull_growth) per step while the binding use is below target_use (capped at
// pull · lambda_max / lambda_init) and decays by (1 − decay) back to `pull` once it is reached. Why: at a low
// temperature the distributions are nearly one-hot and the expectation's gradient that moves their argmax is
// small, so a fixed pull leaves an argmax-priced search ending at 0.84 of its budget (docs/search.md); a growing
// one keeps pushing until a width or an operator flips.
#pragma once

#include <cstdint>
#include <vector>

#include "constraints/budget.h"

namespace nas::constraints {

struct PenaltySchedule {
  double lambda_init = 1.0;
  double growth = 0.01;
  double decay = 0.01;
  double lambda_max = 1000.0;
  int64_t ramp_steps = 100;
  double target_use = 0.95;  // pull the binding budget's use up to this share
  double pull = 1.0;         // weight of that term (0: off)
  double pull_growth = 0.0;  // per-step growth of that weight while under target_use (0: a fixed weight)
};

// The hinge of one budget, generic over the scalar type (double for reports, an autodiff scalar during search).
template <class S>
S hinge_penalty(const S& cost, double limit, double lambda) {
  S excess = cost / limit - 1.0;
  if (excess < 0.0) return excess * 0.0;  // keeps the scalar type (and a zero gradient)
  return excess * lambda;
}

class Penalty {
 public:
  // Throws nas::Error (bad input) for a schedule with non-positive or inconsistent values.
  Penalty(std::vector<Budget> budgets, PenaltySchedule schedule);

  const std::vector<Budget>& budgets() const { return budgets_; }
  double lambda(size_t b) const { return lambda_.at(b); }
  double pull_weight() const { return pull_level_; }  // before the ramp factor

  // Σ_b hinge(cost_b) + the pull on the binding budget: `cost_of(metric)` returns the current cost as S.
  template <class S, class CostOf>
  S total(CostOf&& cost_of) const {
    S sum = S(0.0);
    S most_used = S(0.0);
    bool any = false;
    for (size_t b = 0; b < budgets_.size(); ++b) {
      const S cost = cost_of(budgets_[b].metric);
      sum = sum + hinge_penalty<S>(cost, budgets_[b].limit, lambda_[b]);
      const S use = cost / budgets_[b].limit;
      if (!any || use > most_used) most_used = use;
      any = true;
    }
    if (any && schedule_.pull > 0 && most_used < schedule_.target_use)
      sum = sum + (S(schedule_.target_use) - most_used) * (ramp() * pull_level_);
    return sum;
  }

  // One search step done with these costs (one per budget, in budgets() order): adapts every λ_b.
  void update(const std::vector<double>& costs);

  int64_t steps() const { return steps_; }

  // What update() has learnt, for checkpoints: λ per budget after the ramp, and before it (`level`) with the
  // pull's weight appended (so a checkpoint written before the pull adapted, one shorter, still restores: its pull
  // weight is `pull`), and the steps taken.
  struct State {
    std::vector<double> lambda, level;
    int64_t steps = 0;
  };
  State state() const;
  // Throws nas::Error (failure) when `state` has another number of budgets.
  void restore(const State& state);

 private:
  // 0 → 1 over the first ramp_steps updates (1 without a ramp).
  double ramp() const;

  std::vector<Budget> budgets_;
  PenaltySchedule schedule_;
  std::vector<double> lambda_;
  std::vector<double> level_;  // λ_b before the ramp factor
  double pull_level_ = 0;      // the pull's weight before the ramp factor
  int64_t steps_ = 0;
};

}  // namespace nas::constraints
