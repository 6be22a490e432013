// Runs an int8 model on the host with the C kernels, every tensor and scratch buffer at its planned offset in one
// arena (cost_models/arena_plan.h): the same calls, in the same memory layout, as the generated C.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cost_models/arena_plan.h"
#include "deploy/int8_model.h"
#include "supernet/dataset.h"

namespace nas::deploy {

class Int8Executor {
 public:
  // Validates the model and plans its arena; a plan that fails its own check throws nas::Error (failure).
  explicit Int8Executor(Int8Model model);

  // The input tensor inside the arena: write one image (NHWC, int8), then invoke().
  std::span<int8_t> input();
  void invoke();
  std::span<const int8_t> output() const;

  const Int8Model& model() const { return model_; }
  const cost_models::ArenaPlan& plan() const { return plan_; }

 private:
  int8_t* tensor(int32_t id) { return arena_.data() + plan_.tensor_offset[static_cast<size_t>(id)]; }

  Int8Model model_;
  cost_models::ArenaPlan plan_;
  std::vector<int8_t> arena_;
};

// Runs one op's kernel: `inputs` holds one pointer per op input (two for add), each to its whole tensor; `scratch`
// holds scratch_bytes(model, op) bytes (any alignment), or is null where that is 0.
void run_op(const Int8Model& model, const Int8Op& op, const int8_t* const* inputs, int8_t* output, void* scratch);

// Quantises one normalised float image (what the float network takes) with the model's input parameters.
void quantize_input(const Int8Model& model, std::span<const float> image, std::span<int8_t> out);

// The index of the largest value (the first on ties), the predicted class of int8 logits.
int32_t argmax(std::span<const int8_t> logits);

// Test image `index` quantised to the model's input, and the model's output for it on the host: what the firmware
// embeds and must reproduce. Throws nas::Error (failure) when the test set has no such image.
struct HostRun {
  std::vector<int8_t> input, output;
  int32_t label = 0;
};
HostRun run_on_host(Int8Executor& executor, const supernet::Dataset& test, int32_t index);

}  // namespace nas::deploy
