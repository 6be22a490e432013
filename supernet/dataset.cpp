// Normalisation, hold-out splits and the mini-batch loader.
//
// Every random choice here (hold-out permutation, epoch order, crop offsets, flips) comes from our own maps over
// Rng (supernet/rng.h) rather than std::*_distribution, whose outputs differ between standard libraries: a run
// must pick the same batches on every machine that builds mcunas.
#include "supernet/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "common/error.h"
#include "supernet/rng.h"

namespace nas::supernet {
namespace {

// Uniform integer in [0, n), unbiased: draws below 2^64 mod n are rejected so that every residue is equally
// likely (the threshold trick of OpenBSD's arc4random_uniform).
template <typename Next>
uint64_t bounded(Next&& next, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // = 2^64 mod n
  for (;;) {
    const uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

// Fisher–Yates: position i swaps with a uniform j <= i, walking down from the end.
void shuffle(std::vector<int32_t>& order, Rng& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(bounded([&] { return rng.next(); }, i));
    std::swap(order[i - 1], order[j]);
  }
}

// Mixes two words into a seed with SplitMix64 steps, so that neighbouring (seed, epoch) pairs give unrelated
// streams.
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t state = a;
  state = splitmix64(state) + b;
  return splitmix64(state);
}

// The Dataset with the same item shape as `like`, holding the items at `indices` in that order.
Dataset gather(const Dataset& like, const std::vector<int32_t>& indices) {
  Dataset out;
  out.count = static_cast<int32_t>(indices.size());
  out.height = like.height;
  out.width = like.width;
  out.channels = like.channels;
  out.num_classes = like.num_classes;
  const auto item = static_cast<size_t>(like.item_size());
  out.images.resize(indices.size() * item);
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto src = static_cast<size_t>(indices[i]);
    std::memcpy(out.images.data() + i * item, like.images.data() + src * item, item * sizeof(float));
    out.labels[i] = like.labels[src];
  }
  return out;
}

// Stddev below this is a constant channel (e.g. a blank border channel); dividing by it would blow noise up.
constexpr double kMinStddev = 1e-6;

}  // namespace

Normalization compute_normalization(const Dataset& data) {
  if (data.count <= 0 || data.channels <= 0) throw Error("normalization", "cannot compute on an empty dataset");
  const auto channels = static_cast<size_t>(data.channels);
  // Double accumulators (47 M float additions would lose about three digits in float), four per channel so that
  // consecutive pixels do not wait on one another's addition.
  constexpr size_t kLanes = 4;
  std::vector<double> sum(kLanes * channels, 0.0), sum_sq(kLanes * channels, 0.0);
  const size_t pixels = data.images.size() / channels;
  for (size_t p = 0; p < pixels; ++p) {
    const size_t lane = (p % kLanes) * channels;
    for (size_t c = 0; c < channels; ++c) {
      const double v = data.images[p * channels + c];
      sum[lane + c] += v;
      sum_sq[lane + c] += v * v;
    }
  }
  for (size_t lane = 1; lane < kLanes; ++lane) {
    for (size_t c = 0; c < channels; ++c) {
      sum[c] += sum[lane * channels + c];
      sum_sq[c] += sum_sq[lane * channels + c];
    }
  }
  const auto per_channel = static_cast<double>(pixels);
  Normalization norm;
  for (size_t c = 0; c < channels; ++c) {
    const double mean = sum[c] / per_channel;
    const double variance = std::max(0.0, sum_sq[c] / per_channel - mean * mean);
    const double stddev = std::sqrt(variance);
    norm.mean.push_back(static_cast<float>(mean));
    norm.stddev.push_back(static_cast<float>(stddev < kMinStddev ? 1.0 : stddev));
  }
  return norm;
}

void normalize(Dataset& data, const Normalization& norm) {
  const auto channels = static_cast<size_t>(data.channels);
  if (norm.mean.size() != channels || norm.stddev.size() != channels) {
    throw Error("normalization",
                "has " + std::to_string(norm.mean.size()) + " channels, the data has " + std::to_string(channels));
  }
  std::vector<float> scale(channels);
  for (size_t c = 0; c < channels; ++c) scale[c] = 1.0f / norm.stddev[c];
  for (size_t i = 0; i < data.images.size(); i += channels) {
    for (size_t c = 0; c < channels; ++c) data.images[i + c] = (data.images[i + c] - norm.mean[c]) * scale[c];
  }
}

std::pair<Dataset, Dataset> split_holdout(Dataset data, int32_t holdout, uint64_t seed) {
  if (holdout < 0 || holdout >= data.count) {
    throw Error("validation_split", "must be in [0, " + std::to_string(data.count) + ") for " +
                                        std::to_string(data.count) + " training items (got " + std::to_string(holdout) +
                                        ")");
  }
  std::vector<int32_t> order(static_cast<size_t>(data.count));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(mix(seed, 0x686F6C646F7574ull));  // "holdout": its own stream, apart from the epoch orders
  shuffle(order, rng);
  // Both parts keep the original item order: the permutation only chooses who goes where.
  const auto kept_end = order.end() - holdout;
  std::sort(order.begin(), kept_end);
  std::sort(kept_end, order.end());
  std::vector<int32_t> kept(order.begin(), kept_end), held(kept_end, order.end());
  Dataset held_out = gather(data, held);
  if (holdout == 0) return {std::move(data), std::move(held_out)};
  return {gather(data, kept), std::move(held_out)};
}

