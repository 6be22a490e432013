// float32 tensors in NHWC order with 64-byte aligned storage.
//
// A Tensor owns its buffer and only grows it: resizing to a smaller shape keeps the allocation, so the training
// loop reuses activation buffers from step to step without touching the allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace nas::supernet {

struct Shape {
  int32_t n = 0, h = 0, w = 0, c = 0;

  int64_t size() const { return int64_t{n} * h * w * c; }
  int64_t item_size() const { return int64_t{h} * w * c; }  // one image
  bool operator==(const Shape&) const = default;
  std::string str() const;  // "[n,h,w,c]"
};

struct AlignedFree {
  void operator()(float* p) const noexcept;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape) { resize(shape); }
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // Sets the shape; contents are unspecified afterwards unless the size did not change.
  void resize(Shape shape);
  void zero();

  const Shape& shape() const { return shape_; }
  int64_t size() const { return shape_.size(); }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), static_cast<size_t>(size())}; }
  std::span<const float> span() const { return {data_.get(), static_cast<size_t>(size())}; }
  float& operator[](int64_t i) { return data_.get()[i]; }
  float operator[](int64_t i) const { return data_.get()[i]; }

  // Pointer to image `i` (its h*w*c floats).
  float* item(int32_t i) { return data_.get() + i * shape_.item_size(); }
  const float* item(int32_t i) const { return data_.get() + i * shape_.item_size(); }

 private:
  Shape shape_;
  int64_t capacity_ = 0;
  std::unique_ptr<float[], AlignedFree> data_;
};

}  // namespace nas::supernet
