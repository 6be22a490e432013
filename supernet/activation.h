// Pointwise activations. The backward pass reads the layer's output, not its input: y > 0 exactly where x > 0,
// and for ReLU6 0 < y < 6 exactly where the gradient passes.
#pragma once

#include "supernet/layer.h"

namespace nas::supernet {

class Relu final : public Layer {
 public:
  // cap = 0 for plain ReLU, 6 for ReLU6 (Howard et al., MobileNets: bounded activations quantise well).
  explicit Relu(float cap = 0.0f) : cap_(cap) {}

  std::string type() const override { return cap_ > 0 ? "relu6" : "relu"; }
  float cap() const { return cap_; }  // 0: no upper bound
  Shape output_shape(std::span<const Shape> inputs) override { return inputs[0]; }
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

 private:
  float cap_;
};

}  // namespace nas::supernet
