// Repair and fit of a fixed architecture against budgets, with the real nano33 cost model.
#include "search/fix_to_budgets.h"

#include <gtest/gtest.h>

#include <cmath>

#include "cost_models/target.h"

namespace nas::search {
namespace {

using constraints::Budget;
using constraints::Metric;
using supernet::FixedArch;
using supernet::OpKind;

const supernet::Shape kInput{1, 12, 12, 1};

supernet::SearchSpace space() {
  supernet::SearchSpace s;
  s.blocks.push_back({"b1", 16, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 3}}});
  s.blocks.push_back({"b2", 24, 2, {{OpKind::conv, 3}, {OpKind::dwsep, 5}}});
  s.blocks.push_back({"b3", 24, 1, {{OpKind::conv, 3}, {OpKind::skip, 0}}});
  return s;
}

FixedArch arch(int32_t c1, int32_t c2, OpKind third) {
  FixedArch a;
  a.blocks.push_back({"b1", {OpKind::conv, 3}, c1, 1});
  a.blocks.push_back({"b2", {OpKind::conv, 3}, c2, 2});
  a.blocks.push_back({"b3", third == OpKind::skip ? supernet::OpCandidate{OpKind::skip, 0}
                                                  : supernet::OpCandidate{OpKind::conv, 3},
                      third == OpKind::skip ? c2 : 24, 1});
  return a;
}

class FixToBudgetsTest : public ::testing::Test {
 protected:
  supernet::SearchSpace space_ = space();
  cost_models::Target target_ = cost_models::load_target("nano33");
  ArchCost cost_{space_, kInput, 4, target_};
};

TEST_F(FixToBudgetsTest, SkipBlocksCarryTheirInputsChannels) {
  FixedArch a = arch(16, 20, OpKind::skip);
  a.blocks[2].out_channels = 3;
  propagate_skip_channels(a, 1);
  EXPECT_EQ(a.blocks[2].out_channels, 20);
}

TEST_F(FixToBudgetsTest, RepairRemovesChannelsUntilEveryBudgetHolds) {
  const FixedArch full = arch(16, 24, OpKind::conv);
  const double latency = cost_.exact(full).latency_s;
  const std::vector<Budget> budgets = {{Metric::latency, 0.6 * latency, "--max-latency"}};
  const RepairResult r = repair_to_budgets(full, cost_, budgets, 1);
  EXPECT_TRUE(r.fits);
  EXPECT_GT(r.removed_channels, 0);
  EXPECT_LE(cost_.exact(r.arch).latency_s, 0.6 * latency);
  // Greedy, one channel at a time: putting back the last channel removed would miss the budget again, so the
  // repair did not remove more than it needed in its last step.
  int32_t total = 0;
  for (size_t b = 0; b < 3; ++b) total += full.blocks[b].out_channels - r.arch.blocks[b].out_channels;
  EXPECT_EQ(total, r.removed_channels);
}

TEST_F(FixToBudgetsTest, RepairKeepsEachBlockAtOrAboveItsNarrowestWidthChoice) {
  const FixedArch full = arch(16, 24, OpKind::conv);
  const double latency = cost_.exact(full).latency_s;
  const std::vector<Budget> budgets = {{Metric::latency, 0.6 * latency, "--max-latency"}};
  // Unfloored, the per-share rule still leaves the narrow stem more than the wide blocks lose.
  const RepairResult free = repair_to_budgets(full, cost_, budgets, 1);
  const RepairResult floored = repair_to_budgets(full, cost_, budgets, 1, {12, 3, 3});
  EXPECT_TRUE(floored.fits);
  EXPECT_GE(floored.arch.blocks[0].out_channels, 12);
  EXPECT_LE(cost_.exact(floored.arch).latency_s, 0.6 * latency);
  EXPECT_TRUE(free.fits);
  // Floors no network above can meet: the repair goes below them rather than give up.
  const RepairResult below = repair_to_budgets(full, cost_, budgets, 1, {16, 24, 24});
  EXPECT_TRUE(below.fits);
  EXPECT_GT(below.removed_channels, 0);
}

TEST_F(FixToBudgetsTest, RepairTakesChannelsFromTheWideBlocksFirst) {
  // Per share of a block removed, a narrow stem keeps a larger share than the wide blocks after it. Scored per
  // channel (the rule before), these repairs cut the 8-channel stem to 4 and the 4-channel one to 1, the cheapest
  // latency per channel since the stem's width is also the next block's input.
  for (const auto& [stem, share] : {std::pair{8, 0.7}, std::pair{4, 0.5}}) {
    const FixedArch full = arch(stem, 24, OpKind::conv);
    const std::vector<Budget> budgets = {{Metric::latency, share * cost_.exact(full).latency_s, "--max-latency"}};
    const RepairResult r = repair_to_budgets(full, cost_, budgets, 1);
    ASSERT_TRUE(r.fits);
    const double stem_kept = static_cast<double>(r.arch.blocks[0].out_channels) / stem;
    const double rest_kept = (r.arch.blocks[1].out_channels + r.arch.blocks[2].out_channels) / 48.0;
    EXPECT_GE(stem_kept, rest_kept) << "stem " << stem << " at " << share << " of its latency";
  }
}

