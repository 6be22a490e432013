// Flat parameter buffers (mlpack style): every trainable weight θ_w lives in one contiguous span, its gradient in
// a second span of the same layout, and non-trained state (BatchNorm running statistics) in a third. Optimizers,
// checkpoints and the results database handle one span each instead of a tree of tensors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nas::supernet {

enum class ParamRole {
  weight,     // trainable, weight decay applies (conv and linear weights)
  no_decay,   // trainable, no weight decay (biases, BatchNorm scale and shift)
  state,      // not trained, but saved with the model (running mean / variance)
};

struct ParamSlot {
  std::string name;
  ParamRole role;
  int64_t offset = 0;  // into theta() for trainable roles, into state() for ParamRole::state
  int64_t count = 0;
};

class ParamStore {
 public:
  // Declares a slot; call before allocate(). Returns its handle.
  int32_t declare(std::string name, int64_t count, ParamRole role);
  // Lays the slots out in the flat buffers (zero-filled).
  void allocate();

  std::span<float> value(int32_t handle);
  std::span<const float> value(int32_t handle) const;
  std::span<float> grad(int32_t handle);  // trainable slots only

  std::span<float> theta() { return theta_; }
  std::span<const float> theta() const { return theta_; }
  std::span<float> grads() { return grads_; }
  std::span<float> state() { return state_; }
  std::span<const float> state() const { return state_; }
  const std::vector<ParamSlot>& slots() const { return slots_; }

 private:
  std::vector<ParamSlot> slots_;
  std::vector<float> theta_, grads_, state_;
  bool allocated_ = false;
};

}  // namespace nas::supernet
