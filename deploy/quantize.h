// Post-training quantisation of a folded model to int8, by the TFLite int8 specification:
// - activations: asymmetric int8 over the calibrated range [lo, hi] (which includes 0):
//   scale = (hi − lo) / 255, zero_point = round(−128 − lo / scale); pooling outputs keep their input's parameters;
// - weights: symmetric int8 per output channel, scale s_w[c] = max|w[c]| / 127, values in [−127, 127];
// - biases: int32 at scale s_in · s_w[c];
// - requantisation: s_in · s_w[c] / s_out as a fixed-point multiplier and shift (quantize_multiplier.h);
// - fused ReLU / ReLU6: the clamp [zp + round(0 / s_out), zp + round(6 / s_out)] within [−128, 127];
// - residual add: TFLite's ADD scales (add_scales).
#pragma once

#include <vector>

#include "deploy/calibration.h"
#include "deploy/fold_batchnorm.h"
#include "deploy/int8_model.h"

namespace nas::deploy {

// The int8 parameters of a real range (0 is made part of it).
QuantParams activation_quant(double min, double max);

// `ranges` has one entry per tensor of `model` (calibrate()). `mean` / `stddev` are the input normalisation the
// float network was trained with, kept so a caller can quantise raw pixels.
Int8Model quantize(const FoldedModel& model, const std::vector<TensorRange>& ranges, std::vector<float> mean,
                   std::vector<float> stddev);

}  // namespace nas::deploy
