#include "supernet/teacher_logits.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/error.h"

namespace nas::supernet {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TeacherLogits TeacherLogits::cached(Network& teacher, const Dataset& train, int32_t batch_size) {
  TeacherLogits out(teacher, /*cached=*/true);
  const auto start = std::chrono::steady_clock::now();
  Tensor images;
  const int64_t item = train.item_size();
  for (int32_t begin = 0; begin < train.count; begin += batch_size) {
    const int32_t n = std::min(batch_size, train.count - begin);
    images.resize(train.batch_shape(n));
    std::memcpy(images.data(), train.images.data() + begin * item, sizeof(float) * static_cast<size_t>(n * item));
    const Tensor& logits = teacher.forward(images, /*training=*/false);
    if (out.all_.size() == 0) {
      Shape shape = logits.shape();
      shape.n = train.count;
      out.all_.resize(shape);
    }
    std::memcpy(out.all_.item(begin), logits.data(), sizeof(float) * static_cast<size_t>(logits.size()));
  }
  out.seconds_ = seconds_since(start);
  return out;
}

TeacherLogits TeacherLogits::on_the_fly(Network& teacher) { return TeacherLogits(teacher, /*cached=*/false); }

const Tensor& TeacherLogits::for_batch(const Tensor& images, std::span<const int32_t> indices) {
  if (!cached_) {
    const auto start = std::chrono::steady_clock::now();
    const Tensor& logits = teacher_->forward(images, /*training=*/false);
    seconds_ += seconds_since(start);
    return logits;
  }
  if (static_cast<int32_t>(indices.size()) != images.shape().n)
    throw Error("distillation", "a batch of " + std::to_string(images.shape().n) + " images came with " +
                                    std::to_string(indices.size()) + " dataset indices", Error::Kind::failure);
  Shape shape = all_.shape();
  shape.n = images.shape().n;
  batch_.resize(shape);
  const auto row = static_cast<size_t>(shape.item_size());
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= all_.shape().n)
      throw Error("distillation", "dataset index " + std::to_string(indices[i]) + " is outside the cached logits",
                  Error::Kind::failure);
    std::memcpy(batch_.item(static_cast<int32_t>(i)), all_.item(indices[i]), sizeof(float) * row);
  }
  return batch_;
}

LossResult training_loss(const Tensor& logits, const Tensor& images, std::span<const int32_t> labels,
                         std::span<const int32_t> indices, const Distillation* distillation, double label_smoothing,
                         Tensor* grad) {
  if (!distillation) return softmax_cross_entropy(logits, labels, grad, label_smoothing);
  const Tensor& teacher = distillation->teacher->for_batch(images, indices);
  return distillation_loss(logits, teacher, labels, distillation->settings, grad);
}

}  // namespace nas::supernet
