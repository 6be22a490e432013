// The candidate rows (supernet/candidate_kinds.h): names that parse back, and the same stages in the supernet's
// block and in a fixed network's model YAML.
#include "supernet/candidate_kinds.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "supernet/searchable_block.h"

namespace nas::supernet {
namespace {

TEST(CandidateKinds, EveryNameParsesBackToItsKindAndKernel) {
  ASSERT_EQ(all_candidate_kinds().size(), static_cast<size_t>(kOpKindCount));
  for (const OpKind kind : all_candidate_kinds()) {
    if (candidate_kind(kind).identity) {
      const OpCandidate op{kind, 0};
      EXPECT_EQ(parse_op(op.name(), "test"), op);
      continue;
    }
    for (const int32_t k : {1, 3, 5, 7}) {
      const OpCandidate op{kind, k};
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

TEST(CandidateKinds, TheSupernetTrainsTheRowsStages) {
  SearchBlock spec{"b", 8, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 5}, {OpKind::skip, 0}}};
  SearchableBlock block(spec);
  const Shape in{1, 6, 6, 8};
  const Shape shapes[] = {in};
  EXPECT_EQ(block.output_shape(shapes), (Shape{1, 6, 6, 8}));
  for (size_t j = 0; j < spec.ops.size(); ++j)
    EXPECT_EQ(block.stage_count(j), candidate_kind(spec.ops[j].kind).stages.size()) << spec.ops[j].name();
}

}  // namespace
}  // namespace nas::supernet
