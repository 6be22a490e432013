// The reuse rate of a reuse convolution (TREC): clusters per sub-vector, measured by the int8 kernel itself. It
// depends on the data, so a fixed model carries the rate its calibration images gave (Int8Op::reuse_rate) and the
// latency model prices the call by it (cost_models/kernel_work.h).
#pragma once

#include <cstdint>

#include "deploy/int8_model.h"
#include "supernet/dataset.h"

namespace nas::deploy {

// Clusters per sub-vector of reuse op `op` on one input tensor (its whole int8 input, one image).
double reuse_rate_on(const Int8Model& model, const Int8Op& op, const int8_t* input);

// Runs the model op by op on the first `images` images of `data` (quantised as its input) and sets each reuse op's
// reuse_rate to the mean over them. A model without reuse ops is left as it is, without running anything.
void measure_reuse_rates(Int8Model& model, const supernet::Dataset& data, int32_t images);

}  // namespace nas::deploy
