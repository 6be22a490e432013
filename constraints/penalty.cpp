#include "constraints/penalty.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace nas::constraints {

Penalty::Penalty(std::vector<Budget> budgets, PenaltySchedule schedule)
    : budgets_(std::move(budgets)), schedule_(schedule) {
  const auto& s = schedule_;
  if (!(s.lambda_init > 0) || !(s.lambda_max >= s.lambda_init))
    throw Error("search.penalty", "needs 0 < lambda_init <= lambda_max (got " + std::to_string(s.lambda_init) +
                                      ", " + std::to_string(s.lambda_max) + ")");
  if (!(s.growth >= 0) || !(s.decay >= 0) || s.decay >= 1)
    throw Error("search.penalty", "needs growth >= 0 and 0 <= decay < 1");
  if (s.ramp_steps < 0) throw Error("search.penalty.ramp_steps", "must be >= 0");
  if (!(s.target_use > 0) || s.target_use > 1)
    throw Error("search.penalty.target_use", "must be in (0, 1] (got " + std::to_string(s.target_use) + ")");
  if (!(s.pull >= 0)) throw Error("search.penalty.pull", "must be >= 0 (got " + std::to_string(s.pull) + ")");
  if (!(s.pull_growth >= 0))
    throw Error("search.penalty.pull_growth", "must be >= 0 (got " + std::to_string(s.pull_growth) + ")");
  pull_level_ = s.pull;
  for (const auto& b : budgets_)
    if (!(b.limit > 0)) throw Error("budget " + b.source, "must be positive");
  level_.assign(budgets_.size(), s.lambda_init);
  lambda_.assign(budgets_.size(), s.ramp_steps > 0 ? 0.0 : s.lambda_init);
}

double Penalty::ramp() const {
  return schedule_.ramp_steps > 0
             ? std::min(1.0, static_cast<double>(steps_) / static_cast<double>(schedule_.ramp_steps))
             : 1.0;
}

Penalty::State Penalty::state() const {
  State state{lambda_, level_, steps_};
  state.level.push_back(pull_level_);
  return state;
}

void Penalty::restore(const State& state) {
  const size_t n = budgets_.size();
  if (state.lambda.size() != n || (state.level.size() != n && state.level.size() != n + 1))
    throw Error("checkpoint", "holds penalties for " + std::to_string(state.lambda.size()) + " budgets, the run has " +
                                  std::to_string(n), Error::Kind::failure);
  lambda_ = state.lambda;
  level_.assign(state.level.begin(), state.level.begin() + static_cast<std::ptrdiff_t>(n));
  pull_level_ = state.level.size() > n ? state.level.back() : schedule_.pull;
  steps_ = state.steps;
}

void Penalty::update(const std::vector<double>& costs) {
  if (costs.size() != budgets_.size()) throw Error("Penalty::update", "one cost per budget expected");
  ++steps_;
  const double ramp = this->ramp();
  double most_used = 0;
  for (size_t b = 0; b < budgets_.size(); ++b) most_used = std::max(most_used, costs[b] / budgets_[b].limit);
  if (schedule_.pull_growth > 0) {
    if (most_used < schedule_.target_use)
      pull_level_ = std::min(schedule_.pull * schedule_.lambda_max / schedule_.lambda_init,
                             pull_level_ * (1.0 + schedule_.pull_growth));
    else
      pull_level_ = std::max(schedule_.pull, pull_level_ * (1.0 - schedule_.decay));
  }
  for (size_t b = 0; b < budgets_.size(); ++b) {
    double& level = level_[b];
    if (costs[b] > budgets_[b].limit)
      level = std::min(schedule_.lambda_max, level * (1.0 + schedule_.growth));
    else
      level = std::max(schedule_.lambda_init, level * (1.0 - schedule_.decay));
    lambda_[b] = ramp * level;
  }
}

}  // namespace nas::constraints
