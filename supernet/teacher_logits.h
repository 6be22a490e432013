// Where a distilled training step gets the teacher's logits for its batch (supernet/distillation_loss.h).
//
// Cached: when the student's batches are not augmented, the teacher sees exactly the images the student sees, so
// its logits for the whole training split are computed once, in inference mode, and each step looks its batch up by
// dataset index. A distilled epoch then costs what a plain one does, plus the loss. On the fly: with augmentation,
// every step runs the teacher's forward pass (inference mode) on the same augmented batch; the epoch then costs at
// most the teacher's forward pass more.
#pragma once

#include <cstdint>
#include <span>

#include "supernet/dataset.h"
#include "supernet/distillation_loss.h"
#include "supernet/network.h"
#include "supernet/tensor.h"

namespace nas::supernet {

class TeacherLogits {
 public:
  // Runs `teacher` over every item of `train` in batches of `batch_size` and keeps the logits.
  static TeacherLogits cached(Network& teacher, const Dataset& train, int32_t batch_size);
  static TeacherLogits on_the_fly(Network& teacher);

  // The teacher's logits [n, 1, 1, classes] for the batch `images`, whose items are the dataset items `indices`.
  const Tensor& for_batch(const Tensor& images, std::span<const int32_t> indices);

  bool is_cached() const { return cached_; }
  double seconds() const { return seconds_; }  // time spent in the teacher's forward passes so far

 private:
  TeacherLogits(Network& teacher, bool cached) : teacher_(&teacher), cached_(cached) {}

  Network* teacher_;
  bool cached_;
  Tensor all_;    // cached: [count, 1, 1, classes]
  Tensor batch_;  // cached: the rows of the last batch
  double seconds_ = 0;
};

// What a distilled step needs: the teacher's logits and the loss's α and T.
struct Distillation {
  TeacherLogits* teacher = nullptr;
  DistillationSettings settings;
};

// The step's loss: the distillation loss when `distillation` is set, else the cross-entropy with `label_smoothing`.
LossResult training_loss(const Tensor& logits, const Tensor& images, std::span<const int32_t> labels,
                         std::span<const int32_t> indices, const Distillation* distillation, double label_smoothing,
                         Tensor* grad);

}  // namespace nas::supernet
