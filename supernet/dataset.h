// Datasets in memory and the loaders that fill them: idx (.gz or raw), NumPy .npy, and a synthetic generator
// for fast tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "supernet/tensor.h"

namespace nas::supernet {

// Images in NHWC float32, labels in [0, num_classes).
struct Dataset {
  int32_t count = 0;
  int32_t height = 0, width = 0, channels = 0;
  int32_t num_classes = 0;        // max label + 1, or as declared by the source
  std::vector<float> images;      // count * height * width * channels
  std::vector<int32_t> labels;    // count

  int64_t item_size() const { return int64_t{height} * width * channels; }
  Shape batch_shape(int32_t n) const { return {n, height, width, channels}; }
};

// idx files as published by LeCun et al. (MNIST) and Zalando (Fashion-MNIST): big-endian header, magic
// 0x00000803 (uint8 images N×H×W) or 0x00000801 (uint8 labels N). A path ending in ".gz" is gunzipped while reading.
// uint8 pixels become floats in [0, 1]. Throws nas::Error naming the file and what is wrong (missing, wrong magic,
// truncated, counts that disagree, labels out of range).
Dataset load_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

// NumPy .npy (format 1.0/2.0/3.0, C order): images N×H×W×C or N×H×W (C = 1), dtype uint8 (scaled to [0, 1]) or
// float32 (kept as is); labels N, any little-endian integer dtype (int8..int64, uint8..uint64). Same errors as idx.
Dataset load_npy(const std::filesystem::path& images, const std::filesystem::path& labels);

// Class-dependent patterns plus noise, so a small network can learn it in seconds. Deterministic in `seed`.
struct SyntheticSpec {
  int32_t count = 1024;
  int32_t height = 12, width = 12, channels = 1;
  int32_t num_classes = 4;
  float noise = 0.3f;
  uint64_t seed = 1;
};
Dataset make_synthetic(const SyntheticSpec& spec);

// Per-channel mean and standard deviation, computed on the training set and applied to every split.
struct Normalization {
  std::vector<float> mean, stddev;
};
Normalization compute_normalization(const Dataset& data);
void normalize(Dataset& data, const Normalization& norm);

// Moves the last `holdout` items of a seeded permutation into a second dataset (e.g. validation).
std::pair<Dataset, Dataset> split_holdout(Dataset data, int32_t holdout, uint64_t seed);

// Random crop (zero padding of `crop_pad` pixels, then a random window of the original size) and horizontal flip.
struct Augment {
  int32_t crop_pad = 0;
  bool flip = false;
};

// Hands out mini-batches in a seeded order. Deterministic: the order and augmentation of epoch e depend only on
// (seed, e), not on threads or on earlier epochs.
class BatchLoader {
 public:
  BatchLoader(const Dataset& data, int32_t batch_size, bool shuffle, Augment augment, uint64_t seed);

  void start_epoch(int32_t epoch);
  // Fills the next batch (the last one of an epoch may be smaller); false when the epoch is done.
  bool next(Tensor& images, std::vector<int32_t>& labels);
  // The dataset indices of the items of the batch `next` filled last (what cached teacher logits are looked up by).
  std::span<const int32_t> batch_indices() const {
    return std::span<const int32_t>(order_).subspan(static_cast<size_t>(last_begin_), static_cast<size_t>(last_size_));
  }
  bool augments() const { return augment_.crop_pad > 0 || augment_.flip; }
  int32_t batches_per_epoch() const;
  // Where the loader stands (its epoch and the items of it already handed out), and the way back there: what a
  // checkpoint keeps of a loader that is read across epochs of another loop (the architecture steps' held-out data).
  int32_t epoch() const { return epoch_; }
  int32_t cursor() const { return cursor_; }
  void seek(int32_t epoch, int32_t cursor);

 private:
  const Dataset* data_;
  int32_t batch_size_;
  bool shuffle_;
  Augment augment_;
  uint64_t seed_;
  uint64_t epoch_seed_ = 0;
  int32_t epoch_ = 0;
  std::vector<int32_t> order_;
  int32_t cursor_ = 0;
  int32_t last_begin_ = 0, last_size_ = 0;
};

}  // namespace nas::supernet
