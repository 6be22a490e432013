#include "supernet/search_space.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>

#include "supernet/network_builder.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

using test_support::contains;
using test_support::error_of;

const Shape kImage{1, 28, 28, 1};

// The message without its " (line N)" addresses, so the cases below read as the key paths they test.
std::string without_lines(const std::string& message) {
  return std::regex_replace(message, std::regex(R"( \(line \d+\))"), "");
}

const char* kSpace = R"(
blocks:
  - {name: b1, out: 8, stride: 1, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
  - {name: b2, out: 16, stride: 2, ops: [conv3x3, dwsep3x3]}
  - {name: b3, out: 16, ops: [conv3x3, dwsep5x5, skip]}
)";

TEST(SearchSpace, ParsesBlocksAndOps) {
  const SearchSpace space = parse_search_space(YAML::Load(kSpace), kImage);
  ASSERT_EQ(space.blocks.size(), 3u);
  EXPECT_EQ(space.blocks[0].name, "b1");
  EXPECT_EQ(space.blocks[0].out_channels, 8);
  EXPECT_EQ(space.blocks[1].stride, 2);
  EXPECT_EQ(space.blocks[2].stride, 1);  // the default
  ASSERT_EQ(space.blocks[0].ops.size(), 4u);
  EXPECT_EQ(space.blocks[0].ops[1], (OpCandidate{OpKind::conv, 5}));
  EXPECT_EQ(space.blocks[0].ops[3], (OpCandidate{OpKind::dwsep, 5}));
  EXPECT_EQ(space.blocks[2].ops[2], (OpCandidate{OpKind::skip, 0}));
  EXPECT_TRUE(space.blocks[0].widths.empty());
  EXPECT_EQ(width_choices(space.blocks[0]), (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(SearchSpace, WidthsDefaultToEighthsOrAreListed) {
  EXPECT_EQ(default_widths(32), (std::vector<int32_t>{4, 8, 12, 16, 20, 24, 28, 32}));
  EXPECT_EQ(default_widths(20), (std::vector<int32_t>{3, 5, 8, 10, 13, 15, 18, 20}));
  EXPECT_EQ(default_widths(3), (std::vector<int32_t>{1, 2, 3}));
  const SearchSpace space =
      parse_search_space(YAML::Load("{blocks: [{name: a, out: 8, ops: [conv3x3], widths: [2, 8]}]}"), kImage);
  EXPECT_EQ(width_choices(space.blocks[0]), (std::vector<int32_t>{2, 8}));
}

TEST(SearchSpace, OpNamesRoundTrip) {
  for (const char* name : {"conv1x1", "conv3x3", "conv7x7", "dwsep3x3", "dwsep5x5", "skip", "conv3x3_reuse_l16h4",
                           "conv5x5_reuse_l64h8", "conv1x1_reuse_l1h1"})
    EXPECT_EQ(parse_op(name, "here").name(), name);
}

TEST(SearchSpace, RejectsUnknownOps) {
  for (const char* bad : {"conv4x4", "conv3x5", "conv9x9", "dwsep", "pool3x3", "conv33", "Conv3x3", "mbconv3x3",
                          "mbconv3x3_e0", "mbconv3x3_e9", "mbconv4x4_e6", "conv3x3_e6", "mbconv3x3_e6x",
                          "conv3x3_reuse", "conv3x3_reuse_l16", "conv3x3_reuse_l0h4", "conv3x3_reuse_l65h4",
                          "conv3x3_reuse_l16h0", "conv3x3_reuse_l16h9", "conv3x3_reuse_l016h4", "conv3x3_reuse_l16h4x",
                          "conv4x4_reuse_l16h4", "dwsep3x3_reuse_l16h4", "conv3x3_reuse_lh4"}) {
    const std::string message = error_of([&] { parse_op(bad, "here"); });
    EXPECT_TRUE(contains(message, std::string("here: unknown op '") + bad + "'")) << message;
    EXPECT_TRUE(contains(message, "convKxK, dwsepKxK, mbconvKxK_eE or convKxK_reuse_lLhH with odd K in 1..7, E in "
                                  "1..8, L in 1..64 and H in 1..8")) << message;
  }
}

// A join exists where the block can add its input: stride 1 and the block's input channels equal its out.
TEST(SearchSpace, InvertedResidualsJoinTheirInputWhereTheShapesAllowIt) {
  const SearchSpace space = parse_search_space(YAML::Load(R"(
blocks:
  - {name: b1, out: 3, ops: [mbconv3x3_e6]}
  - {name: b2, out: 8, ops: [mbconv3x3_e6]}
  - {name: b3, out: 8, stride: 2, ops: [mbconv5x5_e3, conv3x3]}
  - {name: b4, out: 8, ops: [mbconv7x7_e1, conv3x3]}
)"), Shape{1, 8, 8, 3});
  EXPECT_TRUE(space.blocks[0].ops[0].residual);   // 3 -> 3
  EXPECT_FALSE(space.blocks[1].ops[0].residual);  // 3 -> 8
  EXPECT_FALSE(space.blocks[2].ops[0].residual);  // stride 2
  EXPECT_TRUE(space.blocks[3].ops[0].residual);
  EXPECT_FALSE(space.blocks[3].ops[1].residual);  // conv has no join
  EXPECT_EQ(space.blocks[3].ops[0].expansion, 1);
  EXPECT_EQ(space.input_channels, 3);
}

// The architecture YAML keeps the image's channels and the joins, and refuses what cannot be built.
TEST(SearchSpace, AnArchitectureWithJoinsRoundTripsThroughYaml) {
  FixedArch arch;
  arch.input_channels = 1;
  arch.blocks.push_back({"b1", {OpKind::mbconv, 3, 6}, 8, 2});
  arch.blocks.push_back({"b2", {OpKind::mbconv, 5, 3, true}, 8, 1});
  const FixedArch back = parse_fixed_arch(YAML::Load(YAML::Dump(fixed_arch_yaml(arch))));
  EXPECT_EQ(back.input_channels, 1);
  ASSERT_EQ(back.blocks.size(), 2u);
  EXPECT_EQ(back.blocks[0].op, arch.blocks[0].op);
  EXPECT_EQ(back.blocks[1].op, arch.blocks[1].op);
  EXPECT_EQ(fixed_block_expanded_channels(back, 0), 6);
  EXPECT_EQ(fixed_block_expanded_channels(back, 1), 24);
  EXPECT_EQ(fixed_arch_line(back), "mbconv3x3_e6 8/2 → mbconv5x5_e3 8");
  const char* bad[][2] = {
      {"{blocks: [{name: b1, op: mbconv3x3_e6, out: 8}]}", "missing key 'input_channels'"},
      {"{input_channels: 3, blocks: [{name: b1, op: conv3x3, out: 3, residual: true}]}",
       "conv3x3 has no residual join"},
      {"{input_channels: 3, blocks: [{name: b1, op: mbconv3x3_e6, out: 8, residual: true}]}",
       "mbconv3x3_e6 with a residual join needs stride 1 and out equal to its input's channels (got stride 1, 3 -> 8"},
      {"{input_channels: 3, blocks: [{name: b1, op: mbconv3x3_e6, out: 3, residual: maybe}]}", "true or false"},
  };
  for (const auto& entry : bad) {
    const char *yaml = entry[0], *words = entry[1];  // not a structured binding: Clang cannot capture one
    const std::string message = error_of([&] { parse_fixed_arch(YAML::Load(yaml)); });
    EXPECT_TRUE(contains(message, words)) << yaml << " -> " << message;
  }
}

// Each malformed space, and the words its one-line error must contain.
struct BadSpace {
  const char* yaml;
  const char* message;
};

TEST(SearchSpace, RejectsMalformedSpacesWithOneClearError) {
  const BadSpace cases[] = {
      {"{blocks: []}", "search_space.blocks: expected a non-empty list of blocks"},
      {"{layers: []}", "search_space: unknown key 'layers' (known: blocks, share_kernels, share_expansions)"},
      {"{}", "search_space: missing key 'blocks'"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3], kernel: 3}]}",
       "search_space.blocks[0]: unknown key 'kernel' (known: name, out, stride, ops, widths)"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3], widths: [4, 6]}]}",
       "search_space.blocks[0].widths: expected a strictly ascending list of channel counts ending with out (8)"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3], widths: [4, 4, 8]}]}",
       "search_space.blocks[0].widths: expected a strictly ascending list of channel counts ending with out (8)"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3], widths: [0, 8]}]}",
       "search_space.blocks[0].widths[0]: channels must be positive (got 0)"},
      {"{blocks: [{out: 8, ops: [conv3x3]}]}", "search_space.blocks[0]: missing key 'name'"},
      {"{blocks: [{name: a, ops: [conv3x3]}]}", "search_space.blocks[0]: missing key 'out'"},
      {"{blocks: [{name: a, out: 8}]}", "search_space.blocks[0]: missing key 'ops'"},
      {"{blocks: [{name: a, out: 0, ops: [conv3x3]}]}", "search_space.blocks[0].out: channels must be positive (got 0)"},
      {"{blocks: [{name: a, out: many, ops: [conv3x3]}]}", "search_space.blocks[0].out: expected an integer (got 'many')"},
      {"{blocks: [{name: a, out: 8, stride: 3, ops: [conv3x3]}]}",
       "search_space.blocks[0].stride: stride must be 1 or 2 (got 3)"},
      {"{blocks: [{name: a, out: 8, ops: []}]}", "search_space.blocks[0].ops: expected a non-empty list of ops"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3, conv6x6]}]}", "search_space.blocks[0].ops[1]: unknown op 'conv6x6'"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3, conv3x3]}]}",
       "search_space.blocks[0].ops[1]: op 'conv3x3' is listed twice"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3]}, {name: a, out: 8, ops: [conv3x3]}]}",
       "search_space.blocks[1].name: block name 'a' is used twice"},
      {"{blocks: [{name: a.b, out: 8, ops: [conv3x3]}]}", "block name 'a.b' may only use letters, digits"},
      {"{blocks: [{name: head, out: 8, ops: [conv3x3]}]}", "block name 'head' is reserved"},
      // The image has 1 channel: a skip in the first block with 8 outputs cannot be the identity.
      {"{blocks: [{name: a, out: 8, ops: [conv3x3, skip]}]}",
       "search_space.blocks[0].ops[1]: skip needs stride 1 and as many input as output channels (got stride 1, 1 -> 8 "
       "channels)"},
      {"{blocks: [{name: a, out: 8, ops: [conv3x3]}, {name: b, out: 8, stride: 2, ops: [skip]}]}",
       "search_space.blocks[1].ops[0]: skip needs stride 1 and as many input as output channels (got stride 2, 8 -> 8"},
  };
  for (const auto& c : cases) {
    const std::string message = without_lines(error_of([&] { parse_search_space(YAML::Load(c.yaml), kImage); }));
    EXPECT_TRUE(contains(message, c.message)) << "yaml: " << c.yaml << "\nmessage: " << message;
  }
}

