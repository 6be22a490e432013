#include "search/search_resume.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "supernet/error.h"
#include "supernet/yaml_keys.h"

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
  if (request.teacher) {
    root["teacher"]["run"] = request.teacher->run_id;
    root["teacher"]["alpha"] = request.teacher->settings.alpha;
    root["teacher"]["temperature"] = request.teacher->settings.temperature;
    root["teacher"]["in_search"] = request.teacher->in_search;
  }
  return supernet::yaml::to_text(root);
}

SearchRequest resume_request(const ResultsDb& db, int64_t run_id, std::string command_line) {
  const std::string id = std::to_string(run_id);
  const auto run = db.get_run(run_id);
  if (!run) throw Error("--resume", fmt::format("no run {} in {} (nas runs lists them)", id, db.path().string()));
  if (run->summary.kind != "search" && run->summary.kind != "seed")
    throw Error("--resume", fmt::format("run {} is a {} run, not a search; nas search --resume continues searches",
                                        id, run->summary.kind));
  if (run->summary.status == "done") throw Error("--resume", "run " + id + " is done; there is nothing to resume");
  // (A process that ended reads as stale; the driver checks again when it takes the run over.)
  if (run->summary.status == "running")
    throw Error("--resume", "run " + id + " is still running in another process; stop it first, or wait for it");
  auto checkpoint = db.checkpoint(run_id);
  if (!checkpoint)
    throw Error("--resume", fmt::format("run {} has no checkpoint (it stopped before its first epoch ended); start "
                                        "the search again", id));
  SearchRequest request;
  const std::filesystem::path config_path = run->summary.config_path.empty()
                                                ? std::filesystem::current_path() / "stored.yaml"
                                                : std::filesystem::path(run->summary.config_path);
  request.config = search_config_from_text(run->config_yaml, config_path);
  request.command_line = std::move(command_line);
  const std::string where = fmt::format("the checkpoint of run {}", id);
  try {
    const YAML::Node root = YAML::Load(checkpoint->request);
    request.target = root["target"].as<std::string>();
    for_budget_flags(request.budgets, [&](const char* name, std::string& value) {
      if (root["budgets"][name]) value = root["budgets"][name].as<std::string>();
    });
    request.seed_network = root["seed_network"].as<bool>();
    if (const YAML::Node t = root["teacher"]) {
      TeacherSpec teacher;
      teacher.run_id = t["run"].as<int64_t>();
      teacher.settings.alpha = t["alpha"].as<double>();
      teacher.settings.temperature = t["temperature"].as<double>();
      teacher.in_search = t["in_search"].as<bool>();
      request.teacher = teacher;
    }
  } catch (const YAML::Exception& e) {
    throw Error(where, "has a damaged request (" + std::string(e.what()) + ")", Error::Kind::failure);
  }
  request.resume_run = run_id;
  request.resume = std::move(checkpoint);
  return request;
}

std::optional<int64_t> resumable_run(const ResultsDb& db) {
  for (const RunSummary& run : db.list_runs()) {  // newest first
    if (run.kind != "search" && run.kind != "seed") continue;
    if (run.status == "done" || run.status == "running") return std::nullopt;
    return db.checkpoint(run.id) ? std::optional(run.id) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace nas::search
