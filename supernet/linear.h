// Fully connected layer: flattens each input image (H·W·C, NHWC order) and maps it to `out` features, returned as
// [N, 1, 1, out]. Weights are laid out [in][out] so the forward pass is one row-major sgemm.
#pragma once

#include "supernet/layer.h"

namespace nas::supernet {

class Linear final : public Layer {
 public:
  Linear(int32_t out_features, bool bias = true) : out_(out_features), has_bias_(bias) {}

  std::string type() const override { return "linear"; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void declare(ParamStore& store) override;
  void bind(ParamStore& store) override;
  void init(ParamStore& store, Rng& rng) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

 private:
  int32_t out_;
  bool has_bias_;
  int32_t in_ = 0;
  int32_t weight_ = -1, bias_ = -1;
  float *w_ = nullptr, *dw_ = nullptr, *b_ = nullptr, *db_ = nullptr;
};

}  // namespace nas::supernet
