// TensorFlow's "same" padding of one dimension: the output has ⌈in / stride⌉ values, the total padding
// max((out − 1)·stride + k − in, 0) is split with the odd one at the end (bottom, right). One formula for where a
// network is built from YAML (supernet/network_builder.cpp), written as TFLite (deploy/tflite_export.cpp) and read
// from it (deploy/tflite_import.cpp).
#pragma once

#include <algorithm>
#include <cstdint>

namespace nas {

struct SamePadding {
  int32_t out = 0, before = 0, after = 0;
};

constexpr SamePadding same_padding(int32_t in, int32_t kernel, int32_t stride) {
  const int32_t out = (in + stride - 1) / stride;
  const int32_t total = std::max((out - 1) * stride + kernel - in, 0);
  return {out, total / 2, total - total / 2};
}

}  // namespace nas
