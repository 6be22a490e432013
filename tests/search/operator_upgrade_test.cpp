// The fix step's operator upgrade against the real nano33 cost model, with a loss given per architecture (the
// supernet's held-out loss in the search; here a table, so the choice it must make is known).
#include "search/operator_upgrade.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cost_models/target.h"

namespace nas::search {
namespace {

using constraints::Budget;
using constraints::Metric;
using supernet::FixedArch;
using supernet::OpCandidate;
using supernet::OpKind;

const supernet::Shape kInput{1, 12, 12, 1};
const OpCandidate kConv3{OpKind::conv, 3}, kConv5{OpKind::conv, 5}, kDw3{OpKind::dwsep, 3}, kSkip{OpKind::skip, 0};

supernet::SearchSpace space() {
  supernet::SearchSpace s;
  s.blocks.push_back({"b1", 16, 1, {kConv3, kConv5}});
  s.blocks.push_back({"b2", 24, 2, {kConv3, kConv5, kDw3}});
  s.blocks.push_back({"b3", 24, 1, {kConv3, kDw3, kSkip}});
  return s;
}

FixedArch arch(OpCandidate o1, OpCandidate o2, OpCandidate o3) {
  return {{{"b1", o1, 8, 1}, {"b2", o2, 16, 2}, {"b3", o3, 16, 1}}};
}

std::string key(const FixedArch& a) {
  std::string k;
  for (const auto& b : a.blocks) k += b.op.name() + " ";
  return k;
}

class OperatorUpgradeTest : public ::testing::Test {
 protected:
  supernet::SearchSpace space_ = space();
  cost_models::Target target_ = cost_models::load_target("nano33");
  ArchCost cost_{space_, kInput, 4, target_};
  std::vector<Budget> latency_budget(double limit) const { return {{Metric::latency, limit, "--max-latency"}}; }
};

TEST_F(OperatorUpgradeTest, TakesTheCostlierOperatorThatLowersTheLossMostPerCost) {
  const FixedArch start = arch(kConv3, kDw3, kSkip);
  // Room for b2 → conv3x3 or b3 → conv3x3, not both (checked below); b2's swap lowers the loss more per cost.
  const double base = cost_.exact(start).latency_s;
  const double b2 = cost_.exact(arch(kConv3, kConv3, kSkip)).latency_s;
  const double b3 = cost_.exact(arch(kConv3, kDw3, kConv3)).latency_s;
  const double both = cost_.exact(arch(kConv3, kConv3, kConv3)).latency_s;
  const double limit = std::max(b2, b3) * 1.001;
  ASSERT_GT(both, limit);
  std::map<std::string, double> table = {{key(start), 1.0},
                                         {key(arch(kConv3, kConv3, kSkip)), 1.0 - 0.5 * (b2 - base) / base},
                                         {key(arch(kConv3, kDw3, kConv3)), 1.0 - 0.1 * (b3 - base) / base}};
  int evaluated = 0;
  const ArchLoss loss = [&](const FixedArch& a) {
    ++evaluated;
    const auto it = table.find(key(a));
    return it == table.end() ? 2.0 : it->second;  // everything else is worse than the start
  };
  const UpgradeResult r = upgrade_operators(start, space_, cost_, latency_budget(limit), 1, loss);
  ASSERT_EQ(r.upgrades.size(), 1u);
  EXPECT_EQ(r.upgrades[0].block, "b2");
  EXPECT_EQ(r.upgrades[0].from, "dwsep3x3");
  EXPECT_EQ(r.upgrades[0].to, "conv3x3");
  EXPECT_EQ(key(r.arch), key(arch(kConv3, kConv3, kSkip)));
  EXPECT_LE(cost_.exact(r.arch).latency_s, limit);
  EXPECT_GT(evaluated, 2);
}

TEST_F(OperatorUpgradeTest, NeverBreaksABudgetNorTakesASwapThatDoesNotLowerTheLoss) {
  const FixedArch start = arch(kConv3, kDw3, kSkip);
  const double base = cost_.exact(start).latency_s;
  // Every other network has a lower loss, but no costlier one fits a budget at the start's own cost.
  const ArchLoss lower_elsewhere = [&](const FixedArch& a) { return key(a) == key(start) ? 1.0 : 0.5; };
  UpgradeResult r = upgrade_operators(start, space_, cost_, latency_budget(base), 1, lower_elsewhere);
  EXPECT_LE(cost_.exact(r.arch).latency_s, base);
  for (const auto& u : r.upgrades) EXPECT_LT(u.loss_after, u.loss_before);
  // A loss no swap lowers: nothing changes, however much budget is left.
  const ArchLoss flat = [](const FixedArch&) { return 1.0; };
  r = upgrade_operators(start, space_, cost_, latency_budget(100 * base), 1, flat);
  EXPECT_TRUE(r.upgrades.empty());
  EXPECT_EQ(key(r.arch), key(start));
}

TEST_F(OperatorUpgradeTest, NeverSwapsToACheaperOperator) {
  // Cheaper operators free budget that only channels could use, and a block at its channel limit cannot: the
  // swap would leave budget unused however much lower its loss.
  const FixedArch start = arch(kConv5, kConv5, kConv3);
  const ArchLoss lower_elsewhere = [&](const FixedArch& a) { return key(a) == key(start) ? 1.0 : 0.5; };
  const UpgradeResult r =
      upgrade_operators(start, space_, cost_, latency_budget(cost_.exact(start).latency_s), 1, lower_elsewhere);
  EXPECT_TRUE(r.upgrades.empty());
  EXPECT_EQ(key(r.arch), key(start));
}

TEST_F(OperatorUpgradeTest, ASkipBecomingAnOperatorKeepsItsInputsChannels) {
  const FixedArch start = arch(kConv3, kConv3, kSkip);
  const ArchLoss prefers_conv = [](const FixedArch& a) { return a.blocks[2].op.kind == OpKind::conv ? 0.5 : 1.0; };
  const UpgradeResult r = upgrade_operators(start, space_, cost_, latency_budget(1.0), 1, prefers_conv);
  ASSERT_EQ(r.upgrades.size(), 1u);
  EXPECT_EQ(r.arch.blocks[2].op, kConv3);
  EXPECT_EQ(r.arch.blocks[2].out_channels, 16);
}

}  // namespace
}  // namespace nas::search
