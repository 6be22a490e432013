#include "deploy/int8_executor.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "deploy/int8_ops.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {

Int8Executor::Int8Executor(Int8Model model) : model_(std::move(model)) {
  const auto graph = op_graph(model_);
  plan_ = cost_models::plan_arena(graph);
  if (const auto clash = cost_models::plan_violation(graph, plan_); !clash.empty())
    throw Error("arena plan", clash, Error::Kind::failure);
  arena_.assign(static_cast<size_t>(plan_.arena_bytes), 0);
}

std::span<int8_t> Int8Executor::input() {
  return {tensor(model_.input), static_cast<size_t>(model_.tensors[static_cast<size_t>(model_.input)].bytes())};
}

std::span<const int8_t> Int8Executor::output() const {
  const auto offset = static_cast<size_t>(plan_.tensor_offset[static_cast<size_t>(model_.output)]);
  return {arena_.data() + offset, static_cast<size_t>(model_.tensors[static_cast<size_t>(model_.output)].bytes())};
}

void Int8Executor::invoke() {
  for (size_t j = 0; j < model_.ops.size(); ++j) {
    const Int8Op& op = model_.ops[j];
    const int8_t* inputs[2] = {tensor(op.inputs[0]), op.inputs.size() > 1 ? tensor(op.inputs[1]) : nullptr};
    const int64_t scratch = plan_.scratch_offset[j];
    run_op(model_, op, inputs, tensor(op.output), scratch >= 0 ? arena_.data() + scratch : nullptr);
  }
}

void run_op(const Int8Model& model, const Int8Op& op, const int8_t* const* inputs, int8_t* out, void* scratch) {
  op_row(op.kind).run(op, kernel_call(model, op), inputs, out, scratch);
}

void quantize_input(const Int8Model& model, std::span<const float> image, std::span<int8_t> out) {
  const QuantParams& q = model.tensors.at(static_cast<size_t>(model.input)).quant;
  if (image.size() != out.size())
    throw Error("int8 input", "image has " + std::to_string(image.size()) + " values, the model takes " +
                                  std::to_string(out.size()), Error::Kind::failure);
  for (size_t i = 0; i < image.size(); ++i)
    out[i] = static_cast<int8_t>(std::clamp(std::round(image[i] / q.scale) + q.zero_point, -128.0, 127.0));
}

HostRun run_on_host(Int8Executor& executor, const supernet::Dataset& test, int32_t index) {
  const auto size = static_cast<size_t>(test.item_size());
  if (index < 0 || index >= test.count || test.images.size() < (static_cast<size_t>(index) + 1) * size)
    throw Error("int8 input", "no test image " + std::to_string(index) + " (the run has " +
                                  std::to_string(test.count) + ")", Error::Kind::failure);
  quantize_input(executor.model(), std::span(test.images).subspan(static_cast<size_t>(index) * size, size),
                 executor.input());
  HostRun run;
  run.input.assign(executor.input().begin(), executor.input().end());  // before invoke reuses the arena
  executor.invoke();
  run.output.assign(executor.output().begin(), executor.output().end());
  run.label = test.labels.at(static_cast<size_t>(index));
  return run;
}

int32_t argmax(std::span<const int8_t> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace nas::deploy
