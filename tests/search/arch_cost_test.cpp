// What the budget penalties price during search (search/arch_cost.h): the expectation, or the argmax network with
// the expectation's gradient. On a fresh supernet (every logit 0) the argmax is each block's first operator at its
// narrowest width, far cheaper than the expectation over all widths, so the two pricings disagree on which side of
// a budget between them the search stands.
#include "search/arch_cost.h"

#include <gtest/gtest.h>

#include <vector>

#include "cost_models/target.h"
#include "supernet/supernet.h"

namespace nas::search {
namespace {

using constraints::Budget;
using constraints::Metric;
using constraints::Penalty;
using constraints::PenaltySchedule;
using supernet::OpKind;

const supernet::Shape kInput{1, 12, 12, 1};

supernet::SearchSpace space() {
  supernet::SearchSpace s;
  s.blocks.push_back({"b1", 16, 1, {{OpKind::conv, 3}, {OpKind::conv, 5}}});
  s.blocks.push_back({"b2", 24, 2, {{OpKind::conv, 3}, {OpKind::dwsep, 5}}});
  s.blocks.push_back({"b3", 24, 1, {{OpKind::conv, 3}, {OpKind::skip, 0}}});
  return s;
}

// λ at lambda_init from the first step and no pull, so only the hinge acts.
PenaltySchedule hinge_only() {
  PenaltySchedule s;
  s.ramp_steps = 0;
  s.pull = 0;
  return s;
}

class ArchCostTest : public ::testing::Test {
 protected:
  std::vector<double> arch_gradient(double limit, ArchCost::Pricing pricing) {
    const Penalty penalty({{Metric::latency, limit, "--max-latency"}}, hinge_only());
    net_.zero_arch_grads();
    cost_.soft_costs(net_, &penalty, pricing);
    const auto g = net_.arch().grads();
    return {g.begin(), g.end()};
  }
  static double size(const std::vector<double>& g) {
    double s = 0;
    for (double v : g) s += std::abs(v);
    return s;
  }

  supernet::SearchSpace space_ = space();
  cost_models::Target target_ = cost_models::load_target("nano33");
  ArchCost cost_{space_, kInput, 4, target_};
  supernet::SuperNet net_{space_, kInput, 4, 1};
};

TEST_F(ArchCostTest, ArgmaxPricingGivesTheFixedNetworksExactCosts) {
  const double argmax = cost_.soft_costs(net_, nullptr, ArchCost::Pricing::argmax).latency_s;
  const double expected = cost_.soft_costs(net_, nullptr, ArchCost::Pricing::expected).latency_s;
  EXPECT_DOUBLE_EQ(argmax, cost_.exact(net_.fix()).latency_s);
  // The narrowest widths against the mean width: the expectation prices a much larger network.
  EXPECT_LT(argmax, 0.5 * expected);
}

TEST_F(ArchCostTest, TheHingeActsOnTheArgmaxNetworksSideOfTheBudget) {
  const double argmax = cost_.soft_costs(net_, nullptr, ArchCost::Pricing::argmax).latency_s;
  const double expected = cost_.soft_costs(net_, nullptr, ArchCost::Pricing::expected).latency_s;
  // A budget between the two: the expectation misses it, the argmax network holds it.
  const double between = 0.5 * (argmax + expected);
  EXPECT_GT(size(arch_gradient(between, ArchCost::Pricing::expected)), 0.0);
  EXPECT_EQ(size(arch_gradient(between, ArchCost::Pricing::argmax)), 0.0);
  // A budget both miss: the same hinge, so the gradient is the expectation's, straight through.
  const std::vector<double> e = arch_gradient(0.5 * argmax, ArchCost::Pricing::expected);
  const std::vector<double> a = arch_gradient(0.5 * argmax, ArchCost::Pricing::argmax);
  ASSERT_GT(size(e), 0.0);
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < e.size(); ++i) EXPECT_DOUBLE_EQ(a[i], e[i]) << "logit " << i;
}

}  // namespace
}  // namespace nas::search
