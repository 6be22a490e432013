#include "constraints/penalty.h"

#include <gtest/gtest.h>

#include "constraints/budget.h"
#include "tests/common/test_support.h"

namespace nas::constraints {
namespace {

using test_support::contains;
using test_support::error_of;

const BoardLimits kBoard{"nano33", 262144, 1048576};

TEST(Budgets, BoardLimitsAlwaysApplyAndFlagsReplaceThem) {
  auto budgets = make_budgets({}, kBoard);
  ASSERT_EQ(budgets.size(), 2u);
  EXPECT_EQ(budgets[0].metric, Metric::ram);
  EXPECT_EQ(budgets[0].limit, 262144);
  EXPECT_EQ(budgets[0].source, "nano33 SRAM");
  EXPECT_EQ(budgets[1].metric, Metric::flash);

  budgets = make_budgets({"128K", "", "50ms", "2mJ"}, kBoard);
  ASSERT_EQ(budgets.size(), 4u);
  EXPECT_EQ(budgets[0].limit, 131072);
  EXPECT_EQ(budgets[0].source, "--max-ram 128K");
  EXPECT_EQ(budgets[1].source, "nano33 flash");
  EXPECT_EQ(budgets[2].metric, Metric::latency);
  EXPECT_DOUBLE_EQ(budgets[2].limit, 0.05);
  EXPECT_EQ(budgets[3].metric, Metric::energy);
  EXPECT_DOUBLE_EQ(budgets[3].limit, 2e-3);

  BudgetFlags counts;
  counts.max_macs = "2.5M";
  counts.max_params = "50K";
  budgets = make_budgets(counts, kBoard);
  ASSERT_EQ(budgets.size(), 4u);
  EXPECT_EQ(budgets[2].metric, Metric::macs);
  EXPECT_DOUBLE_EQ(budgets[2].limit, 2.5e6);
  EXPECT_EQ(budgets[2].source, "--max-macs 2.5M");
  EXPECT_EQ(budgets[3].metric, Metric::params);
  EXPECT_EQ(format_metric(Metric::params, 5e4), "50 K params");
  counts.max_macs = "0";
  EXPECT_TRUE(contains(error_of([&] { make_budgets(counts, kBoard); }), "--max-macs: must be positive"));
}

TEST(Budgets, BadFlagsNameTheFlag) {
  EXPECT_TRUE(contains(error_of([] { make_budgets({"256Q", "", "", ""}, kBoard); }), "--max-ram"));
  EXPECT_TRUE(contains(error_of([] { make_budgets({"", "", "50", ""}, kBoard); }), "--max-latency"));
  EXPECT_TRUE(contains(error_of([] { make_budgets({"", "", "0ms", ""}, kBoard); }), "must be positive"));
  const std::string above = error_of([] { make_budgets({"512K", "", "", ""}, kBoard); });
  EXPECT_TRUE(contains(above, "exceeds the nano33 SRAM")) << above;
}

TEST(Budgets, MetricsFormatWithUnits) {
  EXPECT_EQ(metric_name(Metric::latency), "latency");
  EXPECT_EQ(format_metric(Metric::energy, 1.5e-3), "1.5 mJ");
  EXPECT_EQ(format_metric(Metric::energy, 2.5e-6), "2.5 uJ");
}

TEST(HingePenalty, ZeroInsideLinearOutsideNormalisedByTheBudget) {
  EXPECT_EQ(hinge_penalty(90.0, 100.0, 5.0), 0.0);
  EXPECT_EQ(hinge_penalty(100.0, 100.0, 5.0), 0.0);
  EXPECT_DOUBLE_EQ(hinge_penalty(150.0, 100.0, 2.0), 1.0);
  // the same relative excess costs the same whatever the unit
  EXPECT_DOUBLE_EQ(hinge_penalty(0.075, 0.05, 2.0), hinge_penalty(393216.0, 262144.0, 2.0));
}

TEST(Penalty, LambdaRampsThenGrowsWhileViolatedAndDecaysBackWhenMet) {
  PenaltySchedule schedule;
  schedule.lambda_init = 1.0;
  schedule.growth = 0.1;
  schedule.decay = 0.5;
  schedule.ramp_steps = 4;
  Penalty penalty({{Metric::latency, 0.05, "--max-latency 50ms"}}, schedule);
  EXPECT_EQ(penalty.lambda(0), 0.0);  // the ramp starts at zero
  penalty.update({0.04});               // met: stays at lambda_init, ramp 1/4
  EXPECT_DOUBLE_EQ(penalty.lambda(0), 0.25);
  penalty.update({0.06});               // violated: 1.1, ramp 2/4
  EXPECT_DOUBLE_EQ(penalty.lambda(0), 0.55);
  penalty.update({0.06});
  penalty.update({0.06});               // 1.1^3 at full ramp
  EXPECT_NEAR(penalty.lambda(0), 1.331, 1e-12);
  penalty.update({0.01});               // met: decays, but never below lambda_init
  EXPECT_DOUBLE_EQ(penalty.lambda(0), 1.0);

  const double total = penalty.total<double>([](Metric) { return 0.1; });
  EXPECT_DOUBLE_EQ(total, 1.0 * (0.1 / 0.05 - 1.0));
}

TEST(Penalty, GrowthIsCappedAndBadSchedulesAreRefused) {
  PenaltySchedule schedule;
  schedule.lambda_max = 2.0;
  schedule.growth = 1.0;
  schedule.ramp_steps = 0;
  Penalty penalty({{Metric::ram, 100, "r"}, {Metric::flash, 100, "f"}}, schedule);
  for (int i = 0; i < 10; ++i) penalty.update({200, 50});
  EXPECT_EQ(penalty.lambda(0), 2.0);
  EXPECT_EQ(penalty.lambda(1), 1.0);  // the met budget is untouched
  schedule.lambda_init = 0;
  EXPECT_TRUE(contains(error_of([&] { Penalty({}, schedule); }), "lambda_init"));
  schedule.lambda_init = 1;
  schedule.target_use = 1.5;
  EXPECT_TRUE(contains(error_of([&] { Penalty({}, schedule); }), "search.penalty.target_use: must be in (0, 1]"));
  schedule.target_use = 0.9;
  schedule.pull = -1;
  EXPECT_TRUE(contains(error_of([&] { Penalty({}, schedule); }), "search.penalty.pull: must be >= 0"));
}

// Below target_use of the most used budget, a second term pulls that budget's cost up; at or above it, or with
// pull 0, only the hinges remain. The pull ramps in with λ.
TEST(Penalty, PullsTheBindingBudgetUpToItsTargetUse) {
  PenaltySchedule schedule;
  schedule.ramp_steps = 2;
  schedule.target_use = 0.9;
  schedule.pull = 2.0;
  Penalty penalty({{Metric::latency, 0.05, "l"}, {Metric::ram, 100, "r"}}, schedule);
  auto total = [&](double latency, double ram) {
    return penalty.total<double>([&](Metric m) { return m == Metric::latency ? latency : ram; });
  };
  EXPECT_EQ(total(0.02, 50), 0.0);  // ramp at 0
  penalty.update({0.02, 50});
  penalty.update({0.02, 50});       // full ramp
  EXPECT_NEAR(total(0.02, 50), 2.0 * (0.9 - 0.5), 1e-12);  // ram is the most used: 0.5 of its budget
  EXPECT_NEAR(total(0.04, 50), 2.0 * (0.9 - 0.8), 1e-12);  // now latency: 0.8
  EXPECT_EQ(total(0.046, 50), 0.0);                         // past target use
  EXPECT_DOUBLE_EQ(total(0.06, 50), 1.0 * (0.06 / 0.05 - 1.0));  // over: the hinge alone
  schedule.pull = 0;
  Penalty off({{Metric::latency, 0.05, "l"}}, schedule);
  off.update({0.01});
  off.update({0.01});
  EXPECT_EQ(off.total<double>([](Metric) { return 0.01; }), 0.0);
}


// With pull_growth the pull's weight grows while the binding budget stays under target_use (capped at
// pull · lambda_max / lambda_init), decays back to `pull` once it is reached, and survives a checkpoint; a
// checkpoint written before the weight adapted (no weight stored) restores it as `pull`.
TEST(Penalty, PullWeightGrowsWhileUnderTargetAndDecaysBack) {
  PenaltySchedule schedule;
  schedule.ramp_steps = 0;
  schedule.target_use = 0.9;
  schedule.pull = 2.0;
  schedule.pull_growth = 0.5;
  schedule.decay = 0.5;
  schedule.lambda_max = 4.0;  // the weight's cap: 2 · 4 / 1 = 8
  Penalty penalty({{Metric::latency, 0.05, "l"}}, schedule);
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 2.0);
  penalty.update({0.02});
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 3.0);
  EXPECT_NEAR(penalty.total<double>([](Metric) { return 0.02; }), 3.0 * (0.9 - 0.4), 1e-12);
  penalty.update({0.02});
  penalty.update({0.02});
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 6.75);
  penalty.update({0.02});
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 8.0);  // capped
  EXPECT_DOUBLE_EQ(penalty.lambda(0), 1.0);      // λ is untouched while the budget is met

  Penalty resumed({{Metric::latency, 0.05, "l"}}, schedule);
  resumed.restore(penalty.state());
  EXPECT_DOUBLE_EQ(resumed.pull_weight(), 8.0);
  Penalty::State legacy = penalty.state();
  legacy.level.pop_back();
  resumed.restore(legacy);
  EXPECT_DOUBLE_EQ(resumed.pull_weight(), 2.0);

  penalty.update({0.046});  // at 0.92 of the budget: back towards `pull`
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 4.0);
  penalty.update({0.046});
  penalty.update({0.046});
  EXPECT_DOUBLE_EQ(penalty.pull_weight(), 2.0);

  schedule.pull_growth = -1;
  EXPECT_TRUE(contains(error_of([&] { Penalty({}, schedule); }), "search.penalty.pull_growth: must be >= 0"));
}

}  // namespace
}  // namespace nas::constraints
