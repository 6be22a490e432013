#include "search/search_config.h"

#include <algorithm>
#include <tuple>

#include "common/error.h"
#include "common/yaml_keys.h"
#include "search/train_config.h"

namespace nas::search {

namespace {

using yaml::check_keys;
using yaml::read_int;
using yaml::read_scalar;
using yaml::where;

void read_number(const YAML::Node& node, const std::string& path, const char* key, double& value) {
  if (node[key]) value = read_scalar<double>(node[key], path + "." + key, "a number");
}

void read_count(const YAML::Node& node, const std::string& path, const char* key, int32_t min_value,
                int32_t& value) {
  if (node[key]) value = read_int(node[key], path + "." + key, min_value);
}

FinetuneInit read_start(const YAML::Node& node, const std::string& path) {
  const auto start = read_scalar<std::string>(node, path, "supernet or scratch");
  if (start == "supernet") return FinetuneInit::supernet;
  if (start == "scratch") return FinetuneInit::scratch;
  throw Error(where(path, node), "must be supernet or scratch (got '" + start + "')");
}

void read_phases(const YAML::Node& s, SearchConfig& config) {
  if (const YAML::Node epochs = s["epochs"]) {
    check_keys(epochs, "search.epochs", {"warmup", "search", "finetune"});
    read_count(epochs, "search.epochs", "warmup", 0, config.warmup_epochs);
    read_count(epochs, "search.epochs", "search", 1, config.search_epochs);
    read_count(epochs, "search.epochs", "finetune", 0, config.finetune_epochs);
  }
  if (const YAML::Node w = s["weights"]) {
    check_keys(w, "search.weights", {"optimizer", "schedule", "seed_path"});
    if (w["seed_path"])
      config.seed_path = read_scalar<bool>(w["seed_path"], "search.weights.seed_path", "true or false");
    if (w["optimizer"]) read_optimizer_spec(w["optimizer"], "search.weights.optimizer", config.weights_optimizer);
    if (w["schedule"]) read_schedule_spec(w["schedule"], "search.weights.schedule", config.weights_schedule);
  }
  if (const YAML::Node f = s["finetune"]) {
    check_keys(f, "search.finetune", {"optimizer", "schedule", "start"});
    if (f["start"]) config.finetune_init = read_start(f["start"], "search.finetune.start");
    if (f["optimizer"]) read_optimizer_spec(f["optimizer"], "search.finetune.optimizer", config.finetune_optimizer);
    if (f["schedule"]) read_schedule_spec(f["schedule"], "search.finetune.schedule", config.finetune_schedule);
  }
}

void read_arch_and_penalty(const YAML::Node& s, SearchConfig& config) {
  if (const YAML::Node a = s["arch"]) {
    check_keys(a, "search.arch",
               {"lr", "beta1", "beta2", "tau_start", "tau_end", "price", "estimator", "samples", "every", "batch_size",
                "holdout", "uniform_share"});
    read_number(a, "search.arch", "uniform_share", config.arch.uniform_share);
    if (!(config.arch.uniform_share >= 0) || config.arch.uniform_share > 1)
      throw Error(where("search.arch.uniform_share", a["uniform_share"]), "must be in [0, 1]");
    if (a["estimator"]) {
      const auto estimator = read_scalar<std::string>(a["estimator"], "search.arch.estimator",
                                                      "reinforce, mixture or straight_through");
      if (estimator == "reinforce")
        config.arch.estimator = Estimator::reinforce;
      else if (estimator == "mixture")
        config.arch.estimator = Estimator::mixture;
      else if (estimator == "straight_through")
        config.arch.estimator = Estimator::straight_through;
      else
        throw Error(where("search.arch.estimator", a["estimator"]),
                    "must be reinforce, mixture or straight_through (got '" + estimator + "')");
    }
    read_count(a, "search.arch", "samples", 2, config.arch.samples);
    read_count(a, "search.arch", "every", 1, config.arch.every);
    read_count(a, "search.arch", "batch_size", 1, config.arch.batch_size);
    read_count(a, "search.arch", "holdout", 1, config.arch.holdout);
    if (a["price"]) {
      const auto price = read_scalar<std::string>(a["price"], "search.arch.price", "expected, argmax or sampled");
      if (price == "expected")
        config.arch.price = ArchCost::Pricing::expected;
      else if (price == "argmax")
        config.arch.price = ArchCost::Pricing::argmax;
      else if (price == "sampled")
        config.arch.price = ArchCost::Pricing::sampled;
      else
        throw Error(where("search.arch.price", a["price"]),
                    "must be expected, argmax or sampled (got '" + price + "')");
    }
    read_number(a, "search.arch", "lr", config.arch.lr);
    read_number(a, "search.arch", "beta1", config.arch.beta1);
    read_number(a, "search.arch", "beta2", config.arch.beta2);
    read_number(a, "search.arch", "tau_start", config.arch.tau_start);
    read_number(a, "search.arch", "tau_end", config.arch.tau_end);
    if (!(config.arch.lr > 0)) throw Error(where("search.arch.lr", a["lr"]), "must be positive");
    if (!(config.arch.tau_start > 0) || !(config.arch.tau_end > 0))
      throw Error("search.arch", "tau_start and tau_end must be positive");
  }
  if (const YAML::Node p = s["penalty"]) {
    check_keys(p, "search.penalty",
               {"lambda_init", "growth", "decay", "lambda_max", "ramp_steps", "target_use", "pull", "pull_growth"});
    read_number(p, "search.penalty", "target_use", config.penalty.target_use);
    read_number(p, "search.penalty", "pull", config.penalty.pull);
    read_number(p, "search.penalty", "pull_growth", config.penalty.pull_growth);
    read_number(p, "search.penalty", "lambda_init", config.penalty.lambda_init);
    read_number(p, "search.penalty", "growth", config.penalty.growth);
    read_number(p, "search.penalty", "decay", config.penalty.decay);
    read_number(p, "search.penalty", "lambda_max", config.penalty.lambda_max);
    if (p["ramp_steps"]) config.penalty.ramp_steps = read_int(p["ramp_steps"], "search.penalty.ramp_steps", 0);
  }
}

void read_search_section(const YAML::Node& s, SearchConfig& config) {
  yaml::require_map(s, "search");
  check_keys(s, "search", {"epochs", "batch_size", "eval_batch_size", "seed", "threads", "label_smoothing",
                           "weights", "finetune", "arch", "penalty", "shortlist"});
  read_count(s, "search", "batch_size", 1, config.batch_size);
  read_count(s, "search", "eval_batch_size", 1, config.eval_batch_size);
  read_count(s, "search", "threads", 1, config.threads);
  if (s["seed"]) config.seed = read_scalar<uint64_t>(s["seed"], "search.seed", "a non-negative integer");
  read_number(s, "search", "label_smoothing", config.label_smoothing);
  if (config.label_smoothing < 0 || config.label_smoothing >= 1)
    throw Error(where("search.label_smoothing", s["label_smoothing"]), "must be in [0, 1)");
  read_phases(s, config);
  read_arch_and_penalty(s, config);
  if (const YAML::Node l = s["shortlist"]) {
    yaml::require_map(l, "search.shortlist");
    check_keys(l, "search.shortlist", {"candidates", "epochs", "seed_ops", "start"});
    read_count(l, "search.shortlist", "candidates", 1, config.shortlist.candidates);
    read_count(l, "search.shortlist", "epochs", 1, config.shortlist.epochs);
    if (l["seed_ops"])
      config.shortlist.seed_ops = read_scalar<bool>(l["seed_ops"], "search.shortlist.seed_ops", "true or false");
    if (l["start"]) config.shortlist.start = read_start(l["start"], "search.shortlist.start");
  }
}

const std::vector<std::string> kTopKeys = {"name", "description", "data", "search_space", "search"};

// `root` is the whole document; `path` names it and anchors its relative data paths.
SearchConfig parse(YAML::Node root, const std::filesystem::path& path, const SearchOverrides& overrides) {
  SearchConfig config;
  config.path = path;
  config.root = std::move(root);

  if (config.root["search"] && !config.root["search"].IsMap()) yaml::require_map(config.root["search"], "search");
  YAML::Node s = config.root["search"];
  if (overrides.warmup_epochs) s["epochs"]["warmup"] = *overrides.warmup_epochs;
  if (overrides.search_epochs) s["epochs"]["search"] = *overrides.search_epochs;
  if (overrides.finetune_epochs) s["epochs"]["finetune"] = *overrides.finetune_epochs;
  if (overrides.threads) s["threads"] = *overrides.threads;
  if (overrides.batch_size) s["batch_size"] = *overrides.batch_size;
  if (overrides.seed) s["seed"] = *overrides.seed;
  if (overrides.data_dir) config.root["data"]["dir"] = overrides.data_dir->string();
  config.root["search"] = s;

  config.name = path.stem().string();
  if (config.root["name"]) config.name = read_scalar<std::string>(config.root["name"], "name", "a name");
  const YAML::Node data = config.root["data"];
  if (!data || !data.IsMap()) throw Error("config", "missing map 'data' (e.g. data: {dataset: fashion-mnist})");
  config.data = supernet::parse_data_spec(data, path.parent_path());
  config.space_node = config.root["search_space"];
  if (!config.space_node || !config.space_node.IsMap())
    throw Error("config", "missing map 'search_space' with a list 'blocks'");
  read_search_section(s, config);
  return config;
}

}  // namespace

supernet::DataSplits load_search_data(const SearchConfig& config) {
  supernet::DataSplits data = supernet::load_data(config.data, config.seed);
  if (data.validation.count == 0) {
    const int32_t holdout = std::min(config.arch.holdout, data.train.count / 10);
    if (holdout > 0)
      std::tie(data.train, data.validation) = supernet::split_holdout(std::move(data.train), holdout, config.seed);
  }
  return data;
}

std::string SearchConfig::effective_yaml() const { return yaml::to_text(root); }

std::filesystem::path default_search_config() {
  return std::filesystem::path(MCUNAS_SOURCE_DIR_FOR_CONFIGS) / "experiments" / "fmnist_search.yaml";
}

SearchConfig load_search_config(const std::filesystem::path& path, const SearchOverrides& overrides) {
  return parse_config_file(path, "a search YAML", "experiments/fmnist_search.yaml",
                           [&] { return parse(read_config_document(path, kTopKeys), path, overrides); });
}

SearchConfig search_config_from_text(const std::string& yaml, const std::filesystem::path& path,
                                     const SearchOverrides& overrides) {
  return parse_stored_config(yaml, path, kTopKeys,
                             [&](const YAML::Node& root) { return parse(root, path, overrides); });
}

}  // namespace nas::search
