#include "deploy/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "supernet/error.h"

namespace nas::deploy {

namespace {

constexpr int32_t kBins = 2048;

// Calls fn(tensor id, values) for every tensor of the model after a forward pass of `images`.
template <class Fn>
void for_each_batch(supernet::Network& net, const FoldedModel& model, const supernet::Dataset& data, int32_t count,
                    int32_t batch_size, Fn fn) {
  supernet::Tensor images;
  const int64_t item = data.item_size();
  for (int32_t begin = 0; begin < count; begin += batch_size) {
    const int32_t n = std::min(batch_size, count - begin);
    images.resize(data.batch_shape(n));
    std::memcpy(images.data(), data.images.data() + begin * item, sizeof(float) * static_cast<size_t>(n * item));
    net.forward(images, /*training=*/false);
    for (size_t t = 0; t < model.tensors.size(); ++t) {
      const int32_t node = model.tensors[t].node;
      fn(t, node == supernet::Network::kInput ? images.span() : net.output(node).span());
    }
  }
}

}  // namespace

void check(const CalibrationSpec& spec) {
  if (spec.method != "minmax" && spec.method != "percentile")
    throw Error("calibration", "unknown method '" + spec.method + "' (known: minmax, percentile)");
  if (!(spec.percentile > 50 && spec.percentile <= 100))
    throw Error("calibration", "percentile must be in (50, 100] (got " + std::to_string(spec.percentile) + ")");
  if (spec.images < 1) throw Error("calibration", "needs at least 1 image (got " + std::to_string(spec.images) + ")");
  if (spec.batch_size < 1) throw Error("calibration", "batch size must be >= 1");
}

std::vector<TensorRange> calibrate(supernet::Network& net, const FoldedModel& model, const supernet::Dataset& data,
                                   const CalibrationSpec& spec) {
  check(spec);
  const int32_t count = std::min(spec.images, data.count);
  if (count < 1) throw Error("calibration", "the training split is empty");
  std::vector<TensorRange> ranges(model.tensors.size(), {0.0, 0.0});  // 0 is always inside
  for_each_batch(net, model, data, count, spec.batch_size, [&](size_t t, std::span<const float> values) {
    for (const float v : values) {
      ranges[t].min = std::min(ranges[t].min, static_cast<double>(v));
      ranges[t].max = std::max(ranges[t].max, static_cast<double>(v));
    }
  });
  if (spec.method == "minmax") return ranges;

  // Second pass: a histogram over each tensor's [min, max], then the percentiles of each tail.
  std::vector<std::vector<int64_t>> hist(model.tensors.size(), std::vector<int64_t>(kBins, 0));
  std::vector<int64_t> total(model.tensors.size(), 0);
  auto bin_of = [&](size_t t, double v) {
    const double width = (ranges[t].max - ranges[t].min) / kBins;
    if (width <= 0) return 0;
    return std::clamp(static_cast<int32_t>((v - ranges[t].min) / width), 0, kBins - 1);
  };
  for_each_batch(net, model, data, count, spec.batch_size, [&](size_t t, std::span<const float> values) {
    for (const float v : values) ++hist[t][static_cast<size_t>(bin_of(t, v))];
    total[t] += static_cast<int64_t>(values.size());
  });
  std::vector<TensorRange> clipped = ranges;
  const double tail = (100.0 - spec.percentile) / 100.0;
  for (size_t t = 0; t < ranges.size(); ++t) {
    const double width = (ranges[t].max - ranges[t].min) / kBins;
    const auto cut = static_cast<int64_t>(std::floor(tail * static_cast<double>(total[t])));
    int64_t seen = 0;
    int32_t lo = 0;
    while (lo < kBins - 1 && seen + hist[t][static_cast<size_t>(lo)] <= cut) seen += hist[t][static_cast<size_t>(lo++)];
    seen = 0;
    int32_t hi = kBins - 1;
    while (hi > 0 && seen + hist[t][static_cast<size_t>(hi)] <= cut) seen += hist[t][static_cast<size_t>(hi--)];
    clipped[t].min = std::min(0.0, ranges[t].min + width * lo);
    clipped[t].max = std::max(0.0, ranges[t].min + width * (hi + 1));
  }
  return clipped;
}

}  // namespace nas::deploy
