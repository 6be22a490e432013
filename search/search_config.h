// An experiment config for `nas search`: data, the search space, and the schedule of the four phases (warm-up,
// search, fix, fine-tune). experiments/fmnist_search.yaml is the reference; docs/search.md documents every key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "constraints/penalty.h"
#include "supernet/data_spec.h"
#include "supernet/optimizer.h"
#include "supernet/search_space.h"

namespace nas::search {

// Architecture parameters: Adam on θ_a (operator and width logits), and the temperature τ of both softmaxes,
// annealed exponentially from tau_start to tau_end over the search phase. θ_a steps on held-out batches of the
// training data, every `every` weight steps, with the mixture estimator (supernet/searchable_block.h) or, for
// comparison, GDAS's straight-through one on the sampled path.
struct ArchTraining {
  double lr = 0.01;
  double beta1 = 0.9, beta2 = 0.999;
  double tau_start = 1.0, tau_end = 0.1;
  bool price_sampled = false;  // penalties on the sampled path's cost (true) or the expected cost (search/arch_cost.h)
  bool mixture = true;         // estimator: mixture (true) or straight_through
  int32_t every = 1;           // one architecture step per this many weight steps
  int32_t batch_size = 64;     // held-out images per architecture step
  int32_t holdout = 5000;      // training images held out for θ_a when the data names no validation split
};

struct SearchConfig {
  std::string name;
  std::filesystem::path path;
  supernet::DataSpec data;
  YAML::Node space_node;            // the `search_space:` map (parsed once the input shape is known)
  int32_t warmup_epochs = 2, search_epochs = 6, finetune_epochs = 10;
  int32_t batch_size = 128;
  int32_t eval_batch_size = 500;
  uint64_t seed = 1;
  int32_t threads = 2;
  double label_smoothing = 0.0;
  supernet::OptimizerSpec weights_optimizer;   // θ_w in warm-up and search
  supernet::ScheduleSpec weights_schedule;     // one schedule over warm-up + search
  supernet::OptimizerSpec finetune_optimizer;
  supernet::ScheduleSpec finetune_schedule;
  ArchTraining arch;
  constraints::PenaltySchedule penalty;

  std::string effective_yaml() const;
  YAML::Node root;
};

struct SearchOverrides {
  std::optional<int32_t> warmup_epochs, search_epochs, finetune_epochs, threads, batch_size;
  std::optional<uint64_t> seed;
  std::optional<std::filesystem::path> data_dir;
};

// The data of a search: load_data, and when the config names no validation split, min(arch.holdout, train/10)
// training items held out (seeded by config.seed) for the architecture steps. The search, its seed network and
// `nas finetune` all train the weights on the same remaining items.
supernet::DataSplits load_search_data(const SearchConfig& config);

// The config `nas search` uses when --config is not given (experiments/fmnist_search.yaml of the source tree).
std::filesystem::path default_search_config();

// Reads and validates the file; every error names the file and the key.
SearchConfig load_search_config(const std::filesystem::path& path, const SearchOverrides& overrides = {});

// The same from a config stored with a run (runs.config_yaml); `path` is where it was read from, which anchors its
// relative data paths.
SearchConfig search_config_from_text(const std::string& yaml, const std::filesystem::path& path,
                                     const SearchOverrides& overrides = {});

}  // namespace nas::search
