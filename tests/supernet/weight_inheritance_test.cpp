#include "supernet/weight_inheritance.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "supernet/network_builder.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

const Shape kImage{1, 10, 10, 3};

SearchSpace space() {
  return parse_search_space(YAML::Load(R"(
blocks:
  - {name: b0, out: 3, ops: [conv3x3, skip]}
  - {name: b1, out: 8, ops: [conv3x3, dwsep3x3]}
  - {name: b2, out: 8, ops: [conv5x5, skip]}
  - {name: b3, out: 12, stride: 2, ops: [conv3x3, dwsep5x5]}
  - {name: b4, out: 6, ops: [conv3x3, dwsep3x3]}
)"),
                            kImage);
}

// Every block offers both kernel sizes of both kinds, so the 3×3 candidates share the 5×5 ones' weights.
SearchSpace shared_space() {
  return parse_search_space(YAML::Load(R"(
share_kernels: true
blocks:
  - {name: b0, out: 3, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5, skip]}
  - {name: b1, out: 8, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
  - {name: b2, out: 8, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5, skip]}
  - {name: b3, out: 12, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
  - {name: b4, out: 6, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
)"),
                            kImage);
}

// Inverted residuals: b0 expands the image (3 → 4, no join), b2 and b4 join their input (b2 reads b1's output at
// its second widest width, so the join projects onto 7 of 8 channels), b3 is strided.
SearchSpace mbconv_space() {
  return parse_search_space(YAML::Load(R"(
blocks:
  - {name: b0, out: 4, ops: [mbconv3x3_e3, conv3x3]}
  - {name: b1, out: 8, ops: [conv3x3, mbconv3x3_e1]}
  - {name: b2, out: 8, ops: [mbconv3x3_e6, mbconv5x5_e3, skip]}
  - {name: b3, out: 12, stride: 2, ops: [mbconv3x3_e3, dwsep3x3]}
  - {name: b4, out: 12, ops: [mbconv3x3_e1, mbconv5x5_e3]}
)"),
                            kImage);
}

// The same with every expansion of a block sharing the largest one's hidden channels (and the 3×3 kernels the
// centre of the 5×5 ones).
SearchSpace shared_mbconv_space() {
  return parse_search_space(YAML::Load(R"(
share_kernels: true
share_expansions: true
blocks:
  - {name: b0, out: 4, ops: [mbconv3x3_e3, mbconv3x3_e6, conv3x3]}
  - {name: b1, out: 8, ops: [mbconv3x3_e1, mbconv5x5_e4, conv3x3]}
  - {name: b2, out: 8, ops: [mbconv3x3_e2, mbconv5x5_e6, mbconv3x3_e1, skip]}
  - {name: b3, out: 12, stride: 2, ops: [mbconv3x3_e3, mbconv5x5_e6]}
  - {name: b4, out: 12, ops: [mbconv3x3_e1, mbconv3x3_e3, mbconv5x5_e3]}
)"),
                            kImage);
}

// Reuse convolutions (TREC): b0's reads the image (every input channel kept, so the fixed network hashes the same
// sub-vectors as the supernet), b2's reads b1's masked output.
SearchSpace reuse_space() {
  return parse_search_space(YAML::Load(R"(
blocks:
  - {name: b0, out: 6, ops: [conv3x3_reuse_l4h3, conv3x3]}
  - {name: b1, out: 8, ops: [conv3x3, dwsep3x3]}
  - {name: b2, out: 8, stride: 2, ops: [dwsep3x3, conv5x5_reuse_l8h4]}
)"),
                            kImage);
}

Tensor random_batch(int32_t n, uint64_t seed) {
  Rng rng(seed);
  Tensor t({n, kImage.h, kImage.w, kImage.c});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.normal());
  return t;
}

// A supernet whose parameters look trained: BatchNorm γ, β and running statistics away from their initial
// values (so a wrongly copied channel shows), ops chosen by `ops`, a width below the widest in every block (so some
// channels are masked).
SuperNet trained_supernet(const std::vector<size_t>& ops, const SearchSpace& search_space = space()) {
  SuperNet net(search_space, kImage, 5, 3);
  Rng rng(4);
  for (float& v : net.weights().theta()) v += static_cast<float>(0.3 * rng.normal());
  for (size_t b = 0; b < net.block_count(); ++b) {
    auto logits = net.arch().value(static_cast<int32_t>(2 * b));
    std::fill(logits.begin(), logits.end(), 0.0f);
    logits[ops[b]] = 1.0f;
    auto width_logits = net.arch().value(static_cast<int32_t>(2 * b + 1));
    for (float& v : width_logits) v = static_cast<float>(rng.uniform(-1.0, 0.0));
    width_logits[width_logits.size() - 2] = 1.0f;  // the second widest
  }
  net.select_argmax();
  // Training-mode passes move the running statistics of the selected ops away from (0, 1).
  for (int32_t step = 0; step < 3; ++step) net.network().forward(random_batch(16, 10 + step), true);
  return net;
}