TEST(SearchSpace, ErrorsNameTheLineInAFile) {
  const std::string message = error_of([] {
    parse_search_space(YAML::Load("blocks:\n  - {name: a, out: 8, ops: [conv3x3]}\n  - {name: b, out: 8, ops: [bad]}\n"),
                       kImage);
  });
  EXPECT_TRUE(contains(message, "search_space.blocks[1].ops[0] (line 3): unknown op 'bad'")) << message;
}

TEST(SearchSpace, BlockShapesFollowTheStrides) {
  const SearchSpace space = parse_search_space(YAML::Load(kSpace), kImage);
  EXPECT_EQ(block_input_shape(space, kImage, 0), (Shape{1, 28, 28, 1}));
  EXPECT_EQ(block_output_shape(space, kImage, 0), (Shape{1, 28, 28, 8}));
  EXPECT_EQ(block_input_shape(space, kImage, 1), (Shape{1, 28, 28, 8}));
  EXPECT_EQ(block_output_shape(space, kImage, 1), (Shape{1, 14, 14, 16}));
  EXPECT_EQ(block_output_shape(space, kImage, 2), (Shape{1, 14, 14, 16}));
  // Odd sizes round up, as a padded stride-2 convolution does.
  EXPECT_EQ(block_output_shape(space, {1, 7, 7, 1}, 1), (Shape{1, 4, 4, 16}));
  EXPECT_TRUE(contains(error_of([&] { block_input_shape(space, kImage, 3); }), "block 3 does not exist (3 blocks)"));
}

