#include "supernet/supernet.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "common/error.h"
#include "supernet/dataset.h"
#include "supernet/loss.h"
#include "supernet/optimizer.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

const Shape kImage{1, 12, 12, 1};

SearchSpace small_space() {
  return parse_search_space(YAML::Load(R"(
blocks:
  - {name: b1, out: 8, ops: [conv3x3, dwsep3x3]}
  - {name: b2, out: 8, ops: [conv3x3, skip]}
  - {name: b3, out: 16, stride: 2, ops: [conv5x5, dwsep5x5, dwsep3x3]}
)"),
                            kImage);
}

TEST(SuperNet, LaysOutWeightsAndArchitectureParametersSeparately) {
  SuperNet net(small_space(), kImage, 4, 1);
  EXPECT_EQ(net.block_count(), 3u);
  EXPECT_EQ(net.network().size(), 5);  // three blocks, pool, linear
  EXPECT_EQ(net.network().name(net.head_fc_node()), "head.fc");
  ASSERT_EQ(net.arch().slots().size(), 6u);
  EXPECT_EQ(net.arch().slots()[0].name, "b1.op_logits");
  EXPECT_EQ(net.arch().slots()[5].name, "b3.width_logits");
  EXPECT_EQ(net.arch().slots()[5].count, 8);  // ⌈k·16/8⌉ = 2, 4, …, 16
  EXPECT_EQ(net.block(2).widths(), (std::vector<int32_t>{2, 4, 6, 8, 10, 12, 14, 16}));
  for (const auto& slot : net.arch().slots()) EXPECT_EQ(slot.role, ParamRole::no_decay);
  EXPECT_EQ(net.arch().theta().size(), 2u + 8 + 2 + 8 + 3 + 8);
  EXPECT_EQ(net.op_probabilities(2), (std::vector<double>{1.0 / 3, 1.0 / 3, 1.0 / 3}));
  EXPECT_DOUBLE_EQ(net.expected_channels(2), 9.0);  // every width equally likely at the start
  EXPECT_EQ(net.selected_channels(2), 16.0);         // the widest is selected until the first sample
  Tensor images({2, 12, 12, 1});
  images.zero();
  const Tensor& logits = net.network().forward(images, true);
  EXPECT_EQ(logits.shape(), (Shape{2, 1, 1, 4}));
}

// A cost that depends non-linearly on the expected quantities: C = (Σ_i w_i p_i)² + 0.01·k².
struct Cost {
  std::vector<double> w;
  double operator()(const std::vector<double>& p, double k) const {
    double e = 0;
    for (size_t i = 0; i < p.size(); ++i) e += w[i] * p[i];
    return e * e + 0.01 * k * k;
  }
  std::vector<double> d_prob(const std::vector<double>& p) const {
    double e = 0;
    for (size_t i = 0; i < p.size(); ++i) e += w[i] * p[i];
    std::vector<double> d(p.size());
    for (size_t i = 0; i < p.size(); ++i) d[i] = 2 * e * w[i];
    return d;
  }
  double d_channels(double k) const { return 0.02 * k; }
};

TEST(SuperNet, CostGradientMatchesFiniteDifferencesThroughBothSoftmaxes) {
  SuperNet net(small_space(), kImage, 4, 1);
  net.set_tau(0.6);
  const size_t b = 2;
  auto logits = net.arch().value(static_cast<int32_t>(2 * b));
  auto width_logits = net.arch().value(static_cast<int32_t>(2 * b + 1));
  const float logits0[] = {0.4f, -0.3f, 0.1f};
  std::copy(std::begin(logits0), std::end(logits0), logits.begin());
  for (size_t k = 0; k < width_logits.size(); ++k) width_logits[k] = static_cast<float>(k % 3 == 0 ? -0.8 : 0.1 * k);
  const Cost cost{{1.0, -2.0, 0.5}};
  const std::vector<double> p0 = net.op_probabilities(b);
  const double k0 = net.expected_channels(b);

  net.zero_arch_grads();
  net.add_cost_gradient(b, cost.d_prob(p0), cost.d_channels(k0));
  const std::vector<float> d_logits(net.arch().grad(static_cast<int32_t>(2 * b)).begin(),
                                    net.arch().grad(static_cast<int32_t>(2 * b)).end());
  const std::vector<float> d_width(net.arch().grad(static_cast<int32_t>(2 * b + 1)).begin(),
                                   net.arch().grad(static_cast<int32_t>(2 * b + 1)).end());

  testing::GradCheckOptions options;
  options.h = 1e-3;
  testing::GradientComparison logits_check(options);
  logits_check.check(logits, d_logits, [&] { return cost(net.op_probabilities(b), k0); }, "logits");
  auto report = logits_check.finish();
  EXPECT_LT(report.relative_error, 1e-3) << report.worst;

  // Channels through the expected width E = Σ q_k w_k.
  testing::GradientComparison width_check(options);
  width_check.check(width_logits, d_width, [&] { return cost(p0, net.expected_channels(b)); }, "width logits");
  report = width_check.finish();
  EXPECT_LT(report.relative_error, 1e-3) << report.worst;

  // It adds: a second call doubles the gradient; other blocks are untouched.
  net.add_cost_gradient(b, cost.d_prob(p0), cost.d_channels(k0));
  EXPECT_FLOAT_EQ(net.arch().grad(static_cast<int32_t>(2 * b))[0], 2 * d_logits[0]);
  for (float g : net.arch().grad(0)) EXPECT_EQ(g, 0.0f);
  net.zero_arch_grads();
  for (float g : net.arch().grads()) EXPECT_EQ(g, 0.0f);
}

