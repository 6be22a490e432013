// BatchNorm folding: the FoldedModel, evaluated by a naive float reference written here (its own loops over the
// int8 weight layouts: conv OHWI, depthwise [kh][kw][c], fully connected [out][in]; pools; add; the fused clamps),
// reproduces the output of every network node a tensor stands for. That checks the folding formula, the weight
// re-layout, the fused activations and which node each tensor claims to hold. Then the refusals: what the int8
// kernels cannot run is reported as bad input naming the layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "deploy/fold_batchnorm.h"
#include "supernet/linear.h"
#include "supernet/pooling.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using supernet::Network;
using supernet::Shape;
using supernet::Tensor;

constexpr float kInf = std::numeric_limits<float>::infinity();

// One image through the folded model, every tensor in its own buffer, sums in double.
std::vector<std::vector<double>> reference_run(const FoldedModel& m, const float* image) {
  std::vector<std::vector<double>> v(m.tensors.size());
  const FloatTensor& input = m.tensors[static_cast<size_t>(m.input)];
  v[static_cast<size_t>(m.input)].assign(image, image + static_cast<size_t>(input.h) * input.w * input.c);
  for (const FloatOp& op : m.ops) {
    const FloatTensor& in = m.tensors[static_cast<size_t>(op.inputs.at(0))];
    const FloatTensor& out = m.tensors[static_cast<size_t>(op.output)];
    const std::vector<double>& x = v[static_cast<size_t>(op.inputs[0])];
    std::vector<double> y(static_cast<size_t>(out.h) * out.w * out.c, 0.0);
    auto at = [&](int32_t iy, int32_t ix, int32_t c) { return x[(static_cast<size_t>(iy) * in.w + ix) * in.c + c]; };
    auto inside = [&](int32_t iy, int32_t ix) { return iy >= 0 && iy < in.h && ix >= 0 && ix < in.w; };
    for (int32_t oy = 0; oy < out.h; ++oy)
      for (int32_t ox = 0; ox < out.w; ++ox)
        for (int32_t o = 0; o < out.c; ++o) {
          double acc = 0;
          const size_t k = (static_cast<size_t>(oy) * out.w + ox) * out.c + o;
          switch (op.kind) {
            case Int8OpKind::conv:
            case Int8OpKind::depthwise:
              acc = op.bias[static_cast<size_t>(o)];
              for (int32_t ky = 0; ky < op.kernel_h; ++ky)
                for (int32_t kx = 0; kx < op.kernel_w; ++kx) {
                  const int32_t iy = oy * op.stride_h - op.pad_h + ky, ix = ox * op.stride_w - op.pad_w + kx;
                  if (!inside(iy, ix)) continue;
                  if (op.kind == Int8OpKind::depthwise) {
                    acc += op.weights[(static_cast<size_t>(ky) * op.kernel_w + kx) * in.c + o] * at(iy, ix, o);
                  } else {
                    for (int32_t c = 0; c < in.c; ++c)
                      acc += op.weights[((static_cast<size_t>(o) * op.kernel_h + ky) * op.kernel_w + kx) * in.c + c] *
                             at(iy, ix, c);
                  }
                }
              break;
            case Int8OpKind::fully_connected:
              acc = op.bias[static_cast<size_t>(o)];
              for (size_t i = 0; i < x.size(); ++i) acc += op.weights[static_cast<size_t>(o) * x.size() + i] * x[i];
              break;
            case Int8OpKind::max_pool:
            case Int8OpKind::avg_pool: {
              double best = -kInf, sum = 0;
              int32_t count = 0;
              for (int32_t ky = 0; ky < op.kernel_h; ++ky)
                for (int32_t kx = 0; kx < op.kernel_w; ++kx) {
                  const int32_t iy = oy * op.stride_h - op.pad_h + ky, ix = ox * op.stride_w - op.pad_w + kx;
                  if (!inside(iy, ix)) continue;  // padding is left out of the max and of the average's count
                  best = std::max(best, at(iy, ix, o));
                  sum += at(iy, ix, o);
                  ++count;
                }
              acc = op.kind == Int8OpKind::max_pool ? best : sum / count;
              break;
            }
            case Int8OpKind::global_avg_pool: {  // the mean of the whole map, whatever the window fields say
              for (int32_t iy = 0; iy < in.h; ++iy)
                for (int32_t ix = 0; ix < in.w; ++ix) acc += at(iy, ix, o);
              acc /= static_cast<double>(in.h) * in.w;
              break;
            }
            case Int8OpKind::add:
              acc = x[k] + v[static_cast<size_t>(op.inputs.at(1))][k];
              break;
            case Int8OpKind::reuse_conv:  // its clusters: tests/supernet/reuse_conv2d_test.cpp
              ADD_FAILURE() << "this reference has no reuse convolution";
              break;
          }
          y[k] = std::clamp(acc, static_cast<double>(op.act_min), static_cast<double>(op.act_max));
        }
    v[static_cast<size_t>(op.output)] = std::move(y);
  }
  return v;
}

