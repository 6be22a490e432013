// The `data:` section of an experiment config: which files hold the train, validation and test splits, how to
// read them, and how to normalise and augment. docs/user-data.md documents every key for users.
//
//   data:
//     dataset: fashion-mnist     # shortcut: format idx, the standard directory and the four standard file names
//     dir: /some/dir             # optional: where relative file names below are looked up
//     format: idx | npy | synthetic
//     train: {images: train-images-idx3-ubyte.gz, labels: train-labels-idx1-ubyte.gz}
//     validation: {images: ..., labels: ...}     # optional
//     validation_split: 5000                     # optional, used when no validation files
//     test:  {images: t10k-images-idx3-ubyte.gz, labels: t10k-labels-idx1-ubyte.gz}
//     synthetic: {count: 1024, height: 12, width: 12, channels: 1, classes: 4, noise: 0.3, seed: 1}
//     augment: {crop_pad: 2, flip: true}
//     normalize: true
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "supernet/dataset.h"

namespace nas::supernet {

struct SplitFiles {
  std::filesystem::path images, labels;  // absolute after parse_data_spec
};

struct DataSpec {
  std::string format = "idx";          // "idx" | "npy" | "synthetic"
  std::string name = "fashion-mnist";  // for reports
  SplitFiles train, test;              // required for idx/npy
  std::optional<SplitFiles> validation;
  int32_t validation_split = 0;  // when no validation files: hold out this many training items
  // For format "synthetic": one generator run of count + max(1, count / 4) items (same class patterns
  // throughout); the first `count` are the training split, the rest the test split.
  SyntheticSpec synthetic;
  Augment augment;
  bool normalize = true;  // per-channel mean/std from the training split (after any hold-out)
};

struct DataSplits {
  Dataset train, validation, test;  // validation.count may be 0
  Normalization norm;               // what was applied; mean 0 and stddev 1 per channel when normalize is false
};

// Reads and checks the `data:` node; relative paths resolve against `dir:` (itself relative to base_dir), else
// the shortcut dataset's directory, else base_dir (the config file's directory). Unknown keys are errors.
DataSpec parse_data_spec(const YAML::Node& node, const std::filesystem::path& base_dir);

// Loads every split, checks that they agree in item shape and classes, holds out validation items (seeded by
// `seed`) and normalises with the training split's statistics.
DataSplits load_data(const DataSpec& spec, uint64_t seed);

// The dataset shortcuts `dataset:` accepts, for error messages and docs.
std::vector<std::string> known_datasets();

}  // namespace nas::supernet
