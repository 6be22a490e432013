#include "deploy/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "common/error.h"

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

// The (100 − p)-th and p-th percentiles, to the bin.
TensorRange percentile_range(const TensorRange& r, const std::vector<int64_t>& hist, int64_t total, double p) {
  const double width = (r.max - r.min) / kBins;
  const auto cut = static_cast<int64_t>(std::floor((100.0 - p) / 100.0 * static_cast<double>(total)));
  int64_t seen = 0;
  int32_t lo = 0;
  while (lo < kBins - 1 && seen + hist[static_cast<size_t>(lo)] <= cut) seen += hist[static_cast<size_t>(lo++)];
  seen = 0;
  int32_t hi = kBins - 1;
  while (hi > 0 && seen + hist[static_cast<size_t>(hi)] <= cut) seen += hist[static_cast<size_t>(hi--)];
  return {std::min(0.0, r.min + width * lo), std::max(0.0, r.min + width * (hi + 1))};
}

// The range α·[min, max] (α from 1 down to 0.2) with the least expected squared error: values outside are clipped
// to its ends, values inside lose a uniform rounding error of step²/12 (Banner et al. 2019, "Post training 4-bit
// quantization of convolutional networks for rapid-deployment", pick the clip the same way).
TensorRange mse_range(const TensorRange& r, const std::vector<int64_t>& hist) {
  const double width = (r.max - r.min) / kBins;
  TensorRange best = r;
  double best_error = std::numeric_limits<double>::infinity();
  for (int32_t k = 0; k <= 40; ++k) {
    const double alpha = 1.0 - 0.02 * k;
    const double lo = alpha * r.min, hi = alpha * r.max;
    const double step = (hi - lo) / 255.0;
    double error = 0;
    for (int32_t b = 0; b < kBins; ++b) {
      const auto n = static_cast<double>(hist[static_cast<size_t>(b)]);
      if (n == 0) continue;
      const double v = r.min + width * (b + 0.5);
      const double clip = std::clamp(v, lo, hi);
      error += n * ((v - clip) * (v - clip) + step * step / 12.0);
    }
    if (error < best_error) {
      best_error = error;
      best = {lo, hi};
    }
  }
  return best;
}

}  // namespace

void check(const CalibrationSpec& spec) {
  if (spec.method != "minmax" && spec.method != "percentile" && spec.method != "mse")
    throw Error("calibration", "unknown method '" + spec.method + "' (known: minmax, percentile, mse)");
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
  const auto& logits = model.tensors[static_cast<size_t>(model.output)];
  const auto classes = static_cast<size_t>(logits.h * logits.w * logits.c);
  double lowest_runner_up = std::numeric_limits<double>::infinity();
  for_each_batch(net, model, data, count, spec.batch_size, [&](size_t t, std::span<const float> values) {
    for (const float v : values) {
      ranges[t].min = std::min(ranges[t].min, static_cast<double>(v));
      ranges[t].max = std::max(ranges[t].max, static_cast<double>(v));
    }
    if (t != static_cast<size_t>(model.output) || classes < 2) return;
    for (size_t i = 0; i + classes <= values.size(); i += classes) {
      std::vector<float> image(values.begin() + static_cast<std::ptrdiff_t>(i),
                               values.begin() + static_cast<std::ptrdiff_t>(i + classes));
      std::nth_element(image.begin(), image.begin() + 1, image.end(), std::greater<>());
      lowest_runner_up = std::min(lowest_runner_up, static_cast<double>(image[1]));
    }
  });
  // Logits below every image's runner-up never decide a class: the output range starts there, and the int8 steps
  // go where the top two classes are told apart (ties between them cost agreement otherwise).
  if (std::isfinite(lowest_runner_up)) {
    TensorRange& out = ranges[static_cast<size_t>(model.output)];
    out.min = std::min(0.0, std::max(out.min, lowest_runner_up));
  }
  if (spec.method == "minmax") return ranges;

  // Second pass: a histogram over each tensor's [min, max], then the clipped range it suggests.
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
  for (size_t t = 0; t < ranges.size(); ++t) {
    if (t == static_cast<size_t>(model.output)) continue;  // clipping the top logits would tie classes
    clipped[t] = spec.method == "percentile" ? percentile_range(ranges[t], hist[t], total[t], spec.percentile)
                                             : mse_range(ranges[t], hist[t]);
  }
  return clipped;
}

}  // namespace nas::deploy
