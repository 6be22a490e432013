#include "supernet/linear.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "supernet/gemm.h"

namespace nas::supernet {

Shape Linear::output_shape(std::span<const Shape> inputs) {
  if (out_ <= 0) throw Error("linear", "out features must be positive (got " + std::to_string(out_) + ")");
  in_ = static_cast<int32_t>(inputs[0].item_size());
  return {inputs[0].n, 1, 1, out_};
}

void Linear::declare(ParamStore& store) {
  weight_ = store.declare("linear.weight", int64_t{in_} * out_, ParamRole::weight);
  if (has_bias_) bias_ = store.declare("linear.bias", out_, ParamRole::no_decay);
}

void Linear::bind(ParamStore& store) {
  w_ = store.value(weight_).data();
  dw_ = store.grad(weight_).data();
  if (has_bias_) {
    b_ = store.value(bias_).data();
    db_ = store.grad(bias_).data();
  }
}

void Linear::init(ParamStore& store, Rng& rng) {
  // Uniform ±1/sqrt(fan_in), the usual choice for a classifier head that feeds a softmax (no ReLU after it).
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
  for (float& v : store.value(weight_)) v = static_cast<float>(rng.uniform(-bound, bound));
  if (has_bias_)
    for (float& v : store.value(bias_)) v = static_cast<float>(rng.uniform(-bound, bound));
}

void Linear::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor& in = *inputs[0];
  const int32_t batch = in.shape().n;
  output.resize({batch, 1, 1, out_});
  float* y = output.data();
  for (int32_t n = 0; n < batch; ++n) {
    if (has_bias_) std::copy_n(b_, out_, y + int64_t{n} * out_); else std::fill_n(y + int64_t{n} * out_, out_, 0.0f);
  }
  gemm_nn(batch, out_, in_, in.data(), in_, w_, out_, y, out_, /*accumulate=*/true);
}

void Linear::backward(std::span<const Tensor* const> inputs, const Tensor&, const Tensor& grad_output,
                      std::span<Tensor* const> grad_inputs) {
  const Tensor& in = *inputs[0];
  const int32_t batch = in.shape().n;
  const float* dy = grad_output.data();
  // dW = xᵀ·dY, db = Σ_n dY, dX = dY·Wᵀ
  gemm_tn(in_, out_, batch, in.data(), in_, dy, out_, dw_, out_, false);
  if (has_bias_) {
    std::fill_n(db_, out_, 0.0f);
    for (int32_t n = 0; n < batch; ++n)
      for (int32_t j = 0; j < out_; ++j) db_[j] += dy[int64_t{n} * out_ + j];
  }
  if (Tensor* grad_in = grad_inputs[0]) {
    grad_in->resize(in.shape());
    gemm_nt(batch, in_, out_, dy, out_, w_, out_, grad_in->data(), in_, false);
  }
}

}  // namespace nas::supernet
