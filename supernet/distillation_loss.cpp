#include "supernet/distillation_loss.h"

#include <cmath>
#include <vector>

#include "common/error.h"

namespace nas::supernet {

namespace {

// log softmax(z / T) of one item, computed from the largest logit down so that large logits cannot overflow and a
// probability that underflows to 0 still has a finite logarithm.
void log_softened(const float* z, int32_t classes, double temperature, std::vector<double>& out) {
  double top = z[0];
  for (int32_t j = 1; j < classes; ++j) top = std::max(top, double{z[j]});
  double sum = 0;
  out.resize(static_cast<size_t>(classes));
  for (int32_t j = 0; j < classes; ++j) sum += std::exp(out[static_cast<size_t>(j)] = (z[j] - top) / temperature);
  const double log_sum = std::log(sum);
  for (auto& v : out) v -= log_sum;
}

}  // namespace

LossResult distillation_loss(const Tensor& student, const Tensor& teacher, std::span<const int32_t> labels,
                             const DistillationSettings& settings, Tensor* grad) {
  if (!(settings.alpha >= 0 && settings.alpha <= 1))
    throw Error("distillation", "alpha must be in [0, 1] (got " + std::to_string(settings.alpha) + ")");
  if (!(settings.temperature > 0) || !std::isfinite(settings.temperature))
    throw Error("distillation", "temperature must be > 0 (got " + std::to_string(settings.temperature) + ")");
  if (student.shape().n != teacher.shape().n || student.shape().item_size() != teacher.shape().item_size())
    throw Error("distillation", "the teacher's logits do not have the student's shape", Error::Kind::failure);
  // The label term, with its gradient already scaled by 1/N.
  LossResult result = softmax_cross_entropy(student, labels, grad);
  result.loss *= settings.alpha;
  if (grad)
    for (auto& g : grad->span()) g = static_cast<float>(settings.alpha * g);

  const double t = settings.temperature, soft_weight = (1.0 - settings.alpha) * t * t;
  if (soft_weight == 0) return result;
  const int32_t batch = student.shape().n, classes = static_cast<int32_t>(student.shape().item_size());
  const double inv_batch = 1.0 / batch;
  std::vector<double> log_p, log_q;  // student's and teacher's softened distributions, as logarithms
  for (int32_t n = 0; n < batch; ++n) {
    log_softened(student.item(n), classes, t, log_p);
    log_softened(teacher.item(n), classes, t, log_q);
    double kl = 0;
    for (size_t j = 0; j < log_p.size(); ++j) kl += std::exp(log_q[j]) * (log_q[j] - log_p[j]);
    result.loss += soft_weight * kl * inv_batch;
    if (grad) {
      float* g = grad->item(n);
      for (size_t j = 0; j < log_p.size(); ++j)
        g[j] += static_cast<float>(soft_weight * (std::exp(log_p[j]) - std::exp(log_q[j])) / t * inv_batch);
    }
  }
  return result;
}

}  // namespace nas::supernet
