// An experiment config for plain training (`nas train`): data, model and training schedule in one YAML file.
// experiments/fmnist_cnn.yaml is the reference; docs/configs.md documents every key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "supernet/data_spec.h"
#include "supernet/optimizer.h"

namespace nas::search {

struct TrainConfig {
  std::string name;
  std::filesystem::path path;          // the file it was read from
  supernet::DataSpec data;
  YAML::Node model;                    // handed to supernet::build_network
  int32_t epochs = 10;
  int32_t batch_size = 128;
  int32_t eval_batch_size = 500;
  uint64_t seed = 1;
  int32_t threads = 2;
  double label_smoothing = 0.0;
  supernet::OptimizerSpec optimizer;
  supernet::ScheduleSpec schedule;

  // The effective config (file plus command-line overrides) as YAML, stored with the run so the database alone
  // reproduces it.
  std::string effective_yaml() const;

  YAML::Node root;                     // the parsed document, with overrides written back into it
};

// Command-line values that replace the file's.
struct TrainOverrides {
  std::optional<int32_t> epochs, threads, batch_size;
  std::optional<uint64_t> seed;
  std::optional<std::filesystem::path> data_dir;
};

// Runs `parse` on the config file at `path`; a missing file is refused naming `kind` and an `example` to pass with
// --config, and every nas::Error is prefixed with the path: "experiments/x.yaml: train.epochs (line 30): must be
// >= 1 (got 0)". Shared by nas train and nas search.
template <class Parse>
auto parse_config_file(const std::filesystem::path& path, const std::string& kind, const std::string& example,
                       Parse&& parse) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(path.string(),
                "config file not found (pass --config with the path of " + kind + ", e.g. " + example + ")");
  try {
    return parse();
  } catch (const Error& e) {
    throw Error(path.string(), e.what(), e.kind());
  }
}

// The config stored with a run (runs.config_yaml) as a YAML map with top-level `keys`, handed to `parse`; `path`
// (where it was first read from) names it in errors. A stored config that does not read is a failure (the
// database is damaged), not bad input. Shared by nas train and nas search.
YAML::Node stored_config_document(const std::string& yaml, const std::filesystem::path& path,
                                  const std::vector<std::string>& keys);
template <class Parse>
auto parse_stored_config(const std::string& yaml, const std::filesystem::path& path,
                         const std::vector<std::string>& keys, Parse&& parse) {
  const YAML::Node root = stored_config_document(yaml, path, keys);
  try {
    return parse(root);
  } catch (const Error& e) {
    throw Error(path.string(), e.what(), e.kind());
  }
}

// Loads a config file and checks its top-level keys against `keys` (errors name "config"; callers add the path).
YAML::Node read_config_document(const std::filesystem::path& path, const std::vector<std::string>& keys);

// The `optimizer:` and `schedule:` maps (shared by nas train and nas search); strict keys, errors name `path`.
void read_optimizer_spec(const YAML::Node& node, const std::string& path, supernet::OptimizerSpec& spec);
void read_schedule_spec(const YAML::Node& node, const std::string& path, supernet::ScheduleSpec& spec);

// Reads and validates the file. Throws nas::Error naming the file and the offending key.
TrainConfig load_train_config(const std::filesystem::path& path, const TrainOverrides& overrides = {});

// The same from a config stored with a run (runs.config_yaml); `path` is where it was read from, which anchors its
// relative data paths.
TrainConfig train_config_from_text(const std::string& yaml, const std::filesystem::path& path);

}  // namespace nas::search
