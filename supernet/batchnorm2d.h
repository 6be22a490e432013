// Batch normalisation over N·H·W per channel (Ioffe & Szegedy, 2015). Training uses the batch statistics and
// updates running estimates (momentum 0.1, unbiased variance, as in PyTorch, so results compare); evaluation uses
// the running estimates.
//
// An activation that follows (ReLU, ReLU6) can be fused in: the network builder does so when nothing else reads
// the normalised values. The fused layer makes one pass over memory where two layers made three, which matters
// because the first layers' activations are the largest tensors of a training step.
#pragma once

#include <vector>

#include "supernet/layer.h"

namespace nas::supernet {

class BatchNorm2d final : public Layer {
 public:
  enum class Activation { none, relu, relu6 };

  explicit BatchNorm2d(Activation activation = Activation::none, float eps = 1e-5f, float momentum = 0.1f)
      : activation_(activation), eps_(eps), momentum_(momentum) {}

  std::string type() const override {
    return activation_ == Activation::none ? "batchnorm" : activation_ == Activation::relu ? "batchnorm+relu"
                                                                                          : "batchnorm+relu6";
  }
  Activation activation() const { return activation_; }
  float eps() const { return eps_; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void declare(ParamStore& store) override;
  void bind(ParamStore& store) override;
  void init(ParamStore& store, Rng& rng) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

 private:
  Activation activation_;
  float eps_, momentum_;
  int32_t channels_ = 0;
  int32_t gamma_ = -1, beta_ = -1, running_mean_ = -1, running_var_ = -1;
  float *gamma_v_ = nullptr, *beta_v_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  float *rmean_ = nullptr, *rvar_ = nullptr;
  bool last_training_ = true;
  std::vector<float> mean_, invstd_;   // statistics the last forward normalised with
  std::vector<float> partials_;        // per-chunk channel sums (float in the chunk, combined in double)

  void batch_statistics(const Tensor& in);  // mean_, invstd_ from the batch; updates the running estimates
};

}  // namespace nas::supernet