TEST(SuperNet, FixTakesTheArgmaxOpAndTheArgmaxWidth) {
  SuperNet net(small_space(), kImage, 4, 1);
  auto set = [&](int32_t slot, std::vector<float> values) {
    std::copy(values.begin(), values.end(), net.arch().value(slot).begin());
  };
  set(0, {0.1f, 0.7f});                                      // b1: dwsep3x3
  set(1, {0, 0, 0, 0, 0.4f, 0, 0, 0.1f});                    // b1: widths 1..8, the fifth: 5 channels
  set(2, {0.0f, 0.5f});                                      // b2: skip
  set(3, {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f});  // (ignored by skip)
  set(4, {0.9f, 0.2f, 0.3f});                                // b3: conv5x5
  set(5, {0, 0.3f, 0, 0, 0, 0, 0.3f, 0});                    // b3: widths 2..16; ties go to the first: 4
  const FixedArch arch = net.fix();
  ASSERT_EQ(arch.blocks.size(), 3u);
  EXPECT_EQ(arch.blocks[0].op.name(), "dwsep3x3");
  EXPECT_EQ(arch.blocks[0].out_channels, 5);
  EXPECT_EQ(arch.blocks[1].op.name(), "skip");
  EXPECT_EQ(arch.blocks[1].out_channels, 5);  // the previous block's kept channels pass through
  EXPECT_EQ(arch.blocks[2].op.name(), "conv5x5");
  EXPECT_EQ(arch.blocks[2].out_channels, 4);
  EXPECT_EQ(arch.blocks[2].stride, 2);
  EXPECT_EQ(net.kept_channel_indices(2), (std::vector<int32_t>{0, 1, 2, 3}));

  net.select_argmax();
  EXPECT_EQ(net.block(0).selected(), 1u);
  EXPECT_EQ(net.block(0).selected_width(), 4u);
  EXPECT_EQ(net.selected_channels(0), 5.0);
  EXPECT_EQ(net.block(1).selected(), 1u);
  EXPECT_EQ(net.block(2).selected(), 0u);
  EXPECT_EQ(net.block(2).selected_width(), 1u);
}

TEST(SuperNet, SelectFixedRunsAFixedArchitecturesOperatorsAtTheWidthThatHoldsItsChannels) {
  SuperNet net(small_space(), kImage, 4, 1);
  FixedArch arch = net.fix();
  arch.blocks[0] = {"b1", parse_op("dwsep3x3", "test"), 3, 1};  // b1's widths are 1..8: exactly 3
  arch.blocks[1] = {"b2", parse_op("skip", "test"), 3, 1};
  arch.blocks[2] = {"b3", parse_op("dwsep3x3", "test"), 5, 2};  // b3's widths are 2, 4, .., 16: 6 holds 5
  net.select_fixed(arch);
  EXPECT_EQ(net.block(0).selected(), 1u);
  EXPECT_EQ(net.selected_channels(0), 3.0);
  EXPECT_EQ(net.block(1).selected(), 1u);
  EXPECT_EQ(net.block(2).selected(), 2u);
  EXPECT_EQ(net.selected_channels(2), 6.0);
  arch.blocks[0].op = parse_op("conv5x5", "test");  // not a candidate of b1
  EXPECT_THROW(net.select_fixed(arch), nas::Error);
}

