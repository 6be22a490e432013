// An experiment config for `nas search`: data, the search space, and the schedule of the four phases (warm-up,
// search, fix, fine-tune). experiments/fmnist_search.yaml is the reference; docs/search.md documents every key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "constraints/penalty.h"
#include "search/arch_cost.h"
#include "supernet/data_spec.h"
#include "supernet/optimizer.h"
#include "supernet/search_space.h"

namespace nas::search {

// How an architecture step estimates the task loss's gradient with respect to θ_a (docs/search.md compares them):
//  - reinforce: `samples` architectures drawn from the current distribution, each run on the same held-out batch
//    as the weights were trained (one sampled path, training-mode BatchNorm); the score-function estimator with a
//    leave-one-out baseline (Kool et al., "Buy 4 REINFORCE samples, get a baseline for free!", 2019),
//        ĝ = 1/K Σ_k (L_k − mean_{j≠k} L_j) ∇ log P(a_k),
//    an unbiased estimate of ∇ E_a[L(a)], the quantity tests/supernet/arch_gradient_test.cpp holds estimators to;
//  - mixture: the DARTS / FBNet relaxation (supernet/searchable_block.h), one forward and backward of every
//    candidate at once, weighted by the probabilities;
//  - straight_through: GDAS's gradient on the weight step's sampled path (the estimator the search had first;
//    behind BatchNorm it is blind to accuracy), for comparison only.
enum class Estimator { reinforce, mixture, straight_through };

// Architecture parameters: Adam on θ_a (operator and width logits), and the temperature τ of both softmaxes,
// annealed exponentially from tau_start to tau_end over the search phase. θ_a steps on held-out batches of the
// training data, every `every` weight steps.
struct ArchTraining {
  double lr = 0.01;
  double beta1 = 0.9, beta2 = 0.999;
  double tau_start = 1.0, tau_end = 0.1;
  ArchCost::Pricing price = ArchCost::Pricing::expected;  // what the penalties price (search/arch_cost.h)
  Estimator estimator = Estimator::reinforce;
  int32_t samples = 4;         // architectures per step (reinforce)
  int32_t every = 1;           // one architecture step per this many weight steps
  double uniform_share = 0.25; // share of search-phase weight steps on a uniformly drawn path (none starves)
  int32_t batch_size = 64;     // held-out images per architecture step
  int32_t holdout = 5000;      // training images held out for θ_a when the data names no validation split
};

enum class FinetuneInit { supernet, scratch };

// The fix step's shortlist (search/shortlist.h): the `candidates` most probable operator sets under the search's
// final distribution, each fixed to the budgets, and with `seed_ops` the seed network scaled uniformly to them,
// trained for `epochs` on the training split; the one most accurate on the held-out split is fine-tuned.
// 1 candidate: the argmax alone. A probe is a short fine-tune, so it starts where the fine-tune will (`start`
// unset: SearchConfig::finetune_init): a probe from the supernet's weights measures how much the supernet trained
// each candidate's operators, which a network fine-tuned from fresh weights does not inherit (docs/search.md,
// "Shortlist").
struct ShortlistSpec {
  int32_t candidates = 1;
  int32_t epochs = 1;
  bool seed_ops = true;
  std::optional<FinetuneInit> start;
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
  // Each warm-up weight step also trains the seed network's path (every block's first operator, at a uniformly
  // drawn width) and steps on the sum of both paths' gradients: the BigNAS sandwich rule with the seed as its
  // largest member, so the seed's operators train as much as in a channels-only supernet of the seed. Off: tried
  // on the two iso-accuracy searches furthest behind channels only, it did not help (docs/search.md, "Seed path").
  // Costs one more forward and backward per warm-up step.
  bool seed_path = false;
  supernet::ScheduleSpec weights_schedule;     // one schedule over warm-up + search
  supernet::OptimizerSpec finetune_optimizer;
  supernet::ScheduleSpec finetune_schedule;
  // Where the fixed network's fine-tuning starts: the supernet's weights for its operators and channels
  // (supernet::inherit_weights, the default), or a fresh initialisation (`scratch`), as DARTS, ProxylessNAS and FBNet
  // retrain what they find. Fresh starts pay where several operators share a block's input: their supernet weights
  // were trained against every candidate of the blocks before them, and a fixed network of the iso-accuracy space
  // fine-tuned 9 epochs from them scored 91.09 % against 91.39 % from random weights (docs/search.md).
  FinetuneInit finetune_init = FinetuneInit::supernet;
  ArchTraining arch;
  constraints::PenaltySchedule penalty;
  ShortlistSpec shortlist;

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
