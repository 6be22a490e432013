// Activation ranges for post-training quantisation: the float network runs on N training images (default 512)
// and each tensor of the folded model gets the range its int8 scale and zero point will cover.
//   minmax     — the smallest and largest value seen;
//   percentile — the p-th and (100 − p)-th percentiles (default p = 99.99), from a 2048-bin histogram per tensor
//                over its min/max range: a few outliers no longer stretch the scale for everyone (Wu et al. 2020,
//                "Integer quantization for deep learning inference", compare the same two); the default;
//   mse        — the range α·[min, max] with the least expected squared quantisation error.
// Ranges always include 0 so that zero (padding, ReLU's floor) is exact in int8. The network's output (the logits)
// is never clipped at the top, where the winning class is, and starts at the lowest runner-up logit seen: logits
// below every image's second-best never decide a class, and the int8 steps they would take are better spent
// telling the top two apart (an int8 tie between them costs agreement with the float network).
// Measured on Fashion-MNIST nets (docs/deploy.md): percentile with bias correction agrees best with float.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deploy/fold_batchnorm.h"
#include "supernet/dataset.h"
#include "supernet/network.h"

namespace nas::deploy {

struct CalibrationSpec {
  int32_t images = 512;          // from the start of the training split
  std::string method = "percentile"; // "minmax" | "percentile" | "mse"
  double percentile = 99.99;
  int32_t batch_size = 128;
  bool bias_correction = true;   // after quantising (bias_correction.h)
};

struct TensorRange {
  double min = 0, max = 0;
};

// Throws nas::Error (bad_input) for an unknown method, a percentile outside (50, 100] or images < 1.
void check(const CalibrationSpec& spec);

// One range per tensor of `model` (folded from `net`). Runs `net` in inference mode on the first
// min(images, data.count) items of `data`.
std::vector<TensorRange> calibrate(supernet::Network& net, const FoldedModel& model, const supernet::Dataset& data,
                                   const CalibrationSpec& spec);

}  // namespace nas::deploy
