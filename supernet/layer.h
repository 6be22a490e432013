// The layer interface: shape inference, parameter declaration, forward and backward. Layers are short and hold
// only their maths; the graph (supernet/network.h) owns activations and wires layers together.
#pragma once

#include <span>
#include <string>

#include "supernet/param_store.h"
#include "supernet/rng.h"
#include "supernet/tensor.h"

namespace nas::supernet {

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string type() const = 0;
  virtual int arity() const { return 1; }  // number of inputs

  // Validates the input shapes (throws nas::Error naming the layer) and returns the output shape. Called once
  // when the graph is built, before declare(); layers remember what they need.
  virtual Shape output_shape(std::span<const Shape> inputs) = 0;

  // Declares parameters in the store; bind() is called once it is allocated, init() to draw initial values.
  virtual void declare(ParamStore&) {}
  virtual void bind(ParamStore&) {}
  virtual void init(ParamStore&, Rng&) {}

  virtual void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) = 0;

  // Writes (not accumulates) the parameter gradients into the store and, for each input whose grad_inputs entry
  // is not null, dLoss/dInput. `output` is what forward produced for the same inputs.
  virtual void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                        std::span<Tensor* const> grad_inputs) = 0;
};

}  // namespace nas::supernet
