// Pooling in NHWC: max and average over k×k windows (average counts only the window's cells inside the image, as
// TFLite's AVERAGE_POOL_2D does, so the float net and its int8 lowering agree), and global average pooling.
#pragma once

#include <vector>

#include "supernet/layer.h"

namespace nas::supernet {

struct PoolSpec {
  int32_t kernel = 2;
  int32_t stride = 2;
  int32_t padding = 0;
};

// What max and average pooling share: the window geometry, its validation and the output shape.
class WindowPool : public Layer {
 public:
  Shape output_shape(std::span<const Shape> inputs) override;
  const PoolSpec& spec() const { return spec_; }

 protected:
  explicit WindowPool(PoolSpec spec) : spec_(spec) {}
  PoolSpec spec_;
  Shape in_, out_;
};

class MaxPool2d final : public WindowPool {
 public:
  explicit MaxPool2d(PoolSpec spec) : WindowPool(spec) {}
  std::string type() const override { return "max_pool"; }
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

 private:
  std::vector<int32_t> argmax_;  // per output element: index of the winning input element within its image
};

class AvgPool2d final : public WindowPool {
 public:
  explicit AvgPool2d(PoolSpec spec) : WindowPool(spec) {}
  std::string type() const override { return "avg_pool"; }
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;
};

class GlobalAvgPool final : public Layer {
 public:
  std::string type() const override { return "global_avg_pool"; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;
};

}  // namespace nas::supernet
