// The distillation loss: its gradient against central differences, its value by hand, its limits (α = 1 is the
// cross-entropy; a student equal to the teacher adds nothing at α = 0), and refused settings.
#include "supernet/distillation_loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "supernet/rng.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

Tensor random_logits(Rng& rng, int32_t n, int32_t classes, double scale) {
  Tensor t({n, 1, 1, classes});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(scale * rng.normal());
  return t;
}

TEST(DistillationLoss, GradientMatchesCentralDifferences) {
  Rng rng(11);
  const std::vector<int32_t> labels = {0, 3, 9, 9, 4, 1};
  const Tensor teacher = random_logits(rng, 6, 10, 3.0);
  for (const DistillationSettings s : {DistillationSettings{0.5, 4.0}, DistillationSettings{0.1, 2.0},
                                       DistillationSettings{0.0, 8.0}, DistillationSettings{0.9, 1.0}}) {
    Tensor student = random_logits(rng, 6, 10, 3.0), grad;
    distillation_loss(student, teacher, labels, s, &grad);
    testing::GradientComparison comparison({});
    comparison.check(student.span(), grad.span(),
                     [&] { return distillation_loss(student, teacher, labels, s, nullptr).loss; }, "student logits");
    const auto report = comparison.finish();
    EXPECT_EQ(report.checked, 60);
    EXPECT_LT(report.relative_error, testing::kRelativeBound) << "alpha " << s.alpha << " T " << s.temperature << " "
                                                                << report.worst;
  }
}

TEST(DistillationLoss, ValueByHand) {
  // Two classes, one image. Student logits (0, 0): softened p = (1/2, 1/2) at any T. Teacher logits (ln 3 · T, 0)
  // at T = 2: q = (3/4, 1/4). KL = 3/4·ln(3/2) + 1/4·ln(1/2). CE with label 0 = ln 2.
  Tensor student({1, 1, 1, 2}), teacher({1, 1, 1, 2});
  student[0] = student[1] = 0.0f;
  teacher[0] = static_cast<float>(2.0 * std::log(3.0));
  teacher[1] = 0.0f;
  const std::vector<int32_t> labels = {0};
  const double kl = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  EXPECT_NEAR(distillation_loss(student, teacher, labels, {0.25, 2.0}, nullptr).loss,
              0.25 * std::log(2.0) + 0.75 * 4.0 * kl, 1e-6);
}

TEST(DistillationLoss, LimitsAndRefusals) {
  Rng rng(3);
  const Tensor student = random_logits(rng, 4, 5, 2.0);
  const std::vector<int32_t> labels = {0, 1, 2, 4};
  // α = 1: the cross-entropy, gradient included.
  Tensor grad, ce_grad;
  const Tensor teacher = random_logits(rng, 4, 5, 2.0);
  EXPECT_NEAR(distillation_loss(student, teacher, labels, {1.0, 3.0}, &grad).loss,
              softmax_cross_entropy(student, labels, &ce_grad).loss, 1e-12);
  for (int64_t i = 0; i < grad.size(); ++i) EXPECT_FLOAT_EQ(grad[i], ce_grad[i]);
  // A student that already is the teacher: no soft loss, no soft gradient.
  Tensor zero_grad;
  EXPECT_NEAR(distillation_loss(student, student, labels, {0.0, 3.0}, &zero_grad).loss, 0.0, 1e-9);
  for (int64_t i = 0; i < zero_grad.size(); ++i) EXPECT_NEAR(zero_grad[i], 0.0f, 1e-7);
  EXPECT_THROW(distillation_loss(student, teacher, labels, {1.5, 3.0}, nullptr), Error);
  EXPECT_THROW(distillation_loss(student, teacher, labels, {0.5, 0.0}, nullptr), Error);
  EXPECT_THROW(distillation_loss(student, random_logits(rng, 4, 6, 1.0), labels, {0.5, 2.0}, nullptr), Error);
}

TEST(DistillationLoss, FiniteWhereASoftenedProbabilityUnderflows) {
  // At T = 1 a logit gap of 2000 underflows exp() to 0 in double; the KL term must still be finite and exact:
  // teacher q = (1, 0), student log p = (-2000, 0), so KL = 1 · (0 − (−2000)) = 2000.
  Tensor student({1, 1, 1, 2}), teacher({1, 1, 1, 2}), grad;
  student[0] = 0.0f;
  student[1] = 2000.0f;
  teacher[0] = 2000.0f;
  teacher[1] = 0.0f;
  const std::vector<int32_t> labels = {0};
  const auto loss = distillation_loss(student, teacher, labels, {0.0, 1.0}, &grad);
  EXPECT_NEAR(loss.loss, 2000.0, 1e-6);
  EXPECT_NEAR(grad[0], -1.0f, 1e-6);  // p − q = (0 − 1, 1 − 0)
  EXPECT_NEAR(grad[1], 1.0f, 1e-6);
}

}  // namespace
}  // namespace nas::supernet
