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

// A reuse candidate lowers to one reuse_conv call priced at the rate model's estimate for its L, H and output
// pixels, with its projections counted as weights and its scratch growing with the soft output channel count
// exactly as the kernel's (checked against the kernel's own size between whole counts, and through the Dual).
TEST(Lowering, ReuseCandidatesArePricedAtTheEstimatedRate) {
  supernet::SearchSpace space;
  space.input_channels = 2;
  space.blocks.push_back({"b1", 8, 2, {{supernet::OpKind::conv, 3}, supernet::parse_op("conv5x5_reuse_l8h4", "t")}});
  const supernet::Shape input{1, 9, 9, 2};
  ArchView<double> view;
  view.blocks.push_back({{0.25, 0.75}, 6.5});
  const auto graph = lower(space, view, input, kClasses);
  const auto* reuse = &graph.ops.at(1);
  ASSERT_EQ(reuse->path, KernelPath::reuse_conv) << reuse->name;
  EXPECT_EQ(reuse->presence, 0.75);
  // 5×5 over 2 channels to 6.5 channels, plus 8·4 projection bytes.
  EXPECT_DOUBLE_EQ(reuse->weight_bytes, 25 * 2 * 6.5 + 32);
  // The kernel's scratch at 6 and 7 output channels, halfway.
  auto kernel_scratch = [](int32_t cout) {
    const mcunas_dims in{1, 9, 9, 2}, filter{1, 5, 5, 2}, out{1, 5, 5, cout};
    const mcunas_reuse_params params{8, 4, nullptr};
    return static_cast<double>(mcunas_reuse_conv_s8_scratch_bytes(&params, &in, &filter, &out));
  };
  EXPECT_DOUBLE_EQ(reuse->scratch_bytes, 0.5 * (kernel_scratch(6) + kernel_scratch(7)));
  // Its latency quantities are the kernel-work formulas at the estimated rate.
  OpInfo<double> expected;
  expected.path = KernelPath::reuse_conv;
  CallShape shape{9, 9, 5, 5, 5, 2, 2};
  shape.sub_len = 8;
  shape.hash_bits = 4;
  shape.reuse_rate = estimated_reuse_rate(8, 4, 25);
  set_kernel_work(expected, 2.0, 6.5, shape);
  EXPECT_DOUBLE_EQ(reuse->plane_sums, expected.plane_sums);
  EXPECT_DOUBLE_EQ(reuse->tail_macs, expected.tail_macs);
  EXPECT_DOUBLE_EQ(reuse->executed_macs, expected.executed_macs);
  EXPECT_LT(reuse->tail_macs, reuse->macs);  // the clusters' products are fewer than the dense MACs
  // Dual and double agree, and the channel derivative of the scratch is the kernel's step per channel.
  const auto dual = lower(space, dual_view(view), input, kClasses);
  EXPECT_EQ(dual.ops.at(1).scratch_bytes.v, reuse->scratch_bytes);
  EXPECT_DOUBLE_EQ(dual.ops.at(1).scratch_bytes.d.at(2), kernel_scratch(7) - kernel_scratch(6));
}

// The rate model: a share of the sub-vectors in [1/N, 1], more clusters with more hash bits and more pixels per
// block, and the share falling as the pixels grow.
TEST(Lowering, EstimatedReuseRateIsAShareThatGrowsWithTheCodes) {
  for (const int32_t len : {4, 16, 64})
    for (const int32_t pixels : {1, 49, 784}) {
      double last = 0;
      for (int32_t bits = 1; bits <= 8; ++bits) {
        const double rate = estimated_reuse_rate(len, bits, pixels);
        EXPECT_GE(rate, 1.0 / pixels);
        EXPECT_LE(rate, 1.0);
        EXPECT_GE(rate, last) << len << " " << bits << " " << pixels;
        last = rate;
      }
    }
  EXPECT_GT(estimated_reuse_rate(16, 6, 784) * 784, estimated_reuse_rate(16, 6, 49) * 49);
  EXPECT_LT(estimated_reuse_rate(16, 6, 784), estimated_reuse_rate(16, 6, 49));
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
