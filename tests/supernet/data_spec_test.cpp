// The `data:` config section: parsing (paths, shortcuts, strictness about keys) and load_data (splits, checks
// across splits, normalisation), plus the synthetic generator that format synthetic uses.
#include "supernet/data_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

namespace fs = std::filesystem;

using test_support::contains;
using test_support::error_of;

DataSpec parse(const std::string& yaml, const fs::path& base = "/configs") {
  return parse_data_spec(YAML::Load(yaml)["data"], base);
}

std::string parse_error(const std::string& yaml) {
  return error_of([&] { parse(yaml); });
}

// Sets an environment variable for one scope and restores the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_.empty() ? unsetenv(name_) : setenv(name_, old_.c_str(), 1); }

 private:
  const char* name_;
  std::string old_;
};

TEST(ParseDataSpec, FashionMnistShortcut) {
  const ScopedEnv env("MCUNAS_FASHION_MNIST_DIR", nullptr);
  const DataSpec spec =
      parse("data: {dataset: fashion-mnist, validation_split: 5000, augment: {crop_pad: 2, flip: true}}");
  EXPECT_EQ(spec.format, "idx");
  EXPECT_EQ(spec.name, "fashion-mnist");
  EXPECT_EQ(spec.train.images, "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(spec.train.labels, "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  EXPECT_EQ(spec.test.images, "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(spec.test.labels, "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  EXPECT_FALSE(spec.validation.has_value());
  EXPECT_EQ(spec.validation_split, 5000);
  EXPECT_EQ(spec.augment.crop_pad, 2);
  EXPECT_TRUE(spec.augment.flip);
  EXPECT_TRUE(spec.normalize);
}

TEST(ParseDataSpec, EnvironmentVariableMovesFashionMnist) {
  const ScopedEnv env("MCUNAS_FASHION_MNIST_DIR", "/data/fm");
  const DataSpec spec = parse("data: {dataset: fashion-mnist}");
  EXPECT_EQ(spec.train.images, "/data/fm/train-images-idx3-ubyte.gz");
  // An explicit dir: still wins over both.
  EXPECT_EQ(parse("data: {dataset: fashion-mnist, dir: /elsewhere}").test.labels,
            "/elsewhere/t10k-labels-idx1-ubyte.gz");
}

TEST(ParseDataSpec, RelativePathsResolveAgainstDirThenConfigDirectory) {
  const std::string files =
      "train: {images: x_train.npy, labels: /abs/y_train.npy}\n"
      "  test: {images: sub/x_test.npy, labels: y_test.npy}\n";
  const DataSpec beside_config = parse("data:\n  format: npy\n  " + files, "/configs/run1");
  EXPECT_EQ(beside_config.train.images, "/configs/run1/x_train.npy");
  EXPECT_EQ(beside_config.train.labels, "/abs/y_train.npy");
  EXPECT_EQ(beside_config.test.images, "/configs/run1/sub/x_test.npy");
  EXPECT_EQ(beside_config.name, "run1");  // no name: the folder of the training images
  const DataSpec with_dir = parse("data:\n  format: npy\n  dir: ../data\n  name: mine\n  " + files, "/configs/run1");
  EXPECT_EQ(with_dir.train.images, "/configs/data/x_train.npy");
  EXPECT_EQ(with_dir.test.labels, "/configs/data/y_test.npy");
  EXPECT_EQ(with_dir.name, "mine");
}

TEST(ParseDataSpec, UnknownKeysAreErrorsThatListTheKnownOnes) {
  const std::string top = parse_error("data:\n  dataset: fashion-mnist\n  trian: {}\n");
  EXPECT_TRUE(contains(top, "unknown key 'trian'")) << top;
  EXPECT_TRUE(contains(top, "line 3")) << top;
  EXPECT_TRUE(contains(top, "known: dataset, name, dir, format, train, validation")) << top;
  const std::string nested = parse_error("data: {dataset: fashion-mnist, augment: {crop: 2}}");
  EXPECT_TRUE(contains(nested, "data.augment")) << nested;
  EXPECT_TRUE(contains(nested, "unknown key 'crop' (known: crop_pad, flip)")) << nested;
  const std::string split =
      parse_error("data: {format: npy, train: {images: a, label: b}, test: {images: c, labels: d}}");
  EXPECT_TRUE(contains(split, "unknown key 'label' (known: images, labels)")) << split;
}

TEST(ParseDataSpec, UnknownNamesListTheKnownOnes) {
  const std::string dataset = parse_error("data: {dataset: cifar-100}");
  EXPECT_TRUE(contains(dataset, "unknown dataset 'cifar-100' (known: fashion-mnist")) << dataset;
  const std::string format = parse_error("data: {format: csv}");
  EXPECT_TRUE(contains(format, "unknown format 'csv' (known: idx, npy, synthetic)")) << format;
}

TEST(ParseDataSpec, RefusesContradictionsAndMissingParts) {
  EXPECT_TRUE(contains(parse_error("data: {format: npy, train: {images: a, labels: b}}"), "needs 'test'"));
  EXPECT_TRUE(contains(parse_error("data: {format: idx, test: {images: a}, train: {images: a, labels: b}}"),
                       "missing 'labels'"));
  EXPECT_TRUE(contains(parse_error("data: {format: synthetic, train: {images: a, labels: b}}"),
                       "'train' is not used with format synthetic"));
  EXPECT_TRUE(contains(parse_error("data: {dataset: fashion-mnist, synthetic: {count: 4}}"),
                       "'synthetic' is only used with format synthetic"));
  EXPECT_TRUE(contains(parse_error("data: {dataset: fashion-mnist, format: npy}"), "is idx files"));
  EXPECT_TRUE(contains(parse_error("data: {dataset: fashion-mnist, validation: {images: a, labels: b}, "
                                   "validation_split: 10}"),
                       "not both"));
}

TEST(ParseDataSpec, WrongValueTypesNameTheKey) {
  const std::string count = parse_error("data: {format: synthetic, synthetic: {count: lots}}");
  EXPECT_TRUE(contains(count, "data.synthetic.count")) << count;
  EXPECT_TRUE(contains(count, "expected an integer (got 'lots')")) << count;
  const std::string flip = parse_error("data: {dataset: fashion-mnist, augment: {flip: sometimes}}");
  EXPECT_TRUE(contains(flip, "data.augment.flip")) << flip;
  const std::string negative = parse_error("data: {dataset: fashion-mnist, validation_split: -5}");
  EXPECT_TRUE(contains(negative, "must be >= 0 (got -5)")) << negative;
  EXPECT_TRUE(contains(parse_error("data: {format: synthetic, synthetic: {classes: 1}}"), "must be >= 2"));
  EXPECT_TRUE(contains(parse_error("data: [1, 2]"), "expected a mapping"));
}

DataSpec synthetic_spec(int32_t count, float noise) {
  return parse("data: {format: synthetic, synthetic: {count: " + std::to_string(count) +
               ", height: 12, width: 12, channels: 1, classes: 4, noise: " + std::to_string(noise) + ", seed: 3}}");
}

TEST(LoadData, SyntheticSplitsAndNormalisation) {
  DataSpec spec = synthetic_spec(400, 0.3f);
  spec.validation_split = 40;
  const DataSplits splits = load_data(spec, 1);
  EXPECT_EQ(spec.name, "synthetic");
  EXPECT_EQ(splits.train.count, 360);
  EXPECT_EQ(splits.validation.count, 40);
  EXPECT_EQ(splits.test.count, 100);
  EXPECT_EQ(splits.test.num_classes, 4);
  const Normalization after = compute_normalization(splits.train);
  EXPECT_NEAR(after.mean[0], 0.0, 1e-4);
  EXPECT_NEAR(after.stddev[0], 1.0, 1e-4);
  // Deterministic: the same spec and seed give the same bytes.
  EXPECT_EQ(load_data(spec, 1).validation.images, splits.validation.images);
}

TEST(LoadData, WithoutNormalisationTheIdentityIsReported) {
  DataSpec spec = synthetic_spec(40, 0.3f);
  spec.normalize = false;
  const DataSplits splits = load_data(spec, 1);
  EXPECT_EQ(splits.norm.mean, std::vector<float>{0.0f});
  EXPECT_EQ(splits.norm.stddev, std::vector<float>{1.0f});
  EXPECT_EQ(splits.validation.count, 0);
  EXPECT_EQ(splits.validation.height, 12);
}

// Nearest class mean on the training split: if this linear rule already separates the classes, a small CNN will.
double nearest_centroid_accuracy(const DataSplits& splits) {
  const auto item = static_cast<size_t>(splits.train.item_size());
  const auto classes = static_cast<size_t>(splits.train.num_classes);
  std::vector<double> centroid(classes * item, 0.0);
  std::vector<int32_t> members(classes, 0);
  for (int32_t i = 0; i < splits.train.count; ++i) {
    const auto k = static_cast<size_t>(splits.train.labels[static_cast<size_t>(i)]);
    ++members[k];
    for (size_t p = 0; p < item; ++p) centroid[k * item + p] += splits.train.images[static_cast<size_t>(i) * item + p];
  }
  for (size_t k = 0; k < classes; ++k) {
    for (size_t p = 0; p < item; ++p) centroid[k * item + p] /= members[k];
  }
  int32_t correct = 0;
  for (int32_t i = 0; i < splits.test.count; ++i) {
    size_t best = 0;
    double best_distance = 1e300;
    for (size_t k = 0; k < classes; ++k) {
      double distance = 0;
      for (size_t p = 0; p < item; ++p) {
        const double d = splits.test.images[static_cast<size_t>(i) * item + p] - centroid[k * item + p];
        distance += d * d;
      }
      if (distance < best_distance) best_distance = distance, best = k;
    }
    correct += splits.test.labels[static_cast<size_t>(i)] == static_cast<int32_t>(best);
  }
  return static_cast<double>(correct) / splits.test.count;
}

TEST(Synthetic, IsLearnableAtNoise03) {
  EXPECT_GT(nearest_centroid_accuracy(load_data(synthetic_spec(1024, 0.3f), 1)), 0.9);
}

TEST(Synthetic, IsDeterministicAndBalanced) {
  const SyntheticSpec spec{.count = 101, .num_classes = 4, .seed = 9};
  const Dataset a = make_synthetic(spec), b = make_synthetic(spec);
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(a.labels, b.labels);
  std::vector<int32_t> per_class(4, 0);
  for (const int32_t label : a.labels) ++per_class[static_cast<size_t>(label)];
  EXPECT_EQ(per_class, (std::vector<int32_t>{26, 25, 25, 25}));
  SyntheticSpec other = spec;
  other.seed = 10;
  EXPECT_NE(make_synthetic(other).images, a.images);
  // A longer run extends a shorter one: the synthetic test split rides on this.
  SyntheticSpec longer = spec;
  longer.count = 150;
  const Dataset c = make_synthetic(longer);
  EXPECT_TRUE(std::equal(a.images.begin(), a.images.end(), c.images.begin()));
}

// Files for load_data: raw idx, the simplest format to write by hand.
class LoadFiles : public test_support::TempDirTest {
 protected:
  // An images file of n h×w items (pixel value = item index) and a labels file; returns the YAML of the split.
  std::string write_split(const std::string& name, int32_t n, int32_t h, int32_t w,
                          const std::vector<uint8_t>& labels) {
    const auto put_words = [](std::ofstream& out, std::vector<uint32_t> words) {
      for (const uint32_t word : words) {
        for (int shift = 24; shift >= 0; shift -= 8) out.put(static_cast<char>(word >> shift));
      }
    };
    std::ofstream images(dir_ / (name + "-images"), std::ios::binary);
    put_words(images, {0x803, static_cast<uint32_t>(n), static_cast<uint32_t>(h), static_cast<uint32_t>(w)});
    for (int32_t i = 0; i < n * h * w; ++i) images.put(static_cast<char>(i / (h * w)));
    std::ofstream label_file(dir_ / (name + "-labels"), std::ios::binary);
    put_words(label_file, {0x801, static_cast<uint32_t>(labels.size())});
    label_file.write(reinterpret_cast<const char*>(labels.data()), static_cast<std::streamsize>(labels.size()));
    return "{images: " + name + "-images, labels: " + name + "-labels}";
  }

  DataSpec spec(const std::string& train, const std::string& test, const std::string& extra = "") {
    return parse("data: {format: idx, train: " + train + ", test: " + test + extra + "}", dir_);
  }

};

TEST_F(LoadFiles, LoadsEverySplit) {
  const std::string train = write_split("train", 6, 2, 2, {0, 1, 2, 0, 1, 2});
  const std::string test = write_split("test", 3, 2, 2, {0, 0, 1});
  const std::string validation = write_split("val", 2, 2, 2, {2, 1});
  const DataSplits splits = load_data(spec(train, test, ", validation: " + validation), 0);
  EXPECT_EQ(splits.train.count, 6);
  EXPECT_EQ(splits.validation.count, 2);
  EXPECT_EQ(splits.test.count, 3);
  EXPECT_EQ(splits.test.num_classes, 3);  // the training split's class count, though the test split has no 2
  EXPECT_EQ(splits.validation.labels, (std::vector<int32_t>{2, 1}));
}

TEST_F(LoadFiles, ShapeMismatchBetweenSplitsIsAnError) {
  const std::string train = write_split("train", 4, 2, 2, {0, 1, 0, 1});
  const std::string test = write_split("test", 2, 3, 2, {0, 1});
  const std::string message = error_of([&] { load_data(spec(train, test), 0); });
  EXPECT_TRUE(contains(message, "test-images")) << message;
  EXPECT_TRUE(contains(message, "test split images are 3×2×1 but training images are 2×2×1")) << message;
}

TEST_F(LoadFiles, TestLabelBeyondTrainingClassesIsAnError) {
  const std::string train = write_split("train", 4, 2, 2, {0, 1, 0, 1});
  const std::string test = write_split("test", 2, 2, 2, {0, 5});
  const std::string message = error_of([&] { load_data(spec(train, test), 0); });
  EXPECT_TRUE(contains(message, "test split has label 5 but the training split has 2 classes")) << message;
}

TEST_F(LoadFiles, ValidationSplitMustLeaveTrainingItems) {
  const std::string train = write_split("train", 4, 2, 2, {0, 1, 0, 1});
  const std::string test = write_split("test", 2, 2, 2, {0, 1});
  const std::string message = error_of([&] { load_data(spec(train, test, ", validation_split: 4"), 0); });
  EXPECT_TRUE(contains(message, "data.validation_split")) << message;
  EXPECT_EQ(load_data(spec(train, test, ", validation_split: 1"), 0).train.count, 3);
}

TEST(LoadData, RealFashionMnistThroughTheShortcut) {
  const ScopedEnv env("MCUNAS_FASHION_MNIST_DIR", nullptr);
  if (!fs::is_directory("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "Fashion-MNIST is not installed";
  const DataSplits splits = load_data(parse("data: {dataset: fashion-mnist, validation_split: 5000}"), 1);
  EXPECT_EQ(splits.train.count, 55000);
  EXPECT_EQ(splits.validation.count, 5000);
  EXPECT_EQ(splits.test.count, 10000);
  EXPECT_EQ(splits.train.num_classes, 10);
}

}  // namespace
}  // namespace nas::supernet