// After inheritance, the fixed network computes what the supernet computes with its argmax ops, in inference mode.
void expect_same_function(const std::vector<size_t>& ops, const SearchSpace& search_space = space()) {
  SuperNet supernet = trained_supernet(ops, search_space);
  const FixedArch arch = supernet.fix();
  Network fixed = build_network(fixed_model_yaml(arch), kImage, 5, 99);
  inherit_weights(supernet, arch, fixed);
  const Tensor images = random_batch(4, 1);
  const Tensor expected = supernet.network().forward(images, false);
  const Tensor& got = fixed.forward(images, false);
  ASSERT_EQ(got.shape(), expected.shape());
  double largest = 0;
  for (int64_t i = 0; i < expected.size(); ++i) largest = std::max(largest, std::abs(double{expected[i]}));
  ASSERT_GT(largest, 0.1);
  for (int64_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5 * std::max(1.0, largest)) << i;
}

TEST(WeightInheritance, ConvolutionsKeepTheSupernetsFunction) { expect_same_function({0, 0, 0, 0, 0}); }

// Skips pass masked channels on; depthwise stages after masked channels need their constant folded.
TEST(WeightInheritance, DepthwiseAndSkipsKeepTheSupernetsFunction) { expect_same_function({1, 1, 1, 1, 1}); }

TEST(WeightInheritance, MixedOpsKeepTheSupernetsFunction) { expect_same_function({0, 1, 1, 0, 1}); }

// Expansions, depthwise stages on the hidden channels and residual joins onto the live input channels: the fixed
// network (which has only those channels) computes what the supernet's masks compute.
TEST(WeightInheritance, InvertedResidualsKeepTheSupernetsFunction) {
  expect_same_function({0, 0, 0, 0, 0}, mbconv_space());
  expect_same_function({0, 1, 1, 0, 1}, mbconv_space());
  expect_same_function({1, 1, 2, 1, 0}, mbconv_space());
  const FixedArch arch = trained_supernet({0, 1, 0, 0, 1}, mbconv_space()).fix();
  EXPECT_TRUE(arch.blocks[2].op.residual);
  EXPECT_EQ(arch.blocks[2].out_channels, arch.blocks[1].out_channels);  // the join keeps its input's channels
  EXPECT_FALSE(arch.blocks[3].op.residual);
  EXPECT_EQ(arch.input_channels, kImage.c);
}

// A reuse convolution reading all its input channels keeps the function; its projections are copied as they are,
// and one reading fewer channels than the supernet's still gets its kept weights and the same projections.
TEST(WeightInheritance, ReuseConvolutionsKeepTheSupernetsFunctionAndProjections) {
  expect_same_function({0, 0, 0}, reuse_space());
  expect_same_function({0, 1, 0}, reuse_space());
  SuperNet supernet = trained_supernet({0, 0, 1}, reuse_space());
  const FixedArch arch = supernet.fix();
  ASSERT_EQ(arch.blocks[2].op.name(), "conv5x5_reuse_l8h4");
  Network fixed = build_network(fixed_model_yaml(arch), kImage, 5, 99);
  inherit_weights(supernet, arch, fixed);
  for (const auto& [b, op] : {std::pair<size_t, size_t>{0, 0}, {2, 1}}) {
    const std::vector<int32_t> from = supernet.block(b).stage_slots(op, 0);  // weight, projections
    const std::string layer = arch.blocks[b].name + ".conv";
    const int32_t node = fixed.find(layer);
    ASSERT_GE(node, 0) << layer;
    ASSERT_EQ(fixed.param_slot_count(node), 2) << layer;
    ASSERT_EQ(from.size(), 2u) << layer;
    const auto want = supernet.weights().value(from[1]);
    const auto got = fixed.params().value(fixed.first_param_slot(node) + 1);
    ASSERT_EQ(got.size(), want.size()) << layer;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << layer << " projection " << i;
  }
}