// Every tensor of the folded model against the network node it names, on a batch of random images.
void expect_matches_network(Network& net, const FoldedModel& m, uint32_t seed) {
  const Shape in = net.input_shape();
  const Tensor images = testing::random_images({3, in.h, in.w, in.c}, seed);
  net.forward(images, /*training=*/false);
  ASSERT_EQ(m.tensors[static_cast<size_t>(m.output)].node, net.size() - 1);
  for (const FloatTensor& t : m.tensors) {
    const Shape s = t.node == Network::kInput ? in : net.output_shape(t.node);
    ASSERT_EQ(s.h, t.h) << t.name;
    ASSERT_EQ(s.w, t.w) << t.name;
    ASSERT_EQ(s.c, t.c) << t.name;
  }
  for (int32_t b = 0; b < 3; ++b) {
    const auto values = reference_run(m, images.item(b));
    for (size_t t = 0; t < m.tensors.size(); ++t) {
      const int32_t node = m.tensors[t].node;
      const float* expected = node == Network::kInput ? images.item(b) : net.output(node).item(b);
      const std::vector<double>& got = values[t];
      double scale = 1.0;  // relative to the tensor's largest magnitude: sums of many terms round in float
      for (size_t i = 0; i < got.size(); ++i) scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], 1e-4 * scale) << "tensor '" << m.tensors[t].name << "' value " << i;
    }
  }
}

// A chain with every single-input op: conv without bias + BN + ReLU (fused by the builder), conv with bias + BN and
// no activation, depthwise + BN + ReLU6, max pooling, average pooling with padding (its count leaves the padding
// out), a conv with a ReLU of its own (no BN), global average pooling and a linear layer with bias.
constexpr const char* kChain = R"(
layers:
  - {type: conv2d, out: 6, kernel: 3, stride: 1, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, out: 5, kernel: 3, stride: 2, bias: true}
  - {type: batchnorm}
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu6}
  - {type: max_pool, kernel: 3, stride: 2, padding: 1}
  - {type: avg_pool, kernel: 3, stride: 1, padding: 1}
  - {type: conv2d, out: 7, kernel: 1, bias: true}
  - {type: relu}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

TEST(FoldBatchnorm, ChainReproducesEveryNodeTheTensorsName) {
  Network net = testing::network_from_yaml(kChain, {1, 9, 9, 3}, 4);
  testing::randomize_batchnorm_and_biases(net, 21);
  const FoldedModel m = fold_batchnorm(net);

  // BatchNorms and activations are gone into the layer before them: 8 ops, 9 tensors.
  const std::vector<Int8OpKind> kinds = {Int8OpKind::conv,     Int8OpKind::conv,     Int8OpKind::depthwise,
                                         Int8OpKind::max_pool, Int8OpKind::avg_pool, Int8OpKind::conv,
                                         Int8OpKind::global_avg_pool, Int8OpKind::fully_connected};
  ASSERT_EQ(m.ops.size(), kinds.size());
  ASSERT_EQ(m.tensors.size(), kinds.size() + 1);
  for (size_t k = 0; k < kinds.size(); ++k) EXPECT_EQ(m.ops[k].kind, kinds[k]) << k;
  // Fused clamps: ReLU [0, inf), none, ReLU6 [0, 6], the pools none, the 1x1 conv's own ReLU, none.
  const std::vector<std::pair<float, float>> clamps = {{0, kInf},     {-kInf, kInf}, {0, 6},     {-kInf, kInf},
                                                       {-kInf, kInf}, {0, kInf},     {-kInf, kInf}, {-kInf, kInf}};
  for (size_t k = 0; k < clamps.size(); ++k) {
    EXPECT_EQ(m.ops[k].act_min, clamps[k].first) << k;
    EXPECT_EQ(m.ops[k].act_max, clamps[k].second) << k;
  }
  // Geometry comes over as declared.
  EXPECT_EQ(m.ops[1].stride_h, 2);
  EXPECT_EQ(m.ops[3].pad_h, 1);
  EXPECT_EQ(m.ops[4].kernel_w, 3);
  expect_matches_network(net, m, 1);
}

