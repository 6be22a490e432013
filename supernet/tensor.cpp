#include "supernet/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace nas::supernet {

std::string Shape::str() const {
  return "[" + std::to_string(n) + "," + std::to_string(h) + "," + std::to_string(w) + "," + std::to_string(c) + "]";
}

void AlignedFree::operator()(float* p) const noexcept { std::free(p); }

Tensor::Tensor(const Tensor& other) : Tensor(other.shape_) {
  std::copy_n(other.data(), other.size(), data());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_);
    std::copy_n(other.data(), other.size(), data());
  }
  return *this;
}

void Tensor::resize(Shape shape) {
  shape_ = shape;
  const int64_t need = shape.size();
  if (need <= capacity_) return;
  // 64-byte alignment: one cache line, and the widest vector load (AVX-512) never splits.
  constexpr size_t kAlign = 64;
  const size_t bytes = (static_cast<size_t>(need) * sizeof(float) + kAlign - 1) / kAlign * kAlign;
  auto* p = static_cast<float*>(std::aligned_alloc(kAlign, bytes));
  if (!p) throw std::bad_alloc();
  data_.reset(p);
  capacity_ = need;
}

void Tensor::zero() { std::fill_n(data(), size(), 0.0f); }

}  // namespace nas::supernet