// Smaller expansions computing with the largest one's hidden channels: the fixed net gets those channels.
TEST(WeightInheritance, SharedExpansionsKeepTheSupernetsFunction) {
  expect_same_function({0, 0, 0, 0, 0}, shared_mbconv_space());
  expect_same_function({1, 1, 2, 0, 1}, shared_mbconv_space());
  expect_same_function({0, 0, 1, 1, 2}, shared_mbconv_space());
}

// 3×3 candidates computing with the centre of the 5×5 kernels: the fixed net gets those centre taps.
TEST(WeightInheritance, SharedKernelsKeepTheSupernetsFunction) {
  expect_same_function({0, 2, 4, 2, 0}, shared_space());
  expect_same_function({2, 0, 2, 0, 2}, shared_space());
  expect_same_function({1, 3, 1, 3, 1}, shared_space());
}

TEST(WeightInheritance, CopiesTheKeptChannelsOfTheChosenOp) {
  SuperNet supernet = trained_supernet({0, 0, 0, 0, 0});
  const FixedArch arch = supernet.fix();
  Network fixed = build_network(fixed_model_yaml(arch), kImage, 5, 99);
  inherit_weights(supernet, arch, fixed);
  // b3's BatchNorm γ: the fixed net's channel j is the supernet's kept channel j.
  const std::vector<int32_t> kept = supernet.kept_channel_indices(3);
  const auto from = supernet.weights().value(supernet.block(3).stage_slots(0, 1)[0]);
  const auto to = fixed.params().value(fixed.first_param_slot(fixed.find("b3.bn+b3.relu")));
  ASSERT_EQ(to.size(), kept.size());
  for (size_t j = 0; j < kept.size(); ++j) EXPECT_EQ(to[j], from[static_cast<size_t>(kept[j])]);
}

// A budget repair may take channels away after fix(): the block then keeps its first channels (channels are
// ordered: a width w keeps 0..w−1).
TEST(WeightInheritance, FewerChannelsKeepTheFirst) {
  SuperNet supernet = trained_supernet({0, 1, 1, 1, 0});
  FixedArch arch = supernet.fix();
  const std::vector<int32_t> kept = supernet.kept_channel_indices(3);
  ASSERT_GE(kept.size(), 3u);
  arch.blocks[3].out_channels = 2;
  Network fixed = build_network(fixed_model_yaml(arch), kImage, 5, 99);
  inherit_weights(supernet, arch, fixed);
  const std::vector<int32_t> strongest{0, 1};
  EXPECT_EQ(supernet.block(3).strongest_channels(2), strongest);
  // b3 is dwsep5x5: its pointwise BatchNorm γ holds the two strongest channels.
  const auto from = supernet.weights().value(supernet.block(3).stage_slots(1, 3)[0]);
  const auto to = fixed.params().value(fixed.first_param_slot(fixed.find("b3.pw_bn+b3.pw_relu")));
  ASSERT_EQ(to.size(), 2u);
  for (size_t j = 0; j < 2; ++j) EXPECT_EQ(to[j], from[static_cast<size_t>(strongest[j])]);
}

TEST(WeightInheritance, RejectsAnArchitectureThatDoesNotMatch) {
  SuperNet supernet = trained_supernet({0, 0, 0, 0, 0});
  FixedArch arch = supernet.fix();
  Network fixed = build_network(fixed_model_yaml(arch), kImage, 5, 99);
  FixedArch wrong = arch;
  wrong.blocks[1].out_channels = 1000;
  EXPECT_TRUE(test_support::contains(test_support::error_of([&] { inherit_weights(supernet, wrong, fixed); }),
                                     "inherit weights: block 'b1' has"));
  wrong = arch;
  wrong.blocks[1].op = {OpKind::dwsep, 5};
  EXPECT_EQ(test_support::error_of([&] { inherit_weights(supernet, wrong, fixed); }),
            "inherit weights: block 'b1': op dwsep5x5 is not one of its candidates");
  // A network built for another architecture.
  wrong = arch;
  wrong.blocks[1].op = {OpKind::dwsep, 3};
  EXPECT_TRUE(test_support::contains(test_support::error_of([&] { inherit_weights(supernet, wrong, fixed); }),
                                     "the fixed network has no layer 'b1.dw'"));
}

}  // namespace
}  // namespace nas::supernet