// A residual join, a conv + BN whose ReLU is a separate layer (it names its input, so the builder does not fuse it)
// and a linear layer without bias.
constexpr const char* kResidual = R"(
layers:
  - {type: conv2d, out: 6, kernel: 3, bias: false}
  - {type: batchnorm}
  - {name: stem, type: relu}
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu6}
  - {type: conv2d, out: 6, kernel: 1, bias: true}
  - {name: proj, type: batchnorm}
  - {name: join, type: add, inputs: [stem, proj]}
  - {type: conv2d, out: 5, kernel: 3, stride: 2, bias: true}
  - {name: bn3, type: batchnorm}
  - {name: act3, type: relu, input: bn3}
  - {type: global_avg_pool}
  - {type: linear, out: classes, bias: false}
)";

TEST(FoldBatchnorm, ResidualAddAndSeparateReluReproduceTheNetwork) {
  Network net = testing::network_from_yaml(kResidual, {1, 8, 8, 4}, 3);
  testing::randomize_batchnorm_and_biases(net, 22);
  ASSERT_NE(net.find("bn3"), net.find("act3"));  // the ReLU really is a node of its own
  const FoldedModel m = fold_batchnorm(net);
  ASSERT_EQ(m.ops.size(), 7U);
  const FloatOp& join = m.ops[3];
  ASSERT_EQ(join.kind, Int8OpKind::add);
  ASSERT_EQ(join.inputs.size(), 2U);
  // The add reads the stem's and the projection's tensors, which hold those nodes (the builder fused the stem's
  // BatchNorm and ReLU into one node, named after both).
  ASSERT_GE(net.find("batchnorm1+stem"), 0);
  EXPECT_EQ(m.tensors[static_cast<size_t>(join.inputs[0])].node, net.find("batchnorm1+stem"));
  EXPECT_EQ(m.tensors[static_cast<size_t>(join.inputs[1])].node, net.find("proj"));
  EXPECT_EQ(m.tensors[static_cast<size_t>(join.output)].node, net.find("join"));
  // BN then the separate ReLU both folded into the strided conv; its tensor now holds the ReLU's values.
  EXPECT_EQ(m.ops[4].kind, Int8OpKind::conv);
  EXPECT_EQ(m.ops[4].act_min, 0.0f);
  EXPECT_EQ(m.ops[4].act_max, kInf);
  EXPECT_EQ(m.tensors[static_cast<size_t>(m.ops[4].output)].node, net.find("act3"));
  // A linear layer without bias gets zero biases.
  const FloatOp& fc = m.ops.back();
  ASSERT_EQ(fc.kind, Int8OpKind::fully_connected);
  for (const float b : fc.bias) EXPECT_EQ(b, 0.0f);
  expect_matches_network(net, m, 2);
}

// A linear layer straight on a spatial tensor (it flattens H·W·C in NHWC order, the order its [out][in] weights
// must be in) with a BatchNorm after it, folded per output feature.
TEST(FoldBatchnorm, LinearOnASpatialTensorWithBatchnormAfterIt) {
  Network net = testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 3, kernel: 3, stride: 2, bias: true}
  - {type: batchnorm}
  - {type: relu6}
  - {type: max_pool, kernel: 2}
  - {type: linear, out: classes, bias: true}
  - {name: bn_logits, type: batchnorm}
)", {1, 8, 8, 2}, 5);
  testing::randomize_batchnorm_and_biases(net, 23);
  const FoldedModel m = fold_batchnorm(net);
  ASSERT_EQ(m.ops.size(), 3U);
  const FloatOp& fc = m.ops[2];
  ASSERT_EQ(fc.kind, Int8OpKind::fully_connected);
  EXPECT_EQ(fc.weights.size(), 2U * 2U * 3U * 5U);
  EXPECT_EQ(m.tensors[static_cast<size_t>(fc.output)].node, net.find("bn_logits"));
  expect_matches_network(net, m, 3);
}

// A depthwise layer on a one-channel tensor has groups == 1 like a dense conv, yet stays depthwise: the search
// priced it on the depthwise kernel.
TEST(FoldBatchnorm, OneChannelDepthwiseStaysDepthwise) {
  Network net = testing::network_from_yaml(R"(
layers:
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 6, 6, 1}, 3);
  testing::randomize_batchnorm_and_biases(net, 24);
  const FoldedModel m = fold_batchnorm(net);
  ASSERT_EQ(m.ops.size(), 3U);
  EXPECT_EQ(m.ops[0].kind, Int8OpKind::depthwise);
  EXPECT_EQ(m.ops[0].weights.size(), 9U);
  expect_matches_network(net, m, 4);
}