FixedArch example_arch() {
  FixedArch arch;
  arch.blocks.push_back({"b1", {OpKind::conv, 5}, 6, 1});
  arch.blocks.push_back({"b2", {OpKind::dwsep, 3}, 12, 2});
  arch.blocks.push_back({"b3", {OpKind::skip, 0}, 12, 1});
  arch.blocks.push_back({"b4", {OpKind::dwsep, 5}, 10, 2});
  return arch;
}

TEST(FixedArch, YamlRoundTrips) {
  const FixedArch arch = example_arch();
  YAML::Emitter out;
  out << fixed_arch_yaml(arch);
  const FixedArch back = parse_fixed_arch(YAML::Load(out.c_str()));
  ASSERT_EQ(back.blocks.size(), arch.blocks.size());
  for (size_t b = 0; b < arch.blocks.size(); ++b) {
    EXPECT_EQ(back.blocks[b].name, arch.blocks[b].name);
    EXPECT_EQ(back.blocks[b].op, arch.blocks[b].op);
    EXPECT_EQ(back.blocks[b].out_channels, arch.blocks[b].out_channels);
    EXPECT_EQ(back.blocks[b].stride, arch.blocks[b].stride);
  }
  EXPECT_TRUE(contains(out.c_str(), "{name: b2, op: dwsep3x3, out: 12, stride: 2}")) << out.c_str();
}

