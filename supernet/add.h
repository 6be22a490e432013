// Elementwise sum of two tensors of the same shape: the join of a residual connection.
#pragma once

#include "supernet/layer.h"

namespace nas::supernet {

class Add final : public Layer {
 public:
  std::string type() const override { return "add"; }
  int arity() const override { return 2; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;
};

}  // namespace nas::supernet
