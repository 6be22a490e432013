#include "supernet/network.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "supernet/conv2d.h"
#include "supernet/loss.h"
#include "supernet/network_builder.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

// A residual network that exercises every layer type, a fan-out (conv0's output feeds two branches) and a join.
const char* kResidualModel = R"(
layers:
  - {name: stem, type: conv2d, out: 4, kernel: 3, stride: 1}
  - {name: bn, type: batchnorm}
  - {name: act, type: relu6}
  - {name: branch, type: depthwise_conv2d, kernel: 3}
  - {name: branch_pw, type: conv2d, out: 4, kernel: 1}
  - {name: join, type: add, inputs: [act, branch_pw]}
  - {type: max_pool, kernel: 2}
  - {type: avg_pool, kernel: 3, stride: 1, padding: 1}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

Network residual_network() {
  return build_network(YAML::Load(kResidualModel), {1, 6, 6, 2}, 3, 5);
}

TEST(Network, BuildsTheResidualGraphWithFusedBatchNorm) {
  Network net = residual_network();
  // bn + act fuse into one node: 10 YAML layers, 9 nodes.
  EXPECT_EQ(net.size(), 9);
  EXPECT_EQ(net.layer(1).type(), "batchnorm+relu6");
  EXPECT_EQ(net.output_shape(net.size() - 1), (Shape{1, 1, 1, 3}));
}