TEST(FixedArch, RejectsMalformedArchitectures) {
  const BadSpace cases[] = {
      {"{blocks: [{name: a, op: conv3x3}]}", "architecture.blocks[0]: missing key 'out'"},
      {"{blocks: [{name: a, op: conv3x3, out: 4, ops: 1}]}", "architecture.blocks[0]: unknown key 'ops'"},
      // found by tests/fuzz/search_space_fuzz: a key that is itself a mapping escaped as a YAML conversion error
      {"{blocks: [{{name: a, op: conv3x3, out: 4}: 1}]}",
       "architecture.blocks[0]: a key must be a name (got a mapping)"},
      {"{blocks: [{name: a, op: wide, out: 4}]}", "architecture.blocks[0].op: unknown op 'wide'"},
      {"{blocks: [{name: a, op: conv3x3, out: 4}, {name: b, op: skip, out: 8}]}",
       "architecture.blocks[1]: skip needs stride 1 and out equal to its input's channels (got stride 1, 4 -> 8"},
      {"{blocks: [{name: a, op: conv3x3, out: 4}, {name: a, op: conv3x3, out: 4}]}", "block name 'a' is used twice"},
      {"{blocks: []}", "architecture.blocks: expected a non-empty list of blocks"},
  };
  for (const auto& c : cases) {
    const std::string message = without_lines(error_of([&] { parse_fixed_arch(YAML::Load(c.yaml)); }));
    EXPECT_TRUE(contains(message, c.message)) << "yaml: " << c.yaml << "\nmessage: " << message;
  }
}

TEST(FixedArch, ModelYamlBuildsWithTheExpectedLayersAndShapes) {
  const Network net = build_network(fixed_model_yaml(example_arch()), kImage, 10, 1);
  auto shape_of = [&](const std::string& name) {
    for (int32_t k = 0; k < net.size(); ++k)
      if (net.name(k) == name) return net.output_shape(k);
    ADD_FAILURE() << "no node " << name;
    return Shape{};
  };
  EXPECT_EQ(net.layer(net.find("b1.conv")).type(), "conv2d");
  EXPECT_EQ(shape_of("b1.conv"), (Shape{1, 28, 28, 6}));
  EXPECT_EQ(shape_of("b1.bn+b1.relu"), (Shape{1, 28, 28, 6}));  // BatchNorm and ReLU fused by the builder
  EXPECT_EQ(net.layer(net.find("b1.bn+b1.relu")).type(), "batchnorm+relu");
  EXPECT_EQ(shape_of("b2.dw"), (Shape{1, 14, 14, 6}));
  EXPECT_EQ(shape_of("b2.pw"), (Shape{1, 14, 14, 12}));
  EXPECT_EQ(shape_of("b2.pw_bn+b2.pw_relu"), (Shape{1, 14, 14, 12}));
  EXPECT_EQ(net.find("b3.conv"), -2);  // skip has no layers
  EXPECT_EQ(shape_of("b4.dw"), (Shape{1, 7, 7, 12}));
  EXPECT_EQ(shape_of("b4.pw"), (Shape{1, 7, 7, 10}));
  EXPECT_EQ(shape_of("head.fc"), (Shape{1, 1, 1, 10}));
  // Convolutions carry no bias (BatchNorm follows): one slot each. 5×5×1×6 weights for b1.conv.
  EXPECT_EQ(net.param_slot_count(net.find("b1.conv")), 1);
  EXPECT_EQ(net.params().slots()[static_cast<size_t>(net.first_param_slot(net.find("b1.conv")))].count, 5 * 5 * 6);
  EXPECT_EQ(net.params().slots()[static_cast<size_t>(net.first_param_slot(net.find("b2.dw")))].count, 3 * 3 * 6);
}

}  // namespace
}  // namespace nas::supernet
