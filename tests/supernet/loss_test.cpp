#include "supernet/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "supernet/rng.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

TEST(SoftmaxCrossEntropy, GradientMatchesCentralDifferences) {
  Rng rng(5);
  Tensor logits({6, 1, 1, 10}), grad;
  for (int64_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(3.0 * rng.normal());
  const std::vector<int32_t> labels = {0, 3, 9, 9, 4, 1};
  softmax_cross_entropy(logits, labels, &grad);
  testing::GradientComparison comparison({});
  comparison.check(logits.span(), grad.span(), [&] { return softmax_cross_entropy(logits, labels, nullptr).loss; },
                   "logits");
  const auto report = comparison.finish();
  EXPECT_EQ(report.checked, 60);
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(SoftmaxCrossEntropy, LabelSmoothingGradientMatchesCentralDifferences) {
  Rng rng(6);
  Tensor logits({5, 1, 1, 4}), grad;
  for (int64_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(2.0 * rng.normal());
  const std::vector<int32_t> labels = {0, 3, 2, 1, 3};
  softmax_cross_entropy(logits, labels, &grad, 0.1);
  testing::GradientComparison comparison({});
  comparison.check(logits.span(), grad.span(),
                   [&] { return softmax_cross_entropy(logits, labels, nullptr, 0.1).loss; }, "logits");
  const auto report = comparison.finish();
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(SoftmaxCrossEntropy, LabelSmoothingValueByHand) {
  Tensor logits({1, 1, 1, 2});
  logits[0] = 0.0f;
  logits[1] = 0.0f;
  const std::vector<int32_t> labels = {0};
  // Uniform prediction: the loss is log 2 whatever the target distribution.
  EXPECT_NEAR(softmax_cross_entropy(logits, labels, nullptr, 0.2).loss, std::log(2.0), 1e-12);
  logits[0] = std::log(3.0f);  // p = (0.75, 0.25); q = (0.9, 0.1) for ε = 0.2
  EXPECT_NEAR(softmax_cross_entropy(logits, labels, nullptr, 0.2).loss, -(0.9 * std::log(0.75) + 0.1 * std::log(0.25)),
              1e-6);
  EXPECT_THROW(softmax_cross_entropy(logits, labels, nullptr, 1.0), Error);
}

TEST(SoftmaxCrossEntropy, ValuesByHand) {
  Tensor logits({2, 1, 1, 3});
  const float values[] = {0, 0, 0, 1000, 0, 0};  // uniform; then a huge logit that must not overflow
  std::copy(std::begin(values), std::end(values), logits.data());
  const std::vector<int32_t> labels = {1, 0};
  const auto result = softmax_cross_entropy(logits, labels, nullptr);
  EXPECT_NEAR(result.loss, std::log(3.0) / 2.0, 1e-9);
  EXPECT_EQ(result.correct, 1);  // the first is a tie (argmax picks class 0), the second is right
}

}  // namespace
}  // namespace nas::supernet
