#include "search/train_config.h"

#include <fmt/core.h>

#include "common/error.h"
#include "common/yaml_keys.h"

namespace nas::search {

namespace {

using yaml::check_keys;
using yaml::read_int;
using yaml::read_scalar;
using yaml::where;

// Reads an optional key into `value` (left as it is when the key is absent).
template <typename T>
void read_optional(const YAML::Node& node, const std::string& path, const char* key, const char* expected, T& value) {
  if (node[key]) value = read_scalar<T>(node[key], path + "." + key, expected);
}

void read_optional_int(const YAML::Node& node, const std::string& path, const char* key, int32_t min_value,
                       int32_t& value) {
  if (node[key]) value = read_int(node[key], path + "." + key, min_value);
}

void read_train_section(const YAML::Node& train, TrainConfig& config) {
  check_keys(train, "train",
             {"epochs", "batch_size", "eval_batch_size", "seed", "threads", "label_smoothing", "optimizer", "schedule"});
  read_optional_int(train, "train", "epochs", 1, config.epochs);
  read_optional_int(train, "train", "batch_size", 1, config.batch_size);
  read_optional_int(train, "train", "eval_batch_size", 1, config.eval_batch_size);
  read_optional_int(train, "train", "threads", 1, config.threads);
  read_optional(train, "train", "seed", "a non-negative integer", config.seed);
  read_optional(train, "train", "label_smoothing", "a number", config.label_smoothing);
  if (config.label_smoothing < 0 || config.label_smoothing >= 1)
    throw Error(where("train.label_smoothing", train["label_smoothing"]),
                fmt::format("must be in [0, 1) (got {})", config.label_smoothing));

  if (const YAML::Node opt = train["optimizer"]) read_optimizer_spec(opt, "train.optimizer", config.optimizer);
  if (const YAML::Node sched = train["schedule"]) read_schedule_spec(sched, "train.schedule", config.schedule);
}

}  // namespace

YAML::Node stored_config_document(const std::string& yaml, const std::filesystem::path& path,
                                  const std::vector<std::string>& keys) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error(path.string(), "the stored config is not valid YAML: " + std::string(e.what()), Error::Kind::failure);
  }
  if (!root.IsMap()) throw Error(path.string(), "the stored config is not a YAML map", Error::Kind::failure);
  try {
    check_keys(root, "config", keys);
  } catch (const Error& e) {
    throw Error(path.string(), e.what(), e.kind());
  }
  return root;
}

YAML::Node read_config_document(const std::filesystem::path& path, const std::vector<std::string>& keys) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw Error("config", "not valid YAML: " + std::string(e.what()));
  }
  if (!root.IsMap()) throw Error("config", "expected a YAML map with keys " + yaml::join(keys));
  check_keys(root, "config", keys);
  return root;
}

void read_optimizer_spec(const YAML::Node& opt, const std::string& path, supernet::OptimizerSpec& o) {
  check_keys(opt, path, {"type", "momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps"});
  read_optional(opt, path, "type", "a name (sgd, adam)", o.type);
  read_optional(opt, path, "momentum", "a number", o.momentum);
  read_optional(opt, path, "nesterov", "true or false", o.nesterov);
  read_optional(opt, path, "weight_decay", "a number", o.weight_decay);
  read_optional(opt, path, "beta1", "a number", o.beta1);
  read_optional(opt, path, "beta2", "a number", o.beta2);
  read_optional(opt, path, "eps", "a number", o.eps);
  if (const std::string problem = supernet::optimizer_spec_problem(o); !problem.empty())
    throw Error(yaml::where(path, opt), problem);
}

void read_schedule_spec(const YAML::Node& sched, const std::string& path, supernet::ScheduleSpec& s) {
  check_keys(sched, path, {"type", "lr", "final_lr", "warmup_epochs"});
  read_optional(sched, path, "type", "a name (cosine, constant)", s.type);
  read_optional(sched, path, "lr", "a number", s.lr);
  read_optional(sched, path, "final_lr", "a number", s.final_lr);
  read_optional(sched, path, "warmup_epochs", "a number", s.warmup_epochs);
  if (const std::string problem = supernet::schedule_spec_problem(s); !problem.empty())
    throw Error(yaml::where(path, sched), problem);
}

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "data", "model", "train"};

TrainConfig parse(YAML::Node root, const std::filesystem::path& path, const TrainOverrides& overrides) {
  TrainConfig config;
  config.path = path;
  config.root = std::move(root);

  // Overrides are written into the document first, so the stored config is exactly what ran.
  if (config.root["train"] && !config.root["train"].IsMap()) yaml::require_map(config.root["train"], "train");
  if (overrides.epochs) config.root["train"]["epochs"] = *overrides.epochs;
  if (overrides.threads) config.root["train"]["threads"] = *overrides.threads;
  if (overrides.batch_size) config.root["train"]["batch_size"] = *overrides.batch_size;
  if (overrides.seed) config.root["train"]["seed"] = *overrides.seed;
  if (overrides.data_dir) config.root["data"]["dir"] = overrides.data_dir->string();

  config.name = path.stem().string();
  read_optional(config.root, "config", "name", "a name", config.name);
  const YAML::Node data = config.root["data"];
  if (!data || !data.IsMap()) throw Error("config", "missing map 'data' (e.g. data: {dataset: fashion-mnist})");
  config.data = supernet::parse_data_spec(data, path.parent_path());
  config.model = config.root["model"];
  if (!config.model || !config.model.IsMap()) throw Error("config", "missing map 'model' with a list 'layers'");
  if (config.root["train"]) read_train_section(config.root["train"], config);
  return config;
}

}  // namespace

std::string TrainConfig::effective_yaml() const { return yaml::to_text(root); }

TrainConfig load_train_config(const std::filesystem::path& path, const TrainOverrides& overrides) {
  return parse_config_file(path, "a YAML file", "experiments/fmnist_cnn.yaml",
                           [&] { return parse(read_config_document(path, kTopKeys), path, overrides); });
}

TrainConfig train_config_from_text(const std::string& yaml, const std::filesystem::path& path) {
  return parse_stored_config(yaml, path, kTopKeys, [&](const YAML::Node& root) { return parse(root, path, {}); });
}

}  // namespace nas::search
