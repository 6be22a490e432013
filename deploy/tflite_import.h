// An int8 TensorFlow Lite flatbuffer read into our int8 graph: the operators tflite_export.h writes (CONV_2D,
// DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, ADD, PAD before a convolution, RESHAPE
// before a 1×1 convolution or a fully connected layer) with int8 activations, int8 weights quantised per tensor or
// per output channel and int32 biases. The requantisation multipliers are computed from the file's float32 scales,
// as TFLite's kernels compute them. Reading what we wrote and writing it again gives the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "deploy/int8_model.h"

namespace nas::deploy {

// Throws nas::Error (bad_input), one line naming the problem: not a TFLite file (too short, another identifier), a
// flatbuffer the verifier rejects (truncated or corrupt), more than one subgraph, input or output; an operator we do
// not run (its index and name); a tensor of another type; a quantisation we do not compute (a depth multiplier, a
// dilation, pooling that changes the scale).
// `origin` (the file name) begins every error line. With `description`, the model's description string is put there
// ("" when it has none), so that writing the model again with it gives back the same bytes.
Int8Model read_tflite(std::span<const uint8_t> bytes, const std::string& origin, std::string* description = nullptr);

}  // namespace nas::deploy