TEST_F(FixToBudgetsTest, RepairSaysSoWhenTheOperatorsCannotFit) {
  const std::vector<Budget> budgets = {{Metric::latency, 1e-9, "--max-latency"}};
  const RepairResult r = repair_to_budgets(arch(16, 24, OpKind::conv), cost_, budgets, 1);
  EXPECT_FALSE(r.fits);
  EXPECT_EQ(r.arch.blocks[0].out_channels, 1);
  EXPECT_EQ(r.arch.blocks[1].out_channels, 1);
}

TEST_F(FixToBudgetsTest, ScaleShrinksEveryBlockByOneShareUntilTheBudgetsHold) {
  const FixedArch full = arch(16, 24, OpKind::skip);
  const double latency = cost_.exact(full).latency_s;
  const std::vector<Budget> budgets = {{Metric::latency, 0.5 * latency, "--max-latency"}};
  const RepairResult r = scale_to_budgets(full, cost_, budgets, 1, {16, 24, 24});
  ASSERT_TRUE(r.fits);
  EXPECT_LE(cost_.exact(r.arch).latency_s, 0.5 * latency);
  // One share for both blocks: their widths are round(α·16) and round(α·24) for the same α = s/64, and the skip
  // block carries b2's channels.
  int32_t s = 64;
  while (s > 0 && std::lround(24.0 * s / 64) != r.arch.blocks[1].out_channels) --s;
  ASSERT_GT(s, 0);
  EXPECT_EQ(r.arch.blocks[0].out_channels, std::lround(16.0 * s / 64));
  EXPECT_EQ(r.arch.blocks[2].out_channels, r.arch.blocks[1].out_channels);
  EXPECT_EQ(r.removed_channels, 40 - r.arch.blocks[0].out_channels - r.arch.blocks[1].out_channels);
  // The largest such share: the next one up misses the budget (or gives the same widths).
  FixedArch wider = full;
  wider.blocks[0].out_channels = std::max<int32_t>(1, static_cast<int32_t>(std::lround(16.0 * (s + 1) / 64)));
  wider.blocks[1].out_channels = std::max<int32_t>(1, static_cast<int32_t>(std::lround(24.0 * (s + 1) / 64)));
  wider.blocks[2].out_channels = wider.blocks[1].out_channels;
  if (s < 64 && (wider.blocks[0].out_channels != r.arch.blocks[0].out_channels ||
                 wider.blocks[1].out_channels != r.arch.blocks[1].out_channels)) {
    EXPECT_GT(cost_.exact(wider).latency_s, 0.5 * latency);
  }
  // Nothing to scale away: the limits themselves.
  const RepairResult free = scale_to_budgets(full, cost_, {{Metric::latency, 2 * latency, "--max-latency"}}, 1,
                                             {16, 24, 24});
  EXPECT_TRUE(free.fits);
  EXPECT_EQ(free.removed_channels, 0);
  EXPECT_EQ(free.arch.blocks[1].out_channels, 24);
  // A budget no share meets.
  EXPECT_FALSE(scale_to_budgets(full, cost_, {{Metric::latency, 1e-9, "--max-latency"}}, 1, {16, 24, 24}).fits);
}

TEST_F(FixToBudgetsTest, FitAddsTheStrongestMaskedChannelsUntilNoneFits) {
  const FixedArch small = arch(4, 6, OpKind::conv);
  const double limit = 0.5 * (cost_.exact(small).latency_s + cost_.exact(arch(16, 24, OpKind::conv)).latency_s);
  const std::vector<Budget> budgets = {{Metric::latency, limit, "--max-latency"}};
  // Block b2's gates are all stronger than b1's: it fills first.
  std::vector<std::vector<float>> channel_strength = {std::vector<float>(16, 0.3f), std::vector<float>(24, 0.45f),
                                            std::vector<float>(24, 1.0f)};
  const FitResult f = fit_to_budgets(small, cost_, budgets, 1, channel_strength, {16, 24, 24});
  EXPECT_GT(f.added_channels, 0);
  EXPECT_LE(cost_.exact(f.arch).latency_s, limit);
  EXPECT_GT(f.arch.blocks[1].out_channels, 6);
  // Maximal: one more channel in any block that can still grow misses the budget.
  for (size_t b = 0; b < 2; ++b) {
    if (f.arch.blocks[b].out_channels == (b == 0 ? 16 : 24)) continue;
    FixedArch more = f.arch;
    ++more.blocks[b].out_channels;
    EXPECT_GT(cost_.exact(more).latency_s, limit) << "block " << b;
  }
}

}  // namespace
}  // namespace nas::search
