#include "supernet/loss.h"

#include <cmath>

#include "common/error.h"

namespace nas::supernet {

int32_t argmax(const Tensor& logits, int32_t n) {
  const int32_t classes = logits.shape().c;
  const float* z = logits.item(n);
  int32_t best = 0;
  for (int32_t j = 1; j < classes; ++j)
    if (z[j] > z[best]) best = j;
  return best;
}

LossResult softmax_cross_entropy(const Tensor& logits, std::span<const int32_t> labels, Tensor* grad,
                                 double label_smoothing) {
  const int32_t batch = logits.shape().n, classes = static_cast<int32_t>(logits.shape().item_size());
  if (static_cast<int64_t>(labels.size()) != batch)
    throw Error("softmax_cross_entropy", "labels (" + std::to_string(labels.size()) + ") do not match the batch (" +
                                             std::to_string(batch) + ")", Error::Kind::failure);
  if (label_smoothing < 0 || label_smoothing >= 1)
    throw Error("softmax_cross_entropy", "label smoothing must be in [0, 1) (got " + std::to_string(label_smoothing) + ")");
  if (grad) grad->resize(logits.shape());
  const double off_target = label_smoothing / classes, on_target = 1.0 - label_smoothing + off_target;
  LossResult result;
  const double inv_batch = 1.0 / batch;
  for (int32_t n = 0; n < batch; ++n) {
    const float* z = logits.item(n);
    const int32_t label = labels[static_cast<size_t>(n)];
    if (label < 0 || label >= classes)
      throw Error("softmax_cross_entropy", "label " + std::to_string(label) + " outside [0, " +
                                               std::to_string(classes) + ")");
    // Subtract the max before exponentiating so large logits cannot overflow.
    const int32_t top = argmax(logits, n);
    double sum = 0;
    for (int32_t j = 0; j < classes; ++j) sum += std::exp(double{z[j]} - z[top]);
    const double log_sum = std::log(sum) + z[top];
    // −Σ_j q_j·log p_j with log p_j = z_j − log_sum and Σ q_j = 1.
    double cross_entropy = log_sum - on_target * z[label];
    if (off_target > 0)
      for (int32_t j = 0; j < classes; ++j) cross_entropy -= (j == label ? 0.0 : off_target) * z[j];
    result.loss += cross_entropy * inv_batch;
    result.correct += top == label;
    if (grad) {
      float* g = grad->item(n);
      for (int32_t j = 0; j < classes; ++j)
        g[j] = static_cast<float>((std::exp(double{z[j]} - log_sum) - (j == label ? on_target : off_target)) * inv_batch);
    }
  }
  return result;
}

}  // namespace nas::supernet
