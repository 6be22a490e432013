// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization through Weight Equalization and Bias
// Correction", section 4.2, its empirical variant), layer by layer through the int8 network: rounding weights and
// activations shifts each output channel's mean a little, and through ReLU the shifts add up. The int8 model runs
// on the calibration images op by op; at each weighted op, the mean difference per channel between its dequantised
// output and the float network's (over the values the float output keeps inside the clamp) is taken out of its
// int32 bias before the next op runs, so each layer also absorbs the bias its int8 inputs carry. Measured against
// correcting each layer on float inputs alone, it agrees better with float on depthwise-separable networks
// (docs/deploy.md).
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
