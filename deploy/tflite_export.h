// An int8 model as a TensorFlow Lite flatbuffer (schema version 3): int8 activations with their scale and zero
// point, int8 weights quantised per output channel, int32 biases, the operators CONV_2D (linear layers too, as a
// 1×1 convolution behind a RESHAPE), DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN (global average pooling,
// to its own scale), ADD, and PAD where a layer's padding is neither TensorFlow's "same" nor "valid" (docs/deploy.md,
// "TensorFlow Lite"). tests/deploy/tflite_armnn_test.cpp runs the files in Arm NN against our kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deploy/int8_model.h"

namespace nas::deploy {

// Throws nas::Error naming the op when the model holds something the format cannot say as we compute it: an op
// without per-channel weight scales, an output clamp that is no TFLite fused activation, pooling with padding that
// is not "same". `description` goes into the model's description string.
std::vector<uint8_t> tflite_model(const Int8Model& model, const std::string& description);

// Whether tflite_model writes op `i` (a convolution, depthwise convolution or pooling) behind an explicit PAD: its
// padding is neither TensorFlow's "same" nor "valid".
bool tflite_writes_pad(const Int8Model& model, size_t i);

}  // namespace nas::deploy
