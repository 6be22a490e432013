// An experiment config for plain training (`nas train`): data, model and training schedule in one YAML file.
// experiments/fmnist_cnn.yaml is the reference; docs/configs.md documents every key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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

// Loads a config file and checks its top-level keys against `keys` (errors name "config"; callers add the path).
YAML::Node read_config_document(const std::filesystem::path& path, const std::vector<std::string>& keys);

// The `optimizer:` and `schedule:` maps (shared by nas train and nas search); strict keys, errors name `path`.
void read_optimizer_spec(const YAML::Node& node, const std::string& path, supernet::OptimizerSpec& spec);
void read_schedule_spec(const YAML::Node& node, const std::string& path, supernet::ScheduleSpec& spec);

// Reads and validates the file. Throws nas::Error naming the file and the offending key.
TrainConfig load_train_config(const std::filesystem::path& path, const TrainOverrides& overrides = {});

}  // namespace nas::search
