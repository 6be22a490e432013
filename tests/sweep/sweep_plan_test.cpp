// The sweep grid and its plan file: which jobs a sweep has, in what order, what is refused up front, and that the
// plan every job reads back is the plan that was written.
#include "sweep/sweep_plan.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace nas::sweep {
namespace {

using test_support::contains;
using test_support::error_of;

constexpr const char* kConfig = R"(
name: tiny
data:
  format: synthetic
  synthetic: {count: 256, height: 8, width: 8, channels: 1, classes: 4}
search_space:
  blocks:
    - {name: b1, out: 8, stride: 1, ops: [conv3x3, dwsep3x3]}
search:
  seed: 5
)";

class SweepPlanTest : public test_support::TempDirTest {
 protected:
  SweepSpec spec() const {
    SweepSpec s;
    s.name = "grid";
    s.targets = {"nano33", "f746"};
    s.max_latency = {"10ms", "20ms", "50ms"};
    s.max_ram = {"64K", "128K"};
    s.seeds = 2;
    s.config = dir_ / "s.yaml";
    return s;
  }
  void SetUp() override {
    TempDirTest::SetUp();
    write_text("s.yaml", kConfig);
  }
};

TEST_F(SweepPlanTest, SplitsCommaListsAndRefusesEmptyItems) {
  EXPECT_EQ(split_list("10ms,20ms,50ms", "--max-latency"), (std::vector<std::string>{"10ms", "20ms", "50ms"}));
  EXPECT_TRUE(split_list("", "--max-ram").empty());
  EXPECT_TRUE(contains(error_of([] { split_list("10ms,,20ms", "--max-latency"); }), "--max-latency"));
  EXPECT_TRUE(contains(error_of([] { split_list("10ms,", "--max-latency"); }), "ends with a comma"));
}

TEST_F(SweepPlanTest, TheGridIsTargetsTimesBudgetsTimesSeedsInAFixedOrder) {
  const SweepPlan plan = plan_sweep(spec());
  ASSERT_EQ(plan.jobs.size(), 2u * 3u * 2u * 2u);
  for (size_t k = 0; k < plan.jobs.size(); ++k) EXPECT_EQ(plan.jobs[k].index, static_cast<int32_t>(k));
  // Target-major, then latency, RAM, seed (the config's seed, then the next).
  EXPECT_EQ(plan.jobs[0].target, "nano33");
  EXPECT_EQ(plan.jobs[0].budgets.max_latency, "10ms");
  EXPECT_EQ(plan.jobs[0].budgets.max_ram, "64K");
  EXPECT_EQ(plan.jobs[0].seed, 5u);
  EXPECT_EQ(plan.jobs[1].seed, 6u);
  EXPECT_EQ(plan.jobs[2].budgets.max_ram, "128K");
  EXPECT_EQ(plan.jobs[4].budgets.max_latency, "20ms");
  EXPECT_EQ(plan.jobs[12].target, "f746");
  EXPECT_TRUE(plan.jobs[0].budgets.max_flash.empty());
  EXPECT_TRUE(plan.config.is_absolute());
}

TEST_F(SweepPlanTest, RefusesBadUnitsUnknownTargetsAndBadSeedsBeforeAnyJob) {
  auto s = spec();
  s.max_latency = {"10ms", "20"};
  EXPECT_TRUE(contains(error_of([&] { plan_sweep(s); }), "--max-latency"));
  s = spec();
  s.max_ram = {"64Q"};
  EXPECT_TRUE(contains(error_of([&] { plan_sweep(s); }), "--max-ram"));
  s = spec();
  s.targets = {"nano33", "esp99"};
  EXPECT_TRUE(contains(error_of([&] { plan_sweep(s); }), "esp99"));
  s = spec();
  s.seeds = 0;
  EXPECT_TRUE(contains(error_of([&] { plan_sweep(s); }), "--seeds"));
  s = spec();
  s.executor = "pbs";
  EXPECT_TRUE(contains(error_of([&] { plan_sweep(s); }), "known: local, slurm"));
  s = spec();
  s.config = dir_ / "missing.yaml";
  EXPECT_FALSE(error_of([&] { plan_sweep(s); }).empty());
}

TEST_F(SweepPlanTest, AnUnreachableBudgetIsLeftToItsJob) {
  auto s = spec();
  s.max_latency = {"1us"};  // valid units; no network meets it, which only the job can tell
  EXPECT_EQ(plan_sweep(s).jobs.size(), 2u * 2u * 2u);
}

TEST_F(SweepPlanTest, ThePlanReadsBackAsWritten) {
  auto s = spec();
  s.overrides.finetune_epochs = 3;
  s.overrides.threads = 1;
  SweepPlan plan = plan_sweep(s);
  const SweepFiles files{dir_};
  write_file_atomically(files.plan(), plan_json(plan).dump());
  const SweepPlan back = read_plan(files);
  EXPECT_EQ(back.name, "grid");
  EXPECT_EQ(back.config, plan.config);
  EXPECT_EQ(back.overrides.finetune_epochs, 3);
  EXPECT_EQ(back.overrides.threads, 1);
  EXPECT_FALSE(back.overrides.warmup_epochs.has_value());
  ASSERT_EQ(back.jobs.size(), plan.jobs.size());
  EXPECT_EQ(back.jobs[7].budgets.max_latency, plan.jobs[7].budgets.max_latency);
  EXPECT_EQ(back.jobs[7].seed, plan.jobs[7].seed);
  EXPECT_EQ(search_command_line(back, back.jobs[3]), search_command_line(plan, plan.jobs[3]));
  EXPECT_TRUE(contains(search_command_line(plan, plan.jobs[3]),
                       "nas search --target nano33 --max-latency 10ms --max-ram 128K --config "));
  EXPECT_TRUE(contains(search_command_line(plan, plan.jobs[3]), "--seed 6 --threads 1 --finetune-epochs 3"));
}

TEST_F(SweepPlanTest, ADamagedPlanIsNamed) {
  const SweepFiles files{dir_};
  EXPECT_TRUE(contains(error_of([&] { read_plan(files); }), "sweep directory"));
  write_text("sweep.json", "{\"name\": \"x\"");
  EXPECT_TRUE(contains(error_of([&] { read_plan(files); }), "damaged sweep plan"));
  write_text("sweep.json", "{\"name\": \"x\"}");
  EXPECT_TRUE(contains(error_of([&] { read_plan(files); }), "damaged sweep plan"));
}

TEST_F(SweepPlanTest, BudgetArgumentsReadLikeACommandLine) {
  EXPECT_EQ(budget_arguments({"64K", "", "10ms", ""}), "--max-latency 10ms --max-ram 64K");
  EXPECT_EQ(budget_arguments({}), "");
}

}  // namespace
}  // namespace nas::sweep