// Loss-level gradient check through the whole graph: every parameter's gradient, including those reached only
// through the fan-out and the join, against central differences of the softmax cross-entropy.
TEST(Network, ParameterGradientsMatchCentralDifferences) {
  Network net = residual_network();
  Rng rng(9);
  Tensor images({4, 6, 6, 2}), grad;
  for (int64_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(rng.normal());
  const std::vector<int32_t> labels = {0, 2, 1, 2};
  // float64 reference loss, training-mode forward (batch statistics), as the analytic pass uses.
  auto loss = [&] { return softmax_cross_entropy(net.forward(images, true), labels, nullptr).loss; };
  softmax_cross_entropy(net.forward(images, true), labels, &grad);
  net.backward(grad);
  const std::vector<float> analytic(net.params().grads().begin(), net.params().grads().end());
  testing::GradCheckOptions options;
  options.h = 1e-3;
  testing::GradientComparison comparison(options);
  comparison.check(net.params().theta(), analytic, loss, "theta");
  const auto report = comparison.finish();
  EXPECT_GT(report.checked, 100);
  // A kink of ReLU6 or a max-pool tie may fall within h of a perturbed value for a few of the ~200 parameters;
  // the bound is the harness's own.
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Network, FusionGivesTheSameNumbersAsSeparateLayers) {
  // `input: bn` on the activation forbids fusion, so this net runs BatchNorm and ReLU6 as two nodes.
  const char* unfused = R"(
layers:
  - {name: stem, type: conv2d, out: 4, kernel: 3, stride: 1}
  - {name: bn, type: batchnorm}
  - {name: act, type: relu6, input: bn}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";
  const char* fused = R"(
layers:
  - {name: stem, type: conv2d, out: 4, kernel: 3, stride: 1}
  - {name: bn, type: batchnorm}
  - {name: act, type: relu6}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";
  Network a = build_network(YAML::Load(unfused), {1, 5, 5, 1}, 3, 1);
  Network b = build_network(YAML::Load(fused), {1, 5, 5, 1}, 3, 1);
  ASSERT_EQ(a.size(), b.size() + 1);
  Rng rng(2);
  Tensor images({3, 5, 5, 1}), grad_a, grad_b;
  for (int64_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(3 * rng.normal());
  const std::vector<int32_t> labels = {0, 1, 2};
  const auto la = softmax_cross_entropy(a.forward(images, true), labels, &grad_a);
  const auto lb = softmax_cross_entropy(b.forward(images, true), labels, &grad_b);
  EXPECT_NEAR(la.loss, lb.loss, 1e-6);
  a.backward(grad_a);
  b.backward(grad_b);
  ASSERT_EQ(a.params().grads().size(), b.params().grads().size());
  for (size_t i = 0; i < a.params().grads().size(); ++i)
    EXPECT_NEAR(a.params().grads()[i], b.params().grads()[i], 1e-5) << i;
}

// DS-CNN's first layer as published (Zhang et al., "Hello Edge", 2017; MLPerf Tiny's keyword spotting reference):
// a 10x4 kernel at stride 2 with TensorFlow's "same" padding on 49x10 MFCC features gives 25x5 (4 rows of padding
// on top, 5 at the bottom, 1 column each side), like the explicit pads.
TEST(NetworkBuilder, NonSquareKernelsStridesAndSamePadding) {
  const Shape mfcc{1, 49, 10, 1};
  auto first_layer = [&](const char* conv) {
    const std::string yaml = std::string("layers: [") + conv + ", {type: global_avg_pool}, {type: linear, out: 12}]";
    Network net = build_network(YAML::Load(yaml), mfcc, 12, 1);
    return net.output_shape(0);
  };
  const Shape same = first_layer("{type: conv2d, out: 64, kernel: [10, 4], stride: [2, 2], padding: same}");
  EXPECT_EQ(same, (Shape{1, 25, 5, 64}));
  EXPECT_EQ(first_layer("{type: conv2d, out: 64, kernel: [10, 4], stride: 2, padding: [4, 5, 1, 1]}"), same);
  EXPECT_EQ(first_layer("{type: conv2d, out: 8, kernel: [10, 4], stride: 2, padding: valid}"), (Shape{1, 20, 4, 8}));
  // The default pads kernel / 2 per axis: 5 rows and 2 columns each side.
  EXPECT_EQ(first_layer("{type: conv2d, out: 8, kernel: [10, 4], stride: [1, 2]}"), (Shape{1, 50, 6, 8}));
  Network net = build_network(YAML::Load("layers: [{type: conv2d, out: 4, kernel: [10, 4], stride: 2, padding: same},"
                                         " {type: global_avg_pool}, {type: linear, out: 12}]"),
                              mfcc, 12, 1);
  const auto& conv = dynamic_cast<const Conv2d&>(net.layer(0));
  const Conv2dGeometry g = conv.geometry();
  EXPECT_EQ(std::vector<int32_t>({g.stride_h, g.stride_w, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right}),
            std::vector<int32_t>({2, 2, 4, 5, 1, 1}));
}

void expect_build_error(const char* yaml, const std::string& fragment) {
  try {
    build_network(YAML::Load(yaml), {1, 8, 8, 1}, 10, 1);
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
  }
}

TEST(NetworkBuilder, ReportsBadDescriptionsClearly) {
  expect_build_error("layers: [{type: convolution, out: 8}]", "unknown layer type 'convolution'");
  expect_build_error("layers: [{type: conv2d}]", "missing key 'out'");
  expect_build_error("layers: [{type: conv2d, out: 8, kernal: 3}]", "unknown key 'kernal'");
  expect_build_error("layers: [{type: conv2d, out: eight}]", "'out' must be an integer (got 'eight')");
  // Convolutions take [height, width]; pooling windows stay square, and the message says so.
  expect_build_error("layers: [{type: max_pool, kernel: [2, 3]}]",
                     "'kernel' must be an integer (got [2, 3]); pooling windows, strides and padding are square");
  expect_build_error("layers: [{type: conv2d, out: 8, kernel: [10]}]",
                     "'kernel' must be an integer or [height, width] (got [10])");
  expect_build_error("layers: [{type: conv2d, out: 8, kernel: [3, x]}]", "'kernel' must hold integers (got [3, x])");
  expect_build_error("layers: [{type: conv2d, out: 8, padding: [1, 2, 3]}]",
                     "'padding' must be an integer, [height, width], [top, bottom, left, right], same or valid "
                     "(got [1, 2, 3])");
  expect_build_error("layers: [{type: conv2d, out: 8, padding: full}]", "(got 'full')");
  // -1 means "the height's" inside Conv2dSpec, so a negative width or side must not slip through as one.
  expect_build_error("layers: [{type: conv2d, out: 8, stride: [2, -1]}]", "'stride' must be positive (got [2, -1])");
  expect_build_error("layers: [{type: conv2d, out: 8, padding: [1, -1, 1, 1]}]",
                     "'padding' must be >= 0 on every side (got [1, -1, 1, 1])");
  expect_build_error("layers: [{type: linear, out: 5}]", "must output 10 class scores");
  expect_build_error("layers: [{type: add, inputs: [input, nowhere]}]", "input 'nowhere' names no earlier layer");
  expect_build_error("layers: []", "non-empty list 'layers'");
  expect_build_error("{}", "non-empty list 'layers'");
  expect_build_error("layers: [{type: conv2d, out: 4, kernel: 9, padding: 0}]", "larger than padded input");
}

}  // namespace
}  // namespace nas::supernet
