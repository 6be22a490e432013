#include "supernet/add.h"

#include <algorithm>

#include "common/error.h"

namespace nas::supernet {

Shape Add::output_shape(std::span<const Shape> inputs) {
  if (!(inputs[0] == inputs[1]))
    throw Error("add", "inputs must have the same shape (got " + inputs[0].str() + " and " + inputs[1].str() + ")");
  return inputs[0];
}

void Add::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor &a = *inputs[0], &b = *inputs[1];
  output.resize(a.shape());
  const int64_t size = a.size();
  for (int64_t i = 0; i < size; ++i) output[i] = a[i] + b[i];
}

void Add::backward(std::span<const Tensor* const>, const Tensor&, const Tensor& grad_output,
                   std::span<Tensor* const> grad_inputs) {
  for (Tensor* grad_in : grad_inputs)
    if (grad_in) *grad_in = grad_output;
}

}  // namespace nas::supernet
