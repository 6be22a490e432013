#include "cost_models/lowering.h"

#include <gtest/gtest.h>

#include <random>

#include "cost_models/costs.h"
#include "tests/common/test_support.h"
#include "tests/cost_models/small_space.h"

namespace nas::cost_models {
namespace {

using test::kClasses;
using test::small_input;
using test::small_space;
using test::synthetic_target;

// b1 conv3x3 → 4, b2 dwsep5x5 → 6 (stride 2), b3 skip, b4 conv1x1 → 5 (stride 2).
supernet::FixedArch hand_arch() {
  supernet::FixedArch arch;
  arch.blocks.push_back({"b1", {supernet::OpKind::conv, 3}, 4, 1});
  arch.blocks.push_back({"b2", {supernet::OpKind::dwsep, 5}, 6, 2});
  arch.blocks.push_back({"b3", {supernet::OpKind::skip, 0}, 6, 1});
  arch.blocks.push_back({"b4", {supernet::OpKind::conv, 1}, 5, 2});
  return arch;
}

// The view of a fixed architecture with every probability and channel count an independent Dual variable.
ArchView<Dual> dual_view(const ArchView<double>& view) {
  size_t n = 0;
  for (const auto& block : view.blocks) n += block.op_prob.size() + 1;
  ArchView<Dual> out;
  size_t index = 0;
  for (const auto& block : view.blocks) {
    BlockView<Dual> bv;
    for (const double p : block.op_prob) bv.op_prob.push_back(Dual::variable(p, index++, n));
    bv.out_channels = Dual::variable(block.out_channels, index++, n);
    out.blocks.push_back(std::move(bv));
  }
  return out;
}

TEST(Lowering, HandComputedNetwork) {
  const auto graph = lower(small_space(), fixed_view(small_space(), hand_arch()), small_input(), kClasses);
  // Input 9×9×2 = 162 B. b1 at 9×9 (81 px), b2 and b3 at 5×5 (ceil(9/2), 25 px), b4 at 3×3 (9 px).
  // Present: conv, dw, pw, conv1x1, pool, fc. Absent candidates stay in the graph with presence 0:
  // b1 dwsep3x3 (2 ops), b2 conv3x3 + conv5x5 (2), b3 conv3x3 + dwsep3x3 (3), b4 dwsep3x3 (2).
  ASSERT_EQ(graph.ops.size(), 6u + 9u);
  double macs = 0, weights = 0, bias = 0, qparams = 0;
  for (const auto& op : graph.ops) {
    macs += op.presence * op.macs;
    weights += op.presence * op.weight_bytes;
    bias += op.presence * op.bias_bytes;
    qparams += op.presence * op.qparam_bytes;
  }
  // MACs: b1 81·9·2·4 = 5832; b2 dw 25·25·4 = 2500, pw 25·4·6 = 600; b4 9·6·5 = 270; pool 9·5 = 45; fc 5·10 = 50.
  EXPECT_EQ(macs, 5832 + 2500 + 600 + 270 + 45 + 50);
  // Weights: 9·2·4 = 72; 25·4 = 100; 4·6 = 24; 6·5 = 30; fc 5·10 = 50.
  EXPECT_EQ(weights, 72 + 100 + 24 + 30 + 50);
  // Bias 4 B per output channel: 4·(4 + 4 + 6 + 5 + 10); qparams 8 B per output channel.
  EXPECT_EQ(bias, 4 * (4 + 4 + 6 + 5 + 10));
  EXPECT_EQ(qparams, 8 * (4 + 4 + 6 + 5 + 10));

  const auto costs = estimate(graph, synthetic_target());
  // Arena peak at b2's depthwise, whose 4 channels on a 9-column map run in a group (depthwise_groups): input
  // 81·4 = 324 + intermediate 25·4 = 100 + the group plane of 9×9 padded by 2, 14 rows of pitch 14 positions of 8
  // bytes, + 4 = 1572 → 1996. (b1's conv, reading the 2-channel input through conv_planar: 162 + 324 + two planes
  // of 9×9 padded by 1, 11 rows and a spare one of pitch 12 int16, 288 bytes each, + 4 → 1066; b2's pointwise:
  // 100 + 150 = 250; b4: 150 + 45 = 195.)
  EXPECT_EQ(costs.arena_bytes, 1996);
  EXPECT_EQ(costs.ram_bytes, 1996 + 1000);
  // Flash: parameters 276 + 116 + 232 = 624, per-layer code 6·50 = 300, kernel code once per source file used:
  // conv_s8.c (conv_planar, conv1x1 and fully connected: the largest, conv_planar's 9000) + depthwise_conv_s8.c
  // (depthwise and depthwise_groups: the largest, depthwise_groups' 10000) + global_avg_pool 7000.
  EXPECT_EQ(costs.model_flash_bytes, 624 + 300 + 26000);
  EXPECT_EQ(costs.flash_bytes, 624 + 300 + 26000 + 2000);
  // Cycles (per_mac, per_output, per_call of path p = 1 + p, 10 + p, 100·(p + 1); per executed MAC, and the
  // depthwise 5×5, stride 2, pad 2 on 9×9 runs whole windows on its group plane, padding included: 2500 MACs):
  //   b1 conv_planar (2 input channels, path 8)  5832·9 + 324·18 + 900 = 59220
  //   b2 dw (depthwise_groups, path 9)           2500·10 + 100·19 + 1000 = 27900
  //   b2 pw    600·2 + 150·11 + 200 = 3050       b4     270·2 + 45·11 + 200 = 1235
  //   pool     45·7 + 5·16 + 700 = 1095          fc     50·4 + 10·13 + 400 = 730     total 93230 at 1 MHz
  EXPECT_DOUBLE_EQ(costs.latency_s, 93230e-6);
  EXPECT_DOUBLE_EQ(costs.energy_j, 93230e-6 * 0.5);

  const auto exact = exact_costs(small_space(), hand_arch(), small_input(), kClasses, synthetic_target());
  EXPECT_EQ(exact.ram_bytes, costs.ram_bytes);
  EXPECT_EQ(exact.latency_s, costs.latency_s);
}

TEST(Lowering, DualAndDoubleAgreeExactlyOnFixedArchitectures) {
  std::mt19937 rng(7);
  const auto space = small_space();
  const auto target = load_target("nano33");
  for (int trial = 0; trial < 50; ++trial) {
    const auto arch = test::random_arch(space, small_input().c, rng);
    const auto view = fixed_view(space, arch);
    const auto plain = estimate(lower(space, view, small_input(), kClasses), target);
    const auto dual = estimate(lower(space, dual_view(view), small_input(), kClasses), target);
    EXPECT_EQ(dual.flash_bytes.v, plain.flash_bytes);
    EXPECT_EQ(dual.ram_bytes.v, plain.ram_bytes);
    EXPECT_EQ(dual.latency_s.v, plain.latency_s);
    EXPECT_EQ(dual.energy_j.v, plain.energy_j);
    EXPECT_EQ(dual.arena_bytes.v, plain.arena_bytes);
    EXPECT_EQ(dual.model_flash_bytes.v, plain.model_flash_bytes);
    const auto exact = exact_costs(space, arch, small_input(), kClasses, target);
    EXPECT_EQ(exact.ram_bytes, plain.ram_bytes);
    EXPECT_EQ(exact.flash_bytes, plain.flash_bytes);
  }
}

// A fixed net's costs do not depend on the candidates it did not choose.
TEST(Lowering, FixedCostIgnoresUnchosenCandidates) {
  auto narrow = small_space();
  narrow.blocks[0].ops = {{supernet::OpKind::conv, 3}};
  narrow.blocks[1].ops = {{supernet::OpKind::dwsep, 5}};
  narrow.blocks[2].ops = {{supernet::OpKind::skip, 0}};
  narrow.blocks[3].ops = {{supernet::OpKind::conv, 1}};
  const auto target = load_target("nano33");
  const auto wide = exact_costs(small_space(), hand_arch(), small_input(), kClasses, target);
  const auto only = exact_costs(narrow, hand_arch(), small_input(), kClasses, target);
  EXPECT_EQ(wide.ram_bytes, only.ram_bytes);
  EXPECT_EQ(wide.flash_bytes, only.flash_bytes);
  EXPECT_DOUBLE_EQ(wide.latency_s, only.latency_s);
}

TEST(Lowering, FixedViewRejectsForeignArchitectures) {
  auto arch = hand_arch();
  arch.blocks[0].op = {supernet::OpKind::conv, 7};
  auto message = test_support::error_of([&] { fixed_view(small_space(), arch); });
  EXPECT_TRUE(test_support::contains(message, "'conv7x7' is not a candidate")) << message;
  arch = hand_arch();
  arch.blocks[1].out_channels = 17;
  message = test_support::error_of([&] { fixed_view(small_space(), arch); });
  EXPECT_TRUE(test_support::contains(message, "1..16")) << message;
  arch = hand_arch();
  arch.blocks.pop_back();
  message = test_support::error_of([&] { fixed_view(small_space(), arch); });
  EXPECT_TRUE(test_support::contains(message, "has 3 blocks")) << message;
}

}  // namespace
}  // namespace nas::cost_models
