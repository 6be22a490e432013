// What the search priced is what the export ships: for fixed architectures of a search space, the arena of the
// quantised, exported network is exactly the search's RAM estimate (cost_models::exact_costs), and the const arrays
// of the generated model.c hold exactly the weight, bias and requantisation bytes the search's flash estimate
// counts (the lowered graph of cost_models/lowering.h). A mismatch means the search optimises for costs the
// deployed network does not have.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cost_models/arena_plan.h"
#include "cost_models/costs.h"
#include "cost_models/lowering.h"
#include "cost_models/reuse_rate_model.h"
#include "cost_models/target.h"
#include "deploy/codegen.h"
#include "deploy/post_training.h"
#include "supernet/dataset.h"
#include "supernet/network_builder.h"
#include "supernet/search_space.h"
#include "tests/cost_models/small_space.h"

namespace nas::deploy {
namespace {

using supernet::FixedArch;
using supernet::OpKind;

// One file-scope `static const int8_t|int32_t name[N] = {...};` of model.c, read from the text itself, so the byte
// count does not trust GeneratedC::parameter_bytes or the Int8Model it was computed from.
struct ConstArray {
  std::string type, name;
  int64_t declared = 0;              // N
  std::vector<int64_t> values;       // what the initialiser lists
  int64_t element_bytes() const { return type == "int8_t" ? 1 : 4; }
};

std::vector<ConstArray> const_arrays(const std::string& source) {
  std::vector<ConstArray> arrays;
  const std::string marker = "static const ";
  for (size_t at = source.find(marker); at != std::string::npos; at = source.find(marker, at + 1)) {
    size_t p = at + marker.size();
    const size_t type_end = source.find(' ', p);
    const std::string type = source.substr(p, type_end - p);
    if (type != "int8_t" && type != "int32_t") continue;  // the kernels' parameter structs inside mcunas_invoke
    ConstArray a;
    a.type = type;
    p = type_end + 1;
    const size_t open = source.find('[', p), close = source.find(']', open);
    a.name = source.substr(p, open - p);
    a.declared = std::stoll(source.substr(open + 1, close - open - 1));
    const size_t body = source.find('{', close), end = source.find('}', body);
    EXPECT_EQ(source.substr(close + 1, body - close - 1), " = ") << a.name;
    std::string value;
    for (size_t i = body + 1; i <= end; ++i) {
      const char ch = source[i];
      if (ch == ',' || ch == '}') {
        if (!value.empty()) a.values.push_back(std::stoll(value));
        value.clear();
      } else if (ch != ' ' && ch != '\n') {
        value += ch;
      }
    }
    arrays.push_back(std::move(a));
  }
  return arrays;
}

// Normalised synthetic images of the space's input shape: calibration only needs plausible activations here.
supernet::DataSplits calibration_data(supernet::Shape input, int32_t classes) {
  supernet::SyntheticSpec spec;
  spec.count = 24;
  spec.height = input.h;
  spec.width = input.w;
  spec.channels = input.c;
  spec.num_classes = classes;
  spec.seed = 3;
  supernet::DataSplits data;
  data.train = supernet::make_synthetic(spec);
  data.norm = supernet::compute_normalization(data.train);
  supernet::normalize(data.train, data.norm);
  return data;
}

std::string describe(const FixedArch& arch) {
  std::string s;
  for (const auto& block : arch.blocks)
    s += " " + block.name + " " + block.op.name() + " -> " + std::to_string(block.out_channels);
  return s;
}

// Builds, quantises and exports `arch` and compares the result with the search's estimates of it.
void expect_export_matches_search(const supernet::SearchSpace& space, const FixedArch& arch, supernet::Shape input,
                                  int32_t classes, const cost_models::Target& target, uint64_t seed) {
  SCOPED_TRACE("arch:" + describe(arch));
  supernet::Network net = supernet::build_network(supernet::fixed_model_yaml(arch), input, classes, seed);
  CalibrationSpec calibration;
  calibration.images = 24;
  const Int8Model model = quantize_network(net, calibration_data(input, classes), calibration);
  // A reuse convolution's rate is measured on the calibration images; the search prices it at the rate model's
  // estimate (cost_models/reuse_rate_model.h). Here the formulas are compared, so the exported side takes the
  // estimate too (how close the estimate comes to measured rates: experiments/trec/rate_fit.sh, docs/trec.md).
  Int8Model priced_model = model;
  for (auto& op : priced_model.ops)
    if (op.kind == Int8OpKind::reuse_conv) {
      const auto& out = priced_model.tensors[static_cast<size_t>(op.output)];
      EXPECT_GT(op.reuse_rate, 0.0);
      EXPECT_LE(op.reuse_rate, 1.0);
      op.reuse_rate = cost_models::estimated_reuse_rate(op.sub_len, op.hash_bits, out.h * out.w);
    }
  const auto graph = op_graph(priced_model);
  const auto plan = cost_models::plan_arena(graph);
  ASSERT_EQ(cost_models::plan_violation(graph, plan), "");
  const GeneratedC code = generate_c(model, plan, "export_costs_test");

  // RAM: the planned arena is exactly the search's estimate (the liveness bound, which the chain layout meets).
  const auto costs = cost_models::exact_costs(space, arch, input, classes, target);
  EXPECT_EQ(static_cast<double>(plan.arena_bytes), costs.arena_bytes) << plan.layout;
  EXPECT_EQ(static_cast<double>(plan.lower_bound_bytes), costs.arena_bytes);
  EXPECT_EQ(code.arena_bytes, plan.arena_bytes);

  // Flash: weights (int8) and biases + requantisation (int32) as the search counts them, op by op with presence.
  const auto lowered = cost_models::lower(space, cost_models::fixed_view(space, arch), input, classes);
  double weight_bytes = 0, int32_bytes = 0;
  int32_t weighted_ops = 0;
  for (const auto& op : lowered.ops) {
    ASSERT_TRUE(op.presence == 0.0 || op.presence == 1.0) << op.name;
    weight_bytes += op.presence * op.weight_bytes;
    int32_bytes += op.presence * (op.bias_bytes + op.qparam_bytes);
    weighted_ops += op.presence == 1.0 && op.weight_bytes > 0;
  }
  EXPECT_EQ(static_cast<double>(code.parameter_bytes), weight_bytes + int32_bytes);

  // The kernels the export calls, in order, are the ones the search priced (latency, scratch and kernel code are
  // per path).
  std::vector<std::string_view> priced, exported;
  std::string names;  // the two namings differ ("b2.dwsep3x3.dw" priced, "b2.dw" exported); shown on failure
  for (const auto& op : lowered.ops) {
    if (op.presence != 1.0) continue;
    priced.push_back(cost_models::name_of(op.path));
    names += " " + op.name;
  }
  names += " |";
  for (const auto& op : model.ops) {
    exported.push_back(cost_models::name_of(kernel_path(model, op)));
    names += " " + op.name;
  }
  EXPECT_EQ(exported, priced) << names;

  // Latency: each kernel call is priced alike from both sides (the same quantities into the same path's model).
  std::vector<double> priced_cycles, exported_cycles;
  for (const auto& op : lowered.ops)
    if (op.presence == 1.0) priced_cycles.push_back(cost_models::op_cycles(op, target));
  for (const auto& op : graph.ops) exported_cycles.push_back(cost_models::op_cycles(op, target));
  ASSERT_EQ(priced_cycles.size(), exported_cycles.size());
  for (size_t j = 0; j < priced_cycles.size(); ++j)
    EXPECT_NEAR(priced_cycles[j], exported_cycles[j], 1e-6 * exported_cycles[j]) << "call " << j << ":" << names;

  // The same sums read back from the text of model.c: each array's declared length, its listed values, and its
  // element type.
  const auto arrays = const_arrays(code.source);
  // Per layer: weights, bias, multiplier, shift, and a reuse convolution's projections.
  int32_t reuse_ops = 0;
  for (const auto& op : model.ops) reuse_ops += op.kind == Int8OpKind::reuse_conv;
  EXPECT_EQ(arrays.size(), static_cast<size_t>(4 * weighted_ops + reuse_ops));
  int64_t parsed_int8 = 0, parsed_int32 = 0;
  for (const auto& a : arrays) {
    EXPECT_EQ(static_cast<int64_t>(a.values.size()), a.declared) << a.name;
    for (const int64_t v : a.values) {
      if (a.type == "int8_t") {
        ASSERT_TRUE(v >= -128 && v <= 127) << a.name << " holds " << v;
      }
    }
    (a.type == "int8_t" ? parsed_int8 : parsed_int32) += a.declared * a.element_bytes();
  }
  EXPECT_EQ(static_cast<double>(parsed_int8), weight_bytes);
  EXPECT_EQ(static_cast<double>(parsed_int32), int32_bytes);
  EXPECT_EQ(parsed_int8 + parsed_int32, code.parameter_bytes);
}

// The blocks' candidates by name (so a residual join is the space's), with the image's channels.
FixedArch arch_of(const supernet::SearchSpace& space, const std::vector<std::pair<std::string, int32_t>>& blocks) {
  FixedArch arch;
  arch.input_channels = space.input_channels;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const auto& block = space.blocks.at(b);
    supernet::OpCandidate op = supernet::parse_op(blocks[b].first, "test");
    for (const auto& candidate : block.ops)
      if (candidate.name() == op.name()) op = candidate;
    arch.blocks.push_back({block.name, op, blocks[b].second, block.stride});
  }
  return arch;
}

// The reference search space itself, parsed from the experiment file nas search runs, with depthwise-separable
// candidates added back to its convolution-only stem so the 1-channel depthwise layer stays covered.
TEST(ExportCosts, FashionMnistSpaceMatchesTheSearchEstimates) {
  const supernet::Shape input{1, 28, 28, 1};
  auto config = YAML::LoadFile(std::string(MCUNAS_SOURCE_DIR) + "/experiments/fmnist_search.yaml");
  YAML::Node stem_ops = config["search_space"]["blocks"][0]["ops"];
  stem_ops.push_back("dwsep3x3");
  stem_ops.push_back("dwsep5x5");
  const auto space = supernet::parse_search_space(config["search_space"], input);
  const auto target = cost_models::load_target("nano33");
  const std::vector<std::vector<std::pair<std::string, int32_t>>> archs = {
      // the seed operator everywhere, narrow
      {{"conv3x3", 8}, {"conv3x3", 16}, {"conv3x3", 16}, {"conv3x3", 24}, {"conv3x3", 24}},
      // the seed network itself: every block conv3x3 with all its channels
      {{"conv3x3", 32}, {"conv3x3", 64}, {"conv3x3", 64}, {"conv3x3", 128}, {"conv3x3", 128}},
      // 5×5 kernels and both skips
      {{"conv5x5", 6}, {"conv5x5", 12}, {"skip", 12}, {"conv5x5", 20}, {"skip", 20}},
      // depthwise separable throughout, odd channel counts
      {{"dwsep3x3", 5}, {"dwsep5x5", 17}, {"dwsep3x3", 9}, {"dwsep5x5", 33}, {"dwsep3x3", 7}},
      // mixed, one channel where it is narrowest
      {{"dwsep5x5", 1}, {"conv3x3", 3}, {"skip", 3}, {"dwsep3x3", 40}, {"conv5x5", 11}},
      // one channel throughout: the peak is b1's depthwise on the 1-channel image (784 + 784 + its scratch), where
      // a depthwise layer exported as a dense conv would need 4·25 bytes of scratch instead of the priced 2·25
      {{"dwsep5x5", 1}, {"dwsep3x3", 1}, {"skip", 1}, {"dwsep3x3", 1}, {"dwsep3x3", 1}},
  };
  uint64_t seed = 1;
  for (const auto& blocks : archs) {
    expect_export_matches_search(space, arch_of(space, blocks), input, 10, target, seed++);
  }
}

// The cost-model tests' small space: an odd input size (so ceil(H / stride) matters), a 1×1 conv candidate and a
// skip, by hand and at random.
TEST(ExportCosts, SmallSpaceMatchesTheSearchEstimates) {
  const auto space = cost_models::test::small_space();
  const auto input = cost_models::test::small_input();
  const auto target = cost_models::test::synthetic_target();
  const std::vector<std::vector<std::pair<std::string, int32_t>>> archs = {
      {{"conv3x3", 4}, {"dwsep5x5", 6}, {"skip", 6}, {"conv1x1", 5}},
      {{"dwsep3x3", 8}, {"conv5x5", 16}, {"conv3x3", 16}, {"conv1x1", 16}},
      {{"conv3x3", 1}, {"conv3x3", 1}, {"dwsep3x3", 1}, {"dwsep3x3", 1}},
  };
  uint64_t seed = 10;
  for (const auto& blocks : archs) {
    expect_export_matches_search(space, arch_of(space, blocks), input, cost_models::test::kClasses, target, seed++);
  }
  std::mt19937 rng(21);
  for (int trial = 0; trial < 12; ++trial) {
    const FixedArch arch = cost_models::test::random_arch(space, input.c, rng);
    expect_export_matches_search(space, arch, input, cost_models::test::kClasses, target, seed++);
  }
}

// Inverted residuals: expansions (of the 1-channel image too), depthwise stages on the hidden channels, strided
// blocks and residual joins whose input stays live through the block, by hand and at random.
TEST(ExportCosts, InvertedResidualSpaceMatchesTheSearchEstimates) {
  const supernet::Shape input{1, 12, 12, 1};
  const auto space = supernet::parse_search_space(YAML::Load(R"(
blocks:
  - {name: b1, out: 8, ops: [mbconv3x3_e6, conv3x3]}
  - {name: b2, out: 16, stride: 2, ops: [mbconv5x5_e3, mbconv3x3_e1, dwsep3x3]}
  - {name: b3, out: 16, ops: [mbconv3x3_e6, mbconv5x5_e1, skip]}
  - {name: b4, out: 16, ops: [mbconv7x7_e3, conv1x1]}
  - {name: b5, out: 24, stride: 2, ops: [mbconv3x3_e4, dwsep5x5]}
)"), input);
  const auto target = cost_models::load_target("nano33");
  const std::vector<std::vector<std::pair<std::string, int32_t>>> archs = {
      {{"mbconv3x3_e6", 8}, {"mbconv5x5_e3", 16}, {"mbconv3x3_e6", 16}, {"mbconv7x7_e3", 16}, {"mbconv3x3_e4", 24}},
      {{"conv3x3", 5}, {"mbconv3x3_e1", 9}, {"mbconv5x5_e1", 9}, {"conv1x1", 7}, {"mbconv3x3_e4", 13}},
      {{"mbconv3x3_e6", 3}, {"dwsep3x3", 11}, {"skip", 11}, {"mbconv7x7_e3", 11}, {"dwsep5x5", 24}},
  };
  // The network the 100 ms search of experiments/iso_accuracy/mbconv.yaml found with seed 2, on its 28×28 input.
  {
    const supernet::Shape image{1, 28, 28, 1};
    const std::string config = std::string(MCUNAS_SOURCE_DIR) + "/experiments/iso_accuracy/mbconv.yaml";
    const auto iso = supernet::parse_search_space(YAML::LoadFile(config)["search_space"], image);
    expect_export_matches_search(iso, arch_of(iso, {{"conv5x5", 14}, {"conv3x3", 17}, {"mbconv3x3_e6", 17},
                                                    {"mbconv5x5_e3", 32}, {"mbconv5x5_e3", 32}}),
                                 image, 10, target, 39);
  }
  uint64_t seed = 40;
  for (const auto& blocks : archs)
    expect_export_matches_search(space, arch_of(space, blocks), input, 10, target, seed++);
  std::mt19937 rng(23);
  for (int trial = 0; trial < 8; ++trial) {
    const FixedArch arch = cost_models::test::random_arch(space, input.c, rng);
    expect_export_matches_search(space, arch, input, 10, target, seed++);
  }
}

// Reuse convolutions (TREC) next to dense ones: the arena holds their int32 output sums in scratch as priced,
// their projections are shipped and counted, and their calls are priced alike at the same rate.
TEST(ExportCosts, ReuseSpaceMatchesTheSearchEstimates) {
  const supernet::Shape input{1, 14, 14, 1};
  const auto space = supernet::parse_search_space(YAML::Load(R"(
blocks:
  - {name: b1, out: 8, ops: [conv3x3, conv5x5_reuse_l8h4, conv3x3_reuse_l16h6]}
  - {name: b2, out: 16, stride: 2, ops: [dwsep3x3, conv3x3_reuse_l32h3, conv5x5_reuse_l4h8]}
  - {name: b3, out: 16, ops: [conv3x3_reuse_l9h5, skip]}
)"), input);
  const auto target = cost_models::load_target("nano33");
  const std::vector<std::vector<std::pair<std::string, int32_t>>> archs = {
      {{"conv5x5_reuse_l8h4", 8}, {"conv3x3_reuse_l32h3", 16}, {"conv3x3_reuse_l9h5", 16}},
      {{"conv3x3_reuse_l16h6", 3}, {"conv5x5_reuse_l4h8", 11}, {"skip", 11}},
      {{"conv3x3", 5}, {"conv3x3_reuse_l32h3", 1}, {"conv3x3_reuse_l9h5", 7}},
  };
  uint64_t seed = 60;
  for (const auto& blocks : archs)
    expect_export_matches_search(space, arch_of(space, blocks), input, 10, target, seed++);
}

}  // namespace
}  // namespace nas::deploy
