// Parsing and loading of the `data:` config section. Strict on purpose: a misspelt key or a file of the wrong
// shape is an error here, where the message can name it, not a quiet default that skews a search run for hours.
#include "supernet/data_spec.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "common/yaml_keys.h"

namespace nas::supernet {
namespace {

using yaml::check_keys;
using yaml::join;
using yaml::read_int;
using yaml::read_scalar;
using yaml::require_map;
using yaml::where;

// A `dataset:` shortcut: where the files usually live and what they are called.
struct Shortcut {
  const char* name;
  const char* dir_env;      // environment variable that overrides default_dir
  const char* default_dir;  // where scripts/setup.sh installs the Debian package
  SplitFiles train, test;
};

const std::vector<Shortcut>& shortcuts() {
  static const std::vector<Shortcut> known = {
      {"fashion-mnist",
       "MCUNAS_FASHION_MNIST_DIR",
       "/usr/share/datasets/fashion-mnist",
       {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
       {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}},
  };
  return known;
}

const std::vector<std::string> kFormats = {"idx", "npy", "synthetic"};

std::filesystem::path resolve(const std::filesystem::path& dir, const std::filesystem::path& file) {
  return file.is_absolute() ? file : (dir / file).lexically_normal();
}

SplitFiles parse_split(const YAML::Node& node, const std::string& key_path, const std::filesystem::path& dir) {
  check_keys(node, key_path, {"images", "labels"});
  SplitFiles files;
  for (const char* key : {"images", "labels"}) {
    if (!node[key]) throw Error(where(key_path, node), std::string("missing '") + key + "' (a file name)");
  }
  files.images = resolve(dir, read_scalar<std::string>(node["images"], key_path + ".images", "a file name"));
  files.labels = resolve(dir, read_scalar<std::string>(node["labels"], key_path + ".labels", "a file name"));
  return files;
}

SyntheticSpec parse_synthetic(const YAML::Node& node) {
  const std::string path = "data.synthetic";
  check_keys(node, path, {"count", "height", "width", "channels", "classes", "noise", "seed"});
  SyntheticSpec spec;
  if (node["count"]) spec.count = read_int(node["count"], path + ".count", 1);
  if (node["height"]) spec.height = read_int(node["height"], path + ".height", 1);
  if (node["width"]) spec.width = read_int(node["width"], path + ".width", 1);
  if (node["channels"]) spec.channels = read_int(node["channels"], path + ".channels", 1);
  if (node["classes"]) spec.num_classes = read_int(node["classes"], path + ".classes", 2);
  if (node["noise"]) {
    spec.noise = read_scalar<float>(node["noise"], path + ".noise", "a number");
    if (!(spec.noise >= 0.0f)) throw Error(where(path + ".noise", node["noise"]), "must be >= 0");
  }
  if (node["seed"]) spec.seed = read_scalar<uint64_t>(node["seed"], path + ".seed", "a non-negative integer");
  return spec;
}

Augment parse_augment(const YAML::Node& node) {
  check_keys(node, "data.augment", {"crop_pad", "flip"});
  Augment augment;
  if (node["crop_pad"]) augment.crop_pad = read_int(node["crop_pad"], "data.augment.crop_pad", 0);
  if (node["flip"]) augment.flip = read_scalar<bool>(node["flip"], "data.augment.flip", "true or false");
  return augment;
}

const Shortcut& find_shortcut(const YAML::Node& node) {
  const auto name = read_scalar<std::string>(node, "data.dataset", "a dataset name");
  for (const auto& shortcut : shortcuts()) {
    if (name == shortcut.name) return shortcut;
  }
  throw Error(where("data.dataset", node), "unknown dataset '" + name + "' (known: " + join(known_datasets()) +
                                               "; for your own files see docs/user-data.md)");
}

std::filesystem::path shortcut_dir(const Shortcut& shortcut) {
  const char* override_dir = std::getenv(shortcut.dir_env);
  return override_dir && *override_dir ? std::filesystem::path(override_dir) : shortcut.default_dir;
}

// Keys that only make sense for one kind of format; given with the other, they would be ignored, so refuse them.
void check_format_keys(const YAML::Node& node, const DataSpec& spec, bool from_shortcut) {
  if (spec.format == "synthetic") {
    for (const char* key : {"train", "test", "validation", "dir"}) {
      if (node[key]) {
        throw Error(where("data", node[key]), std::string("'") + key + "' is not used with format synthetic");
      }
    }
    return;
  }
  if (node["synthetic"]) {
    throw Error(where("data", node["synthetic"]),
                "'synthetic' is only used with format synthetic (format is " + spec.format + ")");
  }
  if (!from_shortcut) {
    for (const char* key : {"train", "test"}) {
      if (!node[key]) {
        throw Error(where("data", node),
                    "format " + spec.format + " needs '" + key + "': {images: FILE, labels: FILE}");
      }
    }
  }
}

// Without a name: synthetic data is "synthetic", files are named for the folder of the training images.
std::string default_name(const DataSpec& spec) {
  if (spec.format == "synthetic") return "synthetic";
  const std::string folder = spec.train.images.parent_path().filename().string();
  return folder.empty() ? spec.format : folder;
}

}  // namespace

std::vector<std::string> known_datasets() {
  std::vector<std::string> names;
  for (const auto& shortcut : shortcuts()) names.emplace_back(shortcut.name);
  return names;
}

namespace {

std::string parse_format(const YAML::Node& node, const Shortcut* shortcut) {
  if (!node) return "idx";
  const auto format = read_scalar<std::string>(node, "data.format", "a format name");
  if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end()) {
    throw Error(where("data.format", node), "unknown format '" + format + "' (known: " + join(kFormats) + ")");
  }
  if (shortcut && format != "idx") {
    throw Error(where("data.format", node),
                "dataset " + std::string(shortcut->name) + " is idx files (got format " + format + ")");
  }
  return format;
}

// The folder relative file names resolve against: dir: (itself relative to the config), else the shortcut's.
std::filesystem::path files_dir(const YAML::Node& node, const Shortcut* shortcut,
                                const std::filesystem::path& base_dir) {
  if (node["dir"]) return resolve(base_dir, read_scalar<std::string>(node["dir"], "data.dir", "a directory"));
  return shortcut ? shortcut_dir(*shortcut) : base_dir;
}

void parse_files(const YAML::Node& node, const Shortcut* shortcut, const std::filesystem::path& dir, DataSpec& spec) {
  if (shortcut) {
    spec.train = {resolve(dir, shortcut->train.images), resolve(dir, shortcut->train.labels)};
    spec.test = {resolve(dir, shortcut->test.images), resolve(dir, shortcut->test.labels)};
  }
  if (node["train"]) spec.train = parse_split(node["train"], "data.train", dir);
  if (node["test"]) spec.test = parse_split(node["test"], "data.test", dir);
  if (node["validation"]) spec.validation = parse_split(node["validation"], "data.validation", dir);
}

void parse_options(const YAML::Node& node, DataSpec& spec) {
  if (node["validation_split"]) {
    spec.validation_split = read_int(node["validation_split"], "data.validation_split", 0);
    if (spec.validation && spec.validation_split > 0) {
      throw Error(where("data.validation_split", node["validation_split"]),
                  "give either validation files or validation_split, not both");
    }
  }
  if (node["synthetic"]) spec.synthetic = parse_synthetic(node["synthetic"]);
  if (node["augment"]) spec.augment = parse_augment(node["augment"]);
  if (node["normalize"]) spec.normalize = read_scalar<bool>(node["normalize"], "data.normalize", "true or false");
}

}  // namespace

DataSpec parse_data_spec(const YAML::Node& node, const std::filesystem::path& base_dir) {
  if (!node || node.IsNull()) throw Error("data", "missing section: name a dataset or files (see docs/user-data.md)");
  check_keys(node, "data",
             {"dataset", "name", "dir", "format", "train", "validation", "validation_split", "test", "synthetic",
              "augment", "normalize"});
  const Shortcut* shortcut = node["dataset"] ? &find_shortcut(node["dataset"]) : nullptr;
  DataSpec spec;
  spec.format = parse_format(node["format"], shortcut);
  check_format_keys(node, spec, shortcut != nullptr);
  parse_files(node, shortcut, files_dir(node, shortcut, base_dir), spec);
  parse_options(node, spec);
  spec.name = node["name"] ? read_scalar<std::string>(node["name"], "data.name", "a name")
              : shortcut   ? std::string(shortcut->name)
                           : default_name(spec);
  return spec;
}

namespace {

Dataset load_split(const DataSpec& spec, const SplitFiles& files) {
  return spec.format == "npy" ? load_npy(files.images, files.labels) : load_idx(files.images, files.labels);
}

std::string shape_text(const Dataset& data) {
  return std::to_string(data.height) + "×" + std::to_string(data.width) + "×" + std::to_string(data.channels);
}

// Every split must look like the training split to the network: same item shape, labels within its classes.
void check_matches_train(Dataset& split, const Dataset& train, const std::string& split_name,
                         const std::string& source) {
  if (split.height != train.height || split.width != train.width || split.channels != train.channels) {
    throw Error(source,
                split_name + " images are " + shape_text(split) + " but training images are " + shape_text(train));
  }
  if (split.count > 0) {
    const int32_t max_label = *std::max_element(split.labels.begin(), split.labels.end());
    if (max_label >= train.num_classes) {
      throw Error(source, split_name + " has label " + std::to_string(max_label) + " but the training split has " +
                              std::to_string(train.num_classes) + " classes (labels 0.." +
                              std::to_string(train.num_classes - 1) + ")");
    }
  }
  split.num_classes = train.num_classes;
}

// Items [begin, end) of `data`, for carving the synthetic test split off one generator run.
Dataset slice(const Dataset& data, int32_t begin, int32_t end) {
  Dataset out = data;
  const auto item = static_cast<size_t>(data.item_size());
  out.count = end - begin;
  out.images.assign(data.images.begin() + static_cast<std::ptrdiff_t>(begin * item),
                    data.images.begin() + static_cast<std::ptrdiff_t>(end * item));
  out.labels.assign(data.labels.begin() + begin, data.labels.begin() + end);
  return out;
}

Dataset empty_like(const Dataset& data) {
  Dataset out;
  out.height = data.height;
  out.width = data.width;
  out.channels = data.channels;
  out.num_classes = data.num_classes;
  return out;
}

}  // namespace

DataSplits load_data(const DataSpec& spec, uint64_t seed) {
  DataSplits splits;
  if (spec.format == "synthetic") {
    SyntheticSpec generator = spec.synthetic;
    const int32_t test_count = std::max(1, spec.synthetic.count / 4);
    generator.count += test_count;
    const Dataset all = make_synthetic(generator);
    splits.train = slice(all, 0, spec.synthetic.count);
    splits.test = slice(all, spec.synthetic.count, generator.count);
  } else {
    splits.train = load_split(spec, spec.train);
    splits.test = load_split(spec, spec.test);
    check_matches_train(splits.test, splits.train, "test split", spec.test.images.string());
    if (spec.validation) {
      splits.validation = load_split(spec, *spec.validation);
      check_matches_train(splits.validation, splits.train, "validation split", spec.validation->images.string());
    }
  }
  if (!spec.validation) {
    if (spec.validation_split > 0) {
      if (spec.validation_split >= splits.train.count) {
        throw Error("data.validation_split", "holds out " + std::to_string(spec.validation_split) + " of only " +
                                                 std::to_string(splits.train.count) + " training items");
      }
      std::tie(splits.train, splits.validation) = split_holdout(std::move(splits.train), spec.validation_split, seed);
    } else {
      splits.validation = empty_like(splits.train);
    }
  }
  if (spec.normalize) {
    // Statistics from the training items only, so nothing about validation or test leaks into training.
    splits.norm = compute_normalization(splits.train);
    for (Dataset* split : {&splits.train, &splits.validation, &splits.test}) normalize(*split, splits.norm);
  } else {
    const auto channels = static_cast<size_t>(splits.train.channels);
    splits.norm = {std::vector<float>(channels, 0.0f), std::vector<float>(channels, 1.0f)};
  }
  return splits;
}

}  // namespace nas::supernet
