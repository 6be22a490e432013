#include "search/resume.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "common/error.h"
#include "common/yaml_keys.h"

namespace nas::search {

namespace {

// The budget flags by name, in one place for writing and reading.
template <class Budgets, class Fn>
void for_budget_flags(Budgets& b, Fn&& fn) {
  fn("max_ram", b.max_ram);
  fn("max_flash", b.max_flash);
  fn("max_latency", b.max_latency);
  fn("max_energy", b.max_energy);
  fn("max_macs", b.max_macs);
  fn("max_params", b.max_params);
}

void write_teacher(YAML::Node& root, const std::optional<TeacherSpec>& teacher) {
  if (!teacher) return;
  root["teacher"]["run"] = teacher->run_id;
  root["teacher"]["alpha"] = teacher->settings.alpha;
  root["teacher"]["temperature"] = teacher->settings.temperature;
  root["teacher"]["in_search"] = teacher->in_search;
}

std::optional<TeacherSpec> read_teacher(const YAML::Node& root) {
  const YAML::Node t = root["teacher"];
  if (!t) return std::nullopt;
  TeacherSpec teacher;
  teacher.run_id = t["run"].as<int64_t>();
  teacher.settings.alpha = t["alpha"].as<double>();
  teacher.settings.temperature = t["temperature"].as<double>();
  teacher.in_search = t["in_search"].as<bool>();
  return teacher;
}

// The run and its checkpoint, or one line saying why it cannot be resumed; `kinds` are the run kinds the command
// continues, `command` the command that does.
std::pair<results::RunDetail, results::CheckpointRecord> resumable(const results::ResultsDb& db, int64_t run_id,
                                                                   const std::vector<std::string>& kinds,
                                                                   const std::string& command, bool take_over = false) {
  const std::string id = std::to_string(run_id);
  auto run = db.get_run(run_id);
  if (!run) throw Error("--resume", fmt::format("no run {} in {} (nas runs lists them)", id, db.path().string()));
  if (std::find(kinds.begin(), kinds.end(), run->summary.kind) == kinds.end())
    throw Error("--resume", fmt::format("run {} is a {} run; {} --resume continues {} runs", id, run->summary.kind,
                                        command, kinds.front()));
  if (run->summary.status == "done") throw Error("--resume", "run " + id + " is done; there is nothing to resume");
  // (A process that ended reads as stale; the driver checks again when it takes the run over.)
  if (run->summary.status == "running" && !take_over)
    throw Error("--resume", "run " + id + " is still running in another process; stop it first, or wait for it");
  auto checkpoint = db.checkpoint(run_id);
  if (!checkpoint)
    throw Error("--resume", fmt::format("run {} has no checkpoint (it stopped before its first epoch ended); start "
                                        "it again", id));
  return {std::move(*run), std::move(*checkpoint)};
}

// Where a run's stored config was read from: relative data paths are anchored there.
std::filesystem::path stored_config_path(const results::RunDetail& run) {
  return run.summary.config_path.empty() ? std::filesystem::current_path() / "stored.yaml"
                                         : std::filesystem::path(run.summary.config_path);
}

}  // namespace

std::string search_request_yaml(const SearchRequest& request) {
  YAML::Node root;
  root["target"] = request.target;
  YAML::Node budgets(YAML::NodeType::Map);
  for_budget_flags(request.budgets, [&](const char* name, const std::string& value) {
    if (!value.empty()) budgets[name] = value;
  });
  root["budgets"] = budgets;
  root["seed_network"] = request.seed_network;
  if (request.seed_run > 0) root["seed_run"] = request.seed_run;
  write_teacher(root, request.teacher);
  return yaml::to_text(root);
}

SearchRequest resume_request(const results::ResultsDb& db, int64_t run_id, std::string command_line, bool take_over) {
  auto [run, checkpoint] = resumable(db, run_id, {"search", "seed"}, "nas search", take_over);
  SearchRequest request;
  request.config = search_config_from_text(run.config_yaml, stored_config_path(run));
  request.command_line = std::move(command_line);
  try {
    const YAML::Node root = YAML::Load(checkpoint.request);
    request.target = root["target"].as<std::string>();
    for_budget_flags(request.budgets, [&](const char* name, std::string& value) {
      if (root["budgets"][name]) value = root["budgets"][name].as<std::string>();
    });
    request.seed_network = root["seed_network"].as<bool>();
    if (root["seed_run"]) request.seed_run = root["seed_run"].as<int64_t>();
    request.teacher = read_teacher(root);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("the checkpoint of run {}", run_id), "has a damaged request (" + std::string(e.what()) +
                                                                     ")", Error::Kind::failure);
  }
  request.resume_run = run_id;
  request.resume = std::move(checkpoint);
  request.take_over = take_over;
  return request;
}

std::string train_request_yaml(const std::optional<TeacherSpec>& teacher) {
  YAML::Node root(YAML::NodeType::Map);
  write_teacher(root, teacher);
  return yaml::to_text(root);
}

TrainResume train_resume(const results::ResultsDb& db, int64_t run_id) {
  auto [run, checkpoint] = resumable(db, run_id, {"train"}, "nas train");
  TrainResume resume;
  resume.run_id = run_id;
  resume.config = train_config_from_text(run.config_yaml, stored_config_path(run));
  try {
    resume.teacher = read_teacher(YAML::Load(checkpoint.request));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("the checkpoint of run {}", run_id), "has a damaged request (" + std::string(e.what()) +
                                                                     ")", Error::Kind::failure);
  }
  resume.checkpoint = std::move(checkpoint);
  return resume;
}

std::string finetune_request_yaml(const FinetuneRequest& request) {
  YAML::Node root;
  root["search_run"] = request.search_run;
  if (request.epochs) root["epochs"] = *request.epochs;
  if (request.seed) root["seed"] = *request.seed;
  if (request.threads) root["threads"] = *request.threads;
  write_teacher(root, request.teacher);
  return yaml::to_text(root);
}

FinetuneRequest finetune_resume_request(const results::ResultsDb& db, int64_t run_id, std::string command_line) {
  auto [run, checkpoint] = resumable(db, run_id, {"finetune"}, "nas finetune");
  FinetuneRequest request;
  try {
    const YAML::Node root = YAML::Load(checkpoint.request);
    request.search_run = root["search_run"].as<int64_t>();
    if (root["epochs"]) request.epochs = root["epochs"].as<int32_t>();
    if (root["seed"]) request.seed = root["seed"].as<uint64_t>();
    if (root["threads"]) request.threads = root["threads"].as<int32_t>();
    request.teacher = read_teacher(root);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("the checkpoint of run {}", run_id), "has a damaged request (" + std::string(e.what()) +
                                                                     ")", Error::Kind::failure);
  }
  request.command_line = std::move(command_line);
  request.resume_run = run_id;
  request.resume = std::move(checkpoint);
  return request;
}

std::optional<int64_t> resumable_run(const results::ResultsDb& db, bool take_over) {
  for (const results::RunSummary& run : db.list_runs()) {  // newest first
    if (run.kind != "search" && run.kind != "seed") continue;
    if (run.status == "done" || (run.status == "running" && !take_over)) return std::nullopt;
    return db.checkpoint(run.id) ? std::optional(run.id) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace nas::search
