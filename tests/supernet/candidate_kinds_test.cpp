// The candidate rows (supernet/candidate_kinds.h): names that parse back, and the same stages in the supernet's
// block and in a fixed network's model YAML.
#include "supernet/candidate_kinds.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <utility>
#include <vector>

#include "supernet/network_builder.h"
#include "supernet/searchable_block.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

using Pairs = std::vector<std::pair<int32_t, int32_t>>;  // (L, H) of a reuse candidate

TEST(CandidateKinds, EveryNameParsesBackToItsKindAndKernel) {
  ASSERT_EQ(all_candidate_kinds().size(), static_cast<size_t>(kOpKindCount));
  for (const OpKind kind : all_candidate_kinds()) {
    if (candidate_kind(kind).identity) {
      const OpCandidate op{kind, 0};
      EXPECT_EQ(parse_op(op.name(), "test"), op);
      continue;
    }
    for (const int32_t k : {1, 3, 5, 7})
      for (const int32_t e : candidate_kind(kind).expands ? std::vector<int32_t>{1, 3, 6, kMaxExpansion}
                                                          : std::vector<int32_t>{0})
        for (const auto& [len, bits] : candidate_kind(kind).reuses ? Pairs{{1, 1}, {16, 4}, {kMaxReuseSubLen, 8}}
                                                                   : Pairs{{0, 0}}) {
          const OpCandidate op{.kind = kind, .kernel = k, .expansion = e, .sub_len = len, .hash_bits = bits};
          EXPECT_EQ(parse_op(op.name(), "test"), op) << op.name();
        }
  }
}

TEST(CandidateKinds, AFixedNetworkListsEachStageUnderItsName) {
  FixedArch arch;
  arch.blocks.push_back({"b1", {OpKind::conv, 5}, 8, 1});
  arch.blocks.push_back({"b2", {OpKind::dwsep, 3}, 16, 2});
  arch.blocks.push_back({"b3", {OpKind::skip, 0}, 16, 1});
  const YAML::Node layers = fixed_model_yaml(arch)["layers"];
  std::vector<std::string> names;
  for (const auto& layer : layers) names.push_back(layer["name"].as<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"b1.conv", "b1.bn", "b1.relu", "b2.dw", "b2.dw_bn", "b2.dw_relu",
                                             "b2.pw", "b2.pw_bn", "b2.pw_relu", "head.pool", "head.fc"}));
  // The k×k stage takes the op's kernel and the block's stride; the pointwise one is 1×1 at stride 1.
  EXPECT_EQ(layers[0]["kernel"].as<int>(), 5);
  EXPECT_EQ(layers[3]["type"].as<std::string>(), "depthwise_conv2d");
  EXPECT_EQ(layers[3]["stride"].as<int>(), 2);
  EXPECT_EQ(layers[6]["kernel"].as<int>(), 1);
  EXPECT_EQ(layers[6]["stride"].as<int>(), 1);
  EXPECT_EQ(layers[6]["out"].as<int>(), 16);
}

// A reuse convolution is one reuse_conv2d layer with the op's kernel, stride, sub-vector length and hash bits, and it
// builds.
TEST(CandidateKinds, AFixedNetworkListsAReuseConvolution) {
  FixedArch arch;
  arch.input_channels = 1;
  arch.blocks.push_back({"b1", parse_op("conv5x5_reuse_l16h6", "test"), 8, 2});
  const YAML::Node layers = fixed_model_yaml(arch)["layers"];
  EXPECT_EQ(layers[0]["name"].as<std::string>(), "b1.conv");
  EXPECT_EQ(layers[0]["type"].as<std::string>(), "reuse_conv2d");
  EXPECT_EQ(layers[0]["kernel"].as<int>(), 5);
  EXPECT_EQ(layers[0]["stride"].as<int>(), 2);
  EXPECT_EQ(layers[0]["out"].as<int>(), 8);
  EXPECT_EQ(layers[0]["sub_len"].as<int>(), 16);
  EXPECT_EQ(layers[0]["hash_bits"].as<int>(), 6);
  EXPECT_EQ(layers[1]["name"].as<std::string>(), "b1.bn");
  Network net = build_network(fixed_model_yaml(arch), Shape{1, 12, 12, 1}, 4, 1);
  Tensor image({2, 12, 12, 1});
  for (int64_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i % 7) - 3.0f;
  const Tensor& logits = net.forward(image, false);
  EXPECT_EQ(logits.size(), 2 * 4);
}

// An inverted residual lists its expansion (E·input channels), depthwise and linear projection, then the join
// reading the projection and the block's input; E = 1 has no expansion, and a block without the join ends at
// its projection's BatchNorm.
TEST(CandidateKinds, AFixedNetworkListsAnInvertedResidualsStagesAndJoin) {
  FixedArch arch;
  arch.input_channels = 3;
  arch.blocks.push_back({"b1", {OpKind::mbconv, 3, 6}, 8, 2});
  arch.blocks.push_back({"b2", {OpKind::mbconv, 5, 3, true}, 8, 1});
  arch.blocks.push_back({"b3", {OpKind::mbconv, 3, 1, true}, 8, 1});
  const YAML::Node layers = fixed_model_yaml(arch)["layers"];
  std::vector<std::string> names;
  for (const auto& layer : layers) names.push_back(layer["name"].as<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "b1.expand", "b1.expand_bn", "b1.expand_relu6", "b1.dw", "b1.dw_bn", "b1.dw_relu6",
                       "b1.project", "b1.project_bn", "b2.expand", "b2.expand_bn", "b2.expand_relu6", "b2.dw",
                       "b2.dw_bn", "b2.dw_relu6", "b2.project", "b2.project_bn", "b2.add", "b3.dw", "b3.dw_bn",
                       "b3.dw_relu6", "b3.project", "b3.project_bn", "b3.add", "head.pool", "head.fc"}));
  EXPECT_EQ(layers[0]["out"].as<int>(), 18);   // 6 × the image's 3 channels
  EXPECT_EQ(layers[3]["stride"].as<int>(), 2);  // the depthwise stage takes the block's stride
  EXPECT_EQ(layers[8]["out"].as<int>(), 24);   // 3 × b1's 8
  EXPECT_EQ(layers[2]["type"].as<std::string>(), "relu6");
  EXPECT_EQ(layers[16]["type"].as<std::string>(), "add");
  EXPECT_EQ(layers[16]["inputs"][0].as<std::string>(), "b2.project_bn");
  EXPECT_EQ(layers[16]["inputs"][1].as<std::string>(), "b1.project_bn");
  EXPECT_EQ(layers[22]["inputs"][1].as<std::string>(), "b2.add");
  arch.input_channels = 0;
  EXPECT_NE(test_support::error_of([&] { fixed_model_yaml(arch); }).find("input_channels"), std::string::npos);
}

TEST(CandidateKinds, TheSupernetTrainsTheRowsStages) {
  SearchBlock spec{"b", 8, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 5}, {OpKind::skip, 0},
                               parse_op("conv3x3_reuse_l8h4", "test")}};
  SearchableBlock block(spec);
  const Shape in{1, 6, 6, 8};
  const Shape shapes[] = {in};
  EXPECT_EQ(block.output_shape(shapes), (Shape{1, 6, 6, 8}));
  for (size_t j = 0; j < spec.ops.size(); ++j)
    EXPECT_EQ(block.stage_count(j), candidate_kind(spec.ops[j].kind).stages.size()) << spec.ops[j].name();
}

}  // namespace
}  // namespace nas::supernet
