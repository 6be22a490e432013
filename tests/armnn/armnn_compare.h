// Our int8 networks run by another runtime: an int8 model written as .tflite (deploy/tflite_export.h) and loaded
// into Arm NN (Debian's libarmnn 20.08, its TfLite parser and the CpuRef backend), its outputs compared byte by byte
// with our host kernels'. Shared by tests/deploy/tflite_armnn_test.cpp (asserting) and the tflite_armnn_check tool
// (printing, for bench/tflite_armnn/run.sh). CpuRef computes in float (int8 values dequantised with float32
// scales, results rounded from x / scale) where our kernels use TFLite's integer multipliers, so a value close to a
// rounding boundary can land one LSB away.
#pragma once

#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "deploy/int8_model.h"
#include "supernet/dataset.h"

namespace nas::armnn_check {

// A .tflite flatbuffer loaded into Arm NN, run one image at a time. Throws nas::Error when Arm NN cannot load it.
class ArmNNModel {
 public:
  explicit ArmNNModel(const std::vector<uint8_t>& flatbuffer);
  std::vector<int8_t> run(std::span<const int8_t> image);
  size_t input_size() const { return input_.second.GetNumElements(); }

 private:
  armnn::IRuntimePtr runtime_{nullptr, &armnn::IRuntime::Destroy};
  armnn::NetworkId id_ = 0;
  armnnTfLiteParser::BindingPointInfo input_, output_;
};

// How two runtimes' outputs compare over some inputs.
struct Agreement {
  int64_t bytes = 0, differing = 0;
  int32_t max_difference = 0;
  int32_t images = 0, same_class = 0;  // same_class: the argmax of both agrees
  double share() const { return bytes ? static_cast<double>(differing) / static_cast<double>(bytes) : 0.0; }
};

// Op `i` of `model` alone: its input and output tensors (with their quantisation) and the op.
deploy::Int8Model one_op_model(const deploy::Int8Model& model, size_t i);

// Each single-input op of the network alone on `draws` uniformly drawn int8 inputs (seeded): where a network's
// differences add up over its layers, one op's are only the rounding of one sum. Index i is op i; ops with two
// inputs (ADD) have images = 0 (the whole network covers them).
std::vector<Agreement> each_op_agreement(const deploy::Int8Model& model, int32_t draws);

// Whether op `i` is a depthwise layer that Arm NN 20.08 computes on other padding than TFLite: its padding is not
// TensorFlow's "same" nor "valid", so the file has a PAD before it, and its input's zero point is not 0, which that
// PAD should fill in but Arm NN's fills with 0 (its convolutions fold the PAD in and are not affected).
bool armnn_pads_with_zero(const deploy::Int8Model& model, size_t i);

// The first `images` test images (normalised floats, quantised as our executor's input) through both.
Agreement network_agreement(const deploy::Int8Model& model, const supernet::Dataset& test, int32_t images);

}  // namespace nas::armnn_check
