#include "cost_models/costs.h"

#include <gtest/gtest.h>

#include <random>

#include "cost_models/lowering.h"
#include "tests/cost_models/small_space.h"

namespace nas::cost_models {
namespace {

using test::kClasses;
using test::small_input;
using test::small_space;

// A soft point of the small space: normalised probabilities bounded away from 0, fractional channels.
// min_channels: the lowest expected width of a block.
std::vector<double> soft_point(std::mt19937& rng, double min_channels = 1.5) {
  std::uniform_real_distribution<double> weight(0.2, 1.0);
  std::vector<double> x;
  for (const auto& block : small_space().blocks) {
    std::vector<double> p;
    double sum = 0;
    for (size_t i = 0; i < block.ops.size(); ++i) sum += p.emplace_back(weight(rng));
    for (const double v : p) x.push_back(v / sum);
    x.push_back(std::uniform_real_distribution<double>(min_channels, block.out_channels - 0.5)(rng));
  }
  return x;
}

// Costs as a function of the flat parameter vector (per block: probabilities, then channels).
template <class S>
Costs<S> costs_at(const std::vector<S>& x, const Target& target) {
  const auto space = small_space();
  ArchView<S> view;
  size_t index = 0;
  for (const auto& block : space.blocks) {
    BlockView<S> bv;
    for (size_t i = 0; i < block.ops.size(); ++i) bv.op_prob.push_back(x[index++]);
    bv.out_channels = x[index++];
    view.blocks.push_back(std::move(bv));
  }
  return estimate(lower(space, view, small_input(), kClasses), target);
}

std::array<double, 8> metrics(const Costs<double>& c) {
  return {c.flash_bytes, c.ram_bytes, c.latency_s, c.energy_j, c.arena_bytes, c.model_flash_bytes, c.macs, c.params};
}
std::array<const Dual*, 8> metrics(const Costs<Dual>& c) {
  return {&c.flash_bytes, &c.ram_bytes,         &c.latency_s, &c.energy_j,
          &c.arena_bytes, &c.model_flash_bytes, &c.macs,      &c.params};
}

// Every cost's gradient with respect to every probability and channel count matches central differences. The
// peak RAM is a max: at these seeds the peak is not near a tie (checked: both one-sided differences agree).
TEST(Costs, GradientsMatchCentralDifferences) {
  const char* names[] = {"flash", "ram", "latency", "energy", "arena", "model_flash"};
  const auto target = load_target("nano33");
  for (const unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    const auto x = soft_point(rng);
    std::vector<Dual> xd;
    for (size_t i = 0; i < x.size(); ++i) xd.push_back(Dual::variable(x[i], i, x.size()));
    const auto dual = costs_at(xd, target);
    const auto plain = metrics(costs_at(x, target));
    for (size_t m = 0; m < 6; ++m) EXPECT_EQ(metrics(dual)[m]->v, plain[m]) << names[m];
    for (size_t i = 0; i < x.size(); ++i) {
      const double h = 1e-5;
      auto up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const auto hi = metrics(costs_at(up, target));
      const auto lo = metrics(costs_at(down, target));
      for (size_t m = 0; m < 6; ++m) {
        const double right = (hi[m] - plain[m]) / h;
        const double left = (plain[m] - lo[m]) / h;
        ASSERT_NEAR(right, left, 1e-4 * (1 + std::abs(left))) << names[m] << " at a kink, seed " << seed;
        const double central = (hi[m] - lo[m]) / (2 * h);
        EXPECT_NEAR(metrics(dual)[m]->grad(i), central, 1e-6 * (1 + std::abs(central)) + 1e-9 * std::abs(plain[m]))
            << names[m] << " d/dx" << i << " seed " << seed;
      }
    }
  }
}

// More channels or a likelier expensive operator never make a cost smaller.
// MACs and parameters by hand for conv3x3 2 → 8 channels on 9×9, global average pooling, linear 8 → 10.
TEST(Costs, CountsMacsAndParameters) {
  supernet::SearchSpace space;
  space.blocks.push_back({"b1", 8, 1, {{supernet::OpKind::conv, 3}}});
  supernet::FixedArch arch;
  arch.blocks.push_back({"b1", {supernet::OpKind::conv, 3}, 8, 1});
  const Costs<double> c = exact_costs(space, arch, small_input(), kClasses, test::synthetic_target());
  // conv 81·8·(3·3·2) = 11,664; pooling reads 81·8 = 648 values; linear 8·10 = 80.
  EXPECT_DOUBLE_EQ(c.macs, 11664 + 648 + 80);
  // conv 8·18 weights + 8 biases; linear 80 weights + 10 biases.
  EXPECT_DOUBLE_EQ(c.params, 144 + 8 + 80 + 10);
}

// Within one kernel path: a convolution reading at most 3 channels takes conv_planar, whose planes cost more RAM
// (and on nano33 more time) than the im2col of 4 channels, so widths stay above that step here.
TEST(Costs, GrowWithChannels) {
  const auto target = load_target("nano33");
  std::mt19937 rng(11);
  auto x = soft_point(rng, 4.0);
  const auto before = metrics(costs_at(x, target));
  size_t index = 0;
  for (const auto& block : small_space().blocks) {
    index += block.ops.size();
    x[index++] += 1;  // the block's channels
  }
  const auto after = metrics(costs_at(x, target));
  for (size_t m = 0; m < 6; ++m) EXPECT_GT(after[m], before[m]) << m;
}

}  // namespace
}  // namespace nas::cost_models