// The folding formula on one channel, by hand: w' = s·w, b' = s·(b − μ) + β with s = γ / sqrt(σ² + ε).
TEST(FoldBatchnorm, FoldFormulaOnAOneByOneConv) {
  Network net = testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 2, kernel: 1, bias: true}
  - {name: bn, type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 2, 2, 1}, 2);
  const int32_t conv = 0, bn = net.find("bn");
  auto w = net.params().value(net.first_param_slot(conv));
  auto b = net.params().value(net.first_param_slot(conv) + 1);
  w[0] = 0.5f, w[1] = -2.0f;
  b[0] = 0.25f, b[1] = 1.0f;
  const int32_t s0 = net.first_param_slot(bn);
  const float gamma[] = {2.0f, -0.5f}, beta[] = {0.1f, 0.3f}, mean[] = {1.0f, -1.0f}, var[] = {3.0f, 0.25f};
  for (int c = 0; c < 2; ++c) {
    net.params().value(s0)[c] = gamma[c];
    net.params().value(s0 + 1)[c] = beta[c];
    net.params().value(s0 + 2)[c] = mean[c];
    net.params().value(s0 + 3)[c] = var[c];
  }
  const FoldedModel m = fold_batchnorm(net);
  const FloatOp& op = m.ops[0];
  for (int c = 0; c < 2; ++c) {
    const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + 1e-5);
    EXPECT_NEAR(op.weights[static_cast<size_t>(c)], s * w[c], 1e-6) << c;
    EXPECT_NEAR(op.bias[static_cast<size_t>(c)], s * (b[c] - mean[c]) + beta[c], 1e-6) << c;
  }
}

// Refusals are bad input naming the layer, not a failure of the tool.
void expect_refused(const Network& net, const std::string& layer, const std::string& reason) {
  try {
    fold_batchnorm(net);
    ADD_FAILURE() << "folding was expected to refuse layer '" << layer << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input) << e.what();
    const std::string message = e.what();
    EXPECT_NE(message.find("'" + layer + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  }
}

TEST(FoldBatchnorm, RefusesGroupedConvolution) {
  const Network net = testing::network_from_yaml(R"(
layers:
  - {name: grouped, type: conv2d, out: 4, kernel: 3, groups: 2}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 5, 5, 4}, 3);
  expect_refused(net, "grouped", "grouped");
}

TEST(FoldBatchnorm, RefusesBatchnormWhoseInputIsReadTwice) {
  // The conv's raw output also feeds the add: scaling its weights would change what the add sees.
  const Network net = testing::network_from_yaml(R"(
layers:
  - {name: shared, type: conv2d, out: 4, kernel: 1}
  - {name: bn, type: batchnorm}
  - {name: join, type: add, inputs: [shared, bn]}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3);
  expect_refused(net, "bn", "read by other layers");
}

TEST(FoldBatchnorm, RefusesBatchnormOrReluWithNothingToFoldInto) {
  expect_refused(testing::network_from_yaml(R"(
layers:
  - {name: bn_first, type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3), "bn_first", "network input");
  expect_refused(testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 4, kernel: 3}
  - {type: max_pool, kernel: 2}
  - {name: bn_after_pool, type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3), "bn_after_pool", "not a convolution");
  expect_refused(testing::network_from_yaml(R"(
layers:
  - {name: a, type: conv2d, out: 2, kernel: 1}
  - {name: b, type: conv2d, out: 2, kernel: 1}
  - {name: join, type: add, inputs: [a, b]}
  - {name: bn_after_add, type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3), "bn_after_add", "not a convolution");
  // A ReLU after an add folds into it (int8_executor_test); a second activation after that does not.
  expect_refused(testing::network_from_yaml(R"(
layers:
  - {name: a, type: conv2d, out: 2, kernel: 1}
  - {name: b, type: conv2d, out: 2, kernel: 1}
  - {name: join, type: add, inputs: [a, b]}
  - {type: relu}
  - {name: second, type: relu6}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3), "second", "without an activation");
  // A second activation on a conv that already has one (ReLU6 fused with the BN, then a ReLU).
  expect_refused(testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 2, kernel: 1}
  - {type: batchnorm}
  - {name: cap, type: relu6}
  - {name: again, type: relu, input: cap}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 4, 4, 2}, 3), "again", "without an activation");
}

// A layer type the builder does not know (only reachable through the Network API): an identity.
class Identity final : public supernet::Layer {
 public:
  std::string type() const override { return "identity"; }
  supernet::Shape output_shape(std::span<const supernet::Shape> inputs) override { return inputs[0]; }
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool) override { output = *inputs[0]; }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override {
    if (grad_inputs[0] != nullptr) *grad_inputs[0] = grad_output;
  }
};

TEST(FoldBatchnorm, RefusesUnknownLayerType) {
  Network net({1, 4, 4, 2});
  const int32_t mystery = net.add("mystery", std::make_unique<Identity>(), {Network::kInput});
  const int32_t pool = net.add("gap", std::make_unique<supernet::GlobalAvgPool>(), {mystery});
  net.add("fc", std::make_unique<supernet::Linear>(3), {pool});
  net.finalize(1);
  expect_refused(net, "mystery", "identity");
}

}  // namespace
}  // namespace nas::deploy
