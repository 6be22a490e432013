#include "supernet/network.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
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
  // DS-CNN's 10x4 first layer, as a user writes it: the message shows what was given and why it is refused.
  expect_build_error("layers: [{type: conv2d, out: 8, kernel: [10, 4]}]",
                     "'kernel' must be an integer (got [10, 4]); kernels, strides and padding are square");
  expect_build_error("layers: [{type: linear, out: 5}]", "must output 10 class scores");
  expect_build_error("layers: [{type: add, inputs: [input, nowhere]}]", "input 'nowhere' names no earlier layer");
  expect_build_error("layers: []", "non-empty list 'layers'");
  expect_build_error("{}", "non-empty list 'layers'");
  expect_build_error("layers: [{type: conv2d, out: 4, kernel: 9, padding: 0}]", "larger than padded input");
}

}  // namespace
}  // namespace nas::supernet
