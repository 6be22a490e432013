#include "supernet/activation.h"

#include <algorithm>
#include <limits>

#include "supernet/parallel.h"

namespace nas::supernet {

namespace {
constexpr int64_t kElementsPerChunk = 1 << 16;
}

void Relu::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor& in = *inputs[0];
  output.resize(in.shape());
  const float cap = cap_ > 0 ? cap_ : std::numeric_limits<float>::infinity();
  parallel_chunks(in.size(), kElementsPerChunk, [&](int64_t, int64_t i0, int64_t i1) {
    const float* x = in.data();
    float* y = output.data();
    for (int64_t i = i0; i < i1; ++i) y[i] = std::min(std::max(x[i], 0.0f), cap);
  });
}

void Relu::backward(std::span<const Tensor* const>, const Tensor& output, const Tensor& grad_output,
                    std::span<Tensor* const> grad_inputs) {
  Tensor* grad_in = grad_inputs[0];
  if (!grad_in) return;
  grad_in->resize(output.shape());
  const float cap = cap_ > 0 ? cap_ : std::numeric_limits<float>::infinity();
  parallel_chunks(output.size(), kElementsPerChunk, [&](int64_t, int64_t i0, int64_t i1) {
    const float* y = output.data();
    const float* dy = grad_output.data();
    float* dx = grad_in->data();
    // Branch-free mask: about half the activations are zero, so a branch would mispredict half the time.
    for (int64_t i = i0; i < i1; ++i) dx[i] = static_cast<float>((y[i] > 0.0f) & (y[i] < cap)) * dy[i];
  });
}

}  // namespace nas::supernet
