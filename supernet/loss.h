// Softmax cross-entropy on logits [N, 1, 1, classes], averaged over the batch.
#pragma once

#include <cstdint>
#include <span>

#include "supernet/tensor.h"

namespace nas::supernet {

struct LossResult {
  double loss = 0;        // mean over the batch
  int32_t correct = 0;    // argmax(logits) == label
};

// Computes the loss and, if grad is not null, dLoss/dlogits (softmax − target) / N. The target is the one-hot label,
// or with label smoothing ε (Szegedy et al., 2016, "Rethinking the Inception Architecture") (1 − ε)·onehot + ε/K.
LossResult softmax_cross_entropy(const Tensor& logits, std::span<const int32_t> labels, Tensor* grad,
                                 double label_smoothing = 0.0);

// Index of the largest logit of image n (the first on ties).
int32_t argmax(const Tensor& logits, int32_t n);

}  // namespace nas::supernet
