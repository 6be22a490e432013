#include "supernet/batchnorm2d.h"

#include <gtest/gtest.h>

#include <cmath>

#include "supernet/activation.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

TEST(BatchNorm2d, TrainingGradientsMatchCentralDifferences) {
  BatchNorm2d bn;
  const auto report = testing::gradcheck(bn, {{4, 3, 3, 5}});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(BatchNorm2d, TrainingNormalisesEachChannelAndUpdatesRunningStatistics) {
  BatchNorm2d bn;
  const Shape shape{8, 4, 4, 3};
  ParamStore store = testing::prepare_layer(bn, {shape}, 1);
  Rng rng(1);
  Tensor in(shape), out;
  for (int64_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(3.0 + 2.0 * rng.normal() + (i % 3));
  const Tensor* ins[] = {&in};
  bn.forward(ins, out, true);
  const int64_t rows = in.size() / 3;
  for (int32_t c = 0; c < 3; ++c) {
    double mean = 0, sq = 0, in_mean = 0;
    for (int64_t r = 0; r < rows; ++r) {
      mean += out[r * 3 + c];
      sq += double{out[r * 3 + c]} * out[r * 3 + c];
      in_mean += in[r * 3 + c];
    }
    mean /= rows;
    in_mean /= rows;
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(sq / rows, 1.0, 1e-3);  // biased variance, minus eps
    // Running mean moved 10 % of the way from 0 to the batch mean.
    EXPECT_NEAR(store.state()[static_cast<size_t>(c)], 0.1 * in_mean, 1e-4);
  }
}

TEST(BatchNorm2d, EvaluationUsesRunningStatistics) {
  BatchNorm2d bn;
  const Shape shape{2, 2, 2, 1};
  ParamStore store = testing::prepare_layer(bn, {shape}, 1);
  store.state()[0] = 2.0f;  // running mean
  store.state()[1] = 4.0f;  // running variance
  Tensor in(shape), out;
  in.zero();
  in[0] = 6.0f;
  const Tensor* ins[] = {&in};
  bn.forward(ins, out, false);
  EXPECT_NEAR(out[0], (6.0 - 2.0) / std::sqrt(4.0 + 1e-5), 1e-5);
  EXPECT_NEAR(out[1], (0.0 - 2.0) / std::sqrt(4.0 + 1e-5), 1e-5);
}

}  // namespace
}  // namespace nas::supernet

namespace nas::supernet {
namespace {

// The fused layer must equal BatchNorm followed by the activation, forward and backward. Each of those two is
// gradient-checked on its own above; a direct central-difference check of the fused layer would be at the mercy
// of outputs landing within h of the kink after the batch statistics shift.
void expect_fused_equals_composition(BatchNorm2d::Activation activation, float cap) {
  const Shape shape{4, 3, 3, 5};
  const Shape shapes[] = {shape};
  Rng rng(11);
  Tensor x(shape), dy(shape);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(3.0 * rng.normal());
  for (int64_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<float>(rng.normal());

  auto prepare = [&](BatchNorm2d& bn, ParamStore& store) {
    store = testing::prepare_layer(bn, {shape}, 3);
    // γ in [2, 6] and β in [-2, 2]: many outputs land beyond both clamps of ReLU6.
    for (size_t i = 0; i < store.theta().size(); ++i) store.theta()[i] = static_cast<float>(4.0 * store.theta()[i] + 2.0 * std::sin(i));
  };
  BatchNorm2d fused(activation), plain;
  ParamStore fused_store, plain_store;
  prepare(fused, fused_store);
  prepare(plain, plain_store);
  Relu relu(cap);
  relu.output_shape(shapes);

  const Tensor* xs[] = {&x};
  Tensor fused_out, plain_out, relu_out;
  fused.forward(xs, fused_out, true);
  plain.forward(xs, plain_out, true);
  const Tensor* mids[] = {&plain_out};
  relu.forward(mids, relu_out, true);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_NEAR(fused_out[i], relu_out[i], 1e-5) << i;

  Tensor fused_dx, relu_dx, plain_dx;
  Tensor* fused_grads[] = {&fused_dx};
  fused.backward(xs, fused_out, dy, fused_grads);
  Tensor* relu_grads[] = {&relu_dx};
  relu.backward(mids, relu_out, dy, relu_grads);
  Tensor* plain_grads[] = {&plain_dx};
  plain.backward(xs, plain_out, relu_dx, plain_grads);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_NEAR(fused_dx[i], plain_dx[i], 1e-5) << i;
  for (size_t i = 0; i < fused_store.grads().size(); ++i)
    ASSERT_NEAR(fused_store.grads()[i], plain_store.grads()[i], 1e-4) << i;
}

TEST(BatchNorm2dFused, ReluEqualsBatchNormThenRelu) {
  expect_fused_equals_composition(BatchNorm2d::Activation::relu, 0.0f);
}

TEST(BatchNorm2dFused, Relu6EqualsBatchNormThenRelu6) {
  expect_fused_equals_composition(BatchNorm2d::Activation::relu6, 6.0f);
}

}  // namespace
}  // namespace nas::supernet
