// From a trained float network to int8 and back to figures: BatchNorm folding, calibration on training images and
// quantisation in one call, and the test-set comparison of the float network with its int8 lowering.
#pragma once

#include <cstdint>
#include <functional>

#include "deploy/calibration.h"
#include "deploy/int8_executor.h"
#include "deploy/int8_model.h"
#include "supernet/data_spec.h"
#include "supernet/network.h"

namespace nas::deploy {

// fold_batchnorm → calibrate on data.train → quantize (data.norm as the input normalisation) → correct_biases
// (unless spec.bias_correction is off) → the reuse convolutions' rates on the same images (reuse_rate.h).
Int8Model quantize_network(supernet::Network& net, const supernet::DataSplits& data, const CalibrationSpec& spec);

struct Int8Evaluation {
  int32_t images = 0;
  double float_accuracy = 0;  // the float network, BatchNorm unfolded, on the same images
  double int8_accuracy = 0;
  double agreement = 0;       // share of images where float and int8 predict the same class
};

// Runs both on `data` (normalised images). `progress(done, total)` is called after each batch.
Int8Evaluation evaluate_int8(supernet::Network& net, Int8Executor& executor, const supernet::Dataset& data,
                             const std::function<void(int32_t, int32_t)>& progress = {});

// The int8 network alone (an imported model has no float one): the share of `data` it classifies right.
// `progress(done, total)` is called every 250 images.
double int8_accuracy(Int8Executor& executor, const supernet::Dataset& data,
                     const std::function<void(int32_t, int32_t)>& progress = {});

}  // namespace nas::deploy
