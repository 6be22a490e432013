// The int8 values of a model's tensors on a set of images, filled op by op with the host kernels (each tensor in a
// buffer of its own, not the arena): what bias correction and the reuse rates measure on the calibration images.
#pragma once

#include <cstdint>
#include <vector>

#include "deploy/int8_executor.h"
#include "deploy/int8_model.h"
#include "supernet/dataset.h"

namespace nas::deploy {

class Int8Activations {
 public:
  // The first `images` items of `data`, quantised to the model's input.
  Int8Activations(const Int8Model& model, const supernet::Dataset& data, int32_t images)
      : model_(model), images_(images), values_(model.tensors.size()), last_reader_(model.tensors.size(), 0) {
    const int64_t item = data.item_size();
    for (int32_t i = 0; i < images_; ++i)
      quantize_input(model, {data.images.data() + i * item, static_cast<size_t>(item)},
                     {at(model.input, i), static_cast<size_t>(item)});
    for (size_t j = 0; j < model.ops.size(); ++j)
      for (const int32_t t : model.ops[j].inputs) last_reader_[static_cast<size_t>(t)] = j;
  }

  int8_t* at(int32_t tensor, int32_t image) {
    auto& v = values_[static_cast<size_t>(tensor)];
    const int64_t bytes = model_.tensors[static_cast<size_t>(tensor)].bytes();
    if (v.empty()) v.resize(static_cast<size_t>(bytes * images_));
    return v.data() + image * bytes;
  }
  // Runs op on every image (again, after a caller changed its parameters).
  void run(const Int8Op& op) {
    std::vector<int8_t> scratch(static_cast<size_t>(scratch_bytes(model_, op)));
    for (int32_t i = 0; i < images_; ++i) {
      const int8_t* inputs[2] = {at(op.inputs[0], i), op.inputs.size() > 1 ? at(op.inputs[1], i) : nullptr};
      run_op(model_, op, inputs, at(op.output, i), scratch.empty() ? nullptr : scratch.data());
    }
  }
  // Frees the inputs op `j` (in execution order) is the last to read.
  void release_inputs_of(size_t j) {
    for (const int32_t t : model_.ops[j].inputs)
      if (last_reader_[static_cast<size_t>(t)] == j) std::vector<int8_t>().swap(values_[static_cast<size_t>(t)]);
  }
  int32_t images() const { return images_; }

 private:
  const Int8Model& model_;
  int32_t images_;
  std::vector<std::vector<int8_t>> values_;
  std::vector<size_t> last_reader_;
};

}  // namespace nas::deploy