TEST(SuperNet, SamplingIsDeterministicAndFollowsTheSoftmax) {
  SuperNet a(small_space(), kImage, 4, 7), b(small_space(), kImage, 4, 7);
  ASSERT_TRUE(std::equal(a.weights().theta().begin(), a.weights().theta().end(), b.weights().theta().begin()));
  const float logits[] = {1.0f, 0.0f, -1.0f};
  for (SuperNet* net : {&a, &b}) std::copy(std::begin(logits), std::end(logits), net->arch().value(4).begin());
  Rng ra(3), rb(3);
  std::vector<int32_t> counts(3, 0);
  const int32_t draws = 4000;
  for (int32_t i = 0; i < draws; ++i) {
    a.sample(ra, 2.0);
    b.sample(rb, 2.0);
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_EQ(a.block(k).selected(), b.block(k).selected());
      ASSERT_EQ(a.block(k).selected_width(), b.block(k).selected_width());
    }
    ++counts[a.block(2).selected()];
  }
  EXPECT_EQ(a.tau(), 2.0);
  EXPECT_EQ(a.block(0).tau(), 2.0);
  const std::vector<double> p = a.op_probabilities(2);  // softmax(θ/2)
  EXPECT_NEAR(p[0], std::exp(0.5) / (std::exp(0.5) + 1 + std::exp(-0.5)), 1e-12);
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(counts[k] / double{draws}, p[k], 0.03) << k;
}

// Uniform draws ignore the logits: every op and width about equally often, however one-sided θ_a is.
TEST(SuperNet, UniformSamplingIgnoresTheLogits) {
  SuperNet net(small_space(), kImage, 4, 7);
  const float logits[] = {9.0f, 0.0f, -9.0f};
  std::copy(std::begin(logits), std::end(logits), net.arch().value(4).begin());
  Rng rng(5);
  std::vector<int32_t> ops(3, 0), widths(8, 0);
  const int32_t draws = 8000;
  for (int32_t i = 0; i < draws; ++i) {
    net.sample_uniform(rng);
    ++ops[net.block(2).selected()];
    ++widths[net.block(2).selected_width()];
  }
  for (int32_t c : ops) EXPECT_NEAR(c / double{draws}, 1.0 / 3, 0.03);
  for (int32_t c : widths) EXPECT_NEAR(c / double{draws}, 1.0 / 8, 0.02);
}

// Weights by SGD, architecture parameters by Adam (straight-through gradients of the sampled path), ops and widths
// sampled each step: the task loss goes down.
TEST(SuperNet, TrainingStepsReduceTheLoss) {
  SyntheticSpec data_spec;
  data_spec.count = 256;
  data_spec.num_classes = 4;
  data_spec.noise = 0.1f;
  Dataset data = make_synthetic(data_spec);
  normalize(data, compute_normalization(data));
  SuperNet net(small_space(), kImage, 4, 11);
  OptimizerSpec sgd;
  sgd.weight_decay = 0;
  OptimizerSpec adam;
  adam.type = "adam";
  adam.weight_decay = 0;
  auto weight_opt = make_optimizer(sgd, net.weights());
  auto arch_opt = make_optimizer(adam, net.arch());
  BatchLoader loader(data, 32, true, {}, 5);
  Rng rng(2);
  Tensor images, grad;
  std::vector<int32_t> labels;
  std::vector<double> epoch_loss;
  const std::vector<float> arch_before(net.arch().theta().begin(), net.arch().theta().end());
  for (int32_t epoch = 0; epoch < 10; ++epoch) {
    loader.start_epoch(epoch);
    double sum = 0;
    int32_t steps = 0;
    while (loader.next(images, labels)) {
      net.sample(rng, 1.0);
      const LossResult loss = softmax_cross_entropy(net.network().forward(images, true), labels, &grad);
      net.network().backward(grad);
      for (float g : net.arch().grads()) ASSERT_TRUE(std::isfinite(g));
      weight_opt->step(net.weights(), 0.1);
      arch_opt->step(net.arch(), 0.01);
      sum += loss.loss;
      ++steps;
    }
    epoch_loss.push_back(sum / steps);
  }
  // Chance level is ln 4 ≈ 1.39; the last two epochs average well below it.
  const double late = (epoch_loss[8] + epoch_loss[9]) / 2;
  EXPECT_LT(late, 0.6 * epoch_loss.front()) << epoch_loss.front() << " -> " << late;
  EXPECT_FALSE(std::equal(arch_before.begin(), arch_before.end(), net.arch().theta().begin()));
}

}  // namespace
}  // namespace nas::supernet
