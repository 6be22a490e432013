// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization through Weight Equalization and Bias
// Correction", section 4.2, its empirical variant): rounding weights and activations shifts each output channel's
// mean a little, and through ReLU the shifts add up layer after layer. For every weighted op, its int8 kernel runs
// on the calibration images' quantised inputs (as the float network computed them); the mean difference between its
// dequantised output and the float output, per channel and over the values the float output keeps above the clamp,
// is taken out of the int32 bias.
#pragma once

#include "deploy/fold_batchnorm.h"
#include "deploy/int8_model.h"
#include "supernet/dataset.h"
#include "supernet/network.h"

namespace nas::deploy {

// Measures on the first `images` items of `data`, `batch_size` at a time.
void correct_biases(supernet::Network& net, const FoldedModel& folded, Int8Model& model, const supernet::Dataset& data,
                    int32_t images, int32_t batch_size);

}  // namespace nas::deploy
