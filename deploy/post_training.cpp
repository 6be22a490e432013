#include "deploy/post_training.h"

#include <algorithm>
#include <cstring>

#include "deploy/bias_correction.h"
#include "deploy/fold_batchnorm.h"
#include "deploy/quantize.h"
#include "deploy/reuse_rate.h"

namespace nas::deploy {

Int8Model quantize_network(supernet::Network& net, const supernet::DataSplits& data, const CalibrationSpec& spec) {
  const FoldedModel folded = fold_batchnorm(net);
  const auto ranges = calibrate(net, folded, data.train, spec);
  Int8Model model = quantize(folded, ranges, data.norm.mean, data.norm.stddev);
  if (spec.bias_correction) correct_biases(net, folded, model, data.train, spec.images, spec.batch_size);
  measure_reuse_rates(model, data.train, spec.images);
  return model;
}

Int8Evaluation evaluate_int8(supernet::Network& net, Int8Executor& executor, const supernet::Dataset& data,
                             const std::function<void(int32_t, int32_t)>& progress) {
  constexpr int32_t kBatch = 250;
  Int8Evaluation result;
  result.images = data.count;
  const int64_t item = data.item_size();
  int64_t float_correct = 0, int8_correct = 0, agree = 0;
  supernet::Tensor images;
  for (int32_t begin = 0; begin < data.count; begin += kBatch) {
    const int32_t n = std::min(kBatch, data.count - begin);
    images.resize(data.batch_shape(n));
    std::memcpy(images.data(), data.images.data() + begin * item, sizeof(float) * static_cast<size_t>(n * item));
    const supernet::Tensor& logits = net.forward(images, /*training=*/false);
    const int64_t classes = logits.shape().item_size();
    for (int32_t i = 0; i < n; ++i) {
      const float* row = logits.item(i);
      const auto float_class = static_cast<int32_t>(std::max_element(row, row + classes) - row);
      quantize_input(executor.model(), {images.item(i), static_cast<size_t>(item)}, executor.input());
      executor.invoke();
      const int32_t int8_class = argmax(executor.output());
      const int32_t label = data.labels[static_cast<size_t>(begin + i)];
      float_correct += float_class == label;
      int8_correct += int8_class == label;
      agree += float_class == int8_class;
    }
    if (progress) progress(begin + n, data.count);
  }
  const double count = std::max(1, data.count);
  result.float_accuracy = static_cast<double>(float_correct) / count;
  result.int8_accuracy = static_cast<double>(int8_correct) / count;
  result.agreement = static_cast<double>(agree) / count;
  return result;
}

double int8_accuracy(Int8Executor& executor, const supernet::Dataset& data,
                     const std::function<void(int32_t, int32_t)>& progress) {
  constexpr int32_t kBatch = 250;
  const auto item = static_cast<size_t>(data.item_size());
  int64_t correct = 0;
  for (int32_t i = 0; i < data.count; ++i) {
    quantize_input(executor.model(), {data.images.data() + static_cast<size_t>(i) * item, item}, executor.input());
    executor.invoke();
    correct += argmax(executor.output()) == data.labels[static_cast<size_t>(i)];
    if (progress && ((i + 1) % kBatch == 0 || i + 1 == data.count)) progress(i + 1, data.count);
  }
  return static_cast<double>(correct) / std::max(1, data.count);
}

}  // namespace nas::deploy
