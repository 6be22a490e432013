// Knowledge distillation (Hinton et al., 2015, "Distilling the Knowledge in a Neural Network"): the student's loss
// mixes the cross-entropy with the labels and the KL divergence from the teacher's softened distribution,
//   L = α·CE(y, z_s) + (1 − α)·T²·KL(softmax(z_t / T) ‖ softmax(z_s / T)),
// averaged over the batch. T² keeps the soft term's gradient on the scale of the hard term's as T grows (the
// gradient of the KL term in z_s is (softmax(z_s/T) − softmax(z_t/T)) / T). Al Zein et al. (IC2SPM 2022) distil
// into a Nano 33 BLE student this way before post-training quantisation.
#pragma once

#include <cstdint>
#include <span>

#include "supernet/loss.h"
#include "supernet/tensor.h"

namespace nas::supernet {

struct DistillationSettings {
  double alpha = 0.5;        // weight of the label term, in [0, 1]
  double temperature = 4.0;  // T > 0
};

// Loss and `correct` (the student's argmax against the labels) over logits [N, 1, 1, classes] of the student and of
// the teacher, which must have the same shape; with grad, dL/dz_s. Throws nas::Error (bad_input) for settings out of
// range, (failure) for mismatched shapes or labels out of range.
LossResult distillation_loss(const Tensor& student, const Tensor& teacher, std::span<const int32_t> labels,
                             const DistillationSettings& settings, Tensor* grad);

}  // namespace nas::supernet