BatchLoader::BatchLoader(const Dataset& data, int32_t batch_size, bool shuffle, Augment augment, uint64_t seed)
    : data_(&data), batch_size_(batch_size), shuffle_(shuffle), augment_(augment), seed_(seed) {
  if (batch_size <= 0) throw Error("batch_size", "must be positive (got " + std::to_string(batch_size) + ")");
  if (augment.crop_pad < 0 || augment.crop_pad > std::min(data.height, data.width)) {
    throw Error("augment.crop_pad", "must be in [0, " + std::to_string(std::min(data.height, data.width)) + "] for " +
                                        std::to_string(data.height) + "×" + std::to_string(data.width) +
                                        " images (got " + std::to_string(augment.crop_pad) + ")");
  }
  start_epoch(0);
}

void BatchLoader::start_epoch(int32_t epoch) {
  epoch_ = epoch;
  epoch_seed_ = mix(seed_, static_cast<uint64_t>(static_cast<uint32_t>(epoch)));
  order_.resize(static_cast<size_t>(data_->count));
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    Rng rng(epoch_seed_);
    shuffle(order_, rng);
  }
  cursor_ = 0;
  last_size_ = 0;
}

void BatchLoader::seek(int32_t epoch, int32_t cursor) {
  if (cursor < 0 || cursor > data_->count)
    throw Error("checkpoint", "a data position of " + std::to_string(cursor) + " items in a split of " +
                                  std::to_string(data_->count) + " (the data changed since the checkpoint)",
                Error::Kind::failure);
  start_epoch(epoch);
  cursor_ = cursor;
}

int32_t BatchLoader::batches_per_epoch() const { return (data_->count + batch_size_ - 1) / batch_size_; }

namespace {

// One augmented copy: output pixel (y, x) is the zero-padded source at (y + dy - pad, x + dx - pad), read from
// the mirrored column when flipped. Rows stay contiguous runs, so each is a memcpy (or a reversed copy) plus
// zero fill at the edges.
void copy_augmented(const float* src, float* dst, int32_t height, int32_t width, int32_t channels, int32_t dy,
                    int32_t dx, bool flip) {
  const auto row_floats = static_cast<size_t>(width) * static_cast<size_t>(channels);
  // Output columns [x_begin, x_end) of the unflipped crop read source columns [x_begin + dx, x_end + dx).
  const int32_t x_begin = std::max(0, -dx), x_end = std::min(width, width - dx);
  for (int32_t y = 0; y < height; ++y) {
    float* out = dst + static_cast<size_t>(y) * row_floats;
    const int32_t sy = y + dy;
    if (sy < 0 || sy >= height || x_begin >= x_end) {
      std::fill_n(out, row_floats, 0.0f);
      continue;
    }
    const float* in = src + static_cast<size_t>(sy) * row_floats;
    const auto channel_floats = static_cast<size_t>(channels);
    if (!flip) {
      // The common case stays three block operations per row.
      const auto left = static_cast<size_t>(x_begin) * channel_floats;
      const auto middle = static_cast<size_t>(x_end - x_begin) * channel_floats;
      std::fill_n(out, left, 0.0f);
      std::memcpy(out + left, in + static_cast<size_t>(x_begin + dx) * channel_floats, middle * sizeof(float));
      std::fill_n(out + left + middle, row_floats - left - middle, 0.0f);
      continue;
    }
    // Flipped, output column x shows crop column width - 1 - x, so the valid crop columns [x_begin, x_end) land
    // on output columns [width - x_end, width - x_begin), in reverse.
    const auto flipped_begin = static_cast<size_t>(width - x_end) * channel_floats;
    const auto flipped_end = static_cast<size_t>(width - x_begin) * channel_floats;
    std::fill_n(out, flipped_begin, 0.0f);
    const auto last = static_cast<size_t>(x_end - 1 + dx) * channel_floats;  // lands on flipped_begin
    for (size_t o = flipped_begin, i = last; o < flipped_end; o += channel_floats, i -= channel_floats) {
      for (size_t c = 0; c < channel_floats; ++c) out[o + c] = in[i + c];
    }
    std::fill_n(out + flipped_end, row_floats - flipped_end, 0.0f);
  }
}

}  // namespace

bool BatchLoader::next(Tensor& images, std::vector<int32_t>& labels) {
  const Dataset& data = *data_;
  const int32_t n = std::min(batch_size_, data.count - cursor_);
  if (n <= 0) return false;
  images.resize(data.batch_shape(n));
  labels.resize(static_cast<size_t>(n));
  const auto item = static_cast<size_t>(data.item_size());
  const bool augmenting = augment_.crop_pad > 0 || augment_.flip;
  const uint64_t span = 2 * static_cast<uint64_t>(augment_.crop_pad) + 1;  // offsets 0 .. 2 * pad
  for (int32_t i = 0; i < n; ++i) {
    const int32_t position = cursor_ + i;
    const auto index = static_cast<size_t>(order_[static_cast<size_t>(position)]);
    labels[static_cast<size_t>(i)] = data.labels[index];
    const float* src = data.images.data() + index * item;
    if (!augmenting) {
      std::memcpy(images.item(i), src, item * sizeof(float));
      continue;
    }
    // A counter-based stream per (epoch, position): the same item at the same place gets the same crop whatever
    // was drawn before it.
    uint64_t state = mix(epoch_seed_, static_cast<uint64_t>(position));
    const auto draw = [&] { return splitmix64(state); };
    const auto dy = static_cast<int32_t>(bounded(draw, span)) - augment_.crop_pad;
    const auto dx = static_cast<int32_t>(bounded(draw, span)) - augment_.crop_pad;
    const bool flip = augment_.flip && (draw() >> 63) != 0;
    copy_augmented(src, images.item(i), data.height, data.width, data.channels, dy, dx, flip);
  }
  last_begin_ = cursor_;
  last_size_ = n;
  cursor_ += n;
  return true;
}

}  // namespace nas::supernet
