#include "sweep/sweep_plan.h"

#include <unistd.h>

#include <fmt/core.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "constraints/budget_units.h"
#include "cost_models/target.h"

namespace nas::sweep {

namespace {

using nlohmann::json;

// A missing list means "no budget of this kind": one empty value keeps the grid's product simple.
std::vector<std::string> or_none(const std::vector<std::string>& values) {
  return values.empty() ? std::vector<std::string>{""} : values;
}

void check_units(const std::vector<std::string>& values, const char* flag, int kind) {
  for (const auto& v : values) {
    if (kind == 0) constraints::parse_bytes(v, flag);
    if (kind == 1) constraints::parse_seconds(v, flag);
    if (kind == 2) constraints::parse_joules(v, flag);
    if (kind == 3) constraints::parse_count(v, flag);
  }
}

template <typename T>
void put(json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

template <typename T>
void get(const json& in, const char* key, std::optional<T>& value) {
  if (in.contains(key)) value = in.at(key).get<T>();
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, const std::string& flag) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) throw Error(flag, "'" + text + "' has an empty item (write values separated by single commas)");
    items.push_back(item);
  }
  if (!text.empty() && text.back() == ',')
    throw Error(flag, "'" + text + "' ends with a comma (write values separated by single commas)");
  return items;
}

SweepPlan plan_sweep(const SweepSpec& spec) {
  if (spec.targets.empty()) throw Error("--target", "give at least one board (nas targets lists them)");
  if (spec.seeds < 1) throw Error("--seeds", "must be at least 1 (the number of seeds per grid point)");
  if (spec.executor != "local" && spec.executor != "slurm")
    throw Error("--executor", "'" + spec.executor + "' is not an executor (known: local, slurm)");
  for (const auto& t : spec.targets) cost_models::load_target(t);
  check_units(spec.max_ram, "--max-ram", 0);
  check_units(spec.max_flash, "--max-flash", 0);
  check_units(spec.max_latency, "--max-latency", 1);
  check_units(spec.max_energy, "--max-energy", 2);
  check_units(spec.max_macs, "--max-macs", 3);
  check_units(spec.max_params, "--max-params", 3);

  const search::SearchConfig config = search::load_search_config(spec.config, spec.overrides);
  SweepPlan plan{spec.name, spec.executor, std::filesystem::absolute(spec.config), spec.overrides, {}};
  plan.overrides.seed.reset();
  // Jobs may start elsewhere (a Slurm node's working directory): every path they read is made absolute.
  if (plan.overrides.data_dir) plan.overrides.data_dir = std::filesystem::absolute(*plan.overrides.data_dir);
  for (const auto& target : spec.targets)
    for (const auto& latency : or_none(spec.max_latency))
      for (const auto& ram : or_none(spec.max_ram))
        for (const auto& flash : or_none(spec.max_flash))
          for (const auto& energy : or_none(spec.max_energy))
            for (const auto& macs : or_none(spec.max_macs))
              for (const auto& params : or_none(spec.max_params))
                for (int32_t s = 0; s < spec.seeds; ++s) {
                  SweepJob job;
                  job.index = static_cast<int32_t>(plan.jobs.size());
                  job.target = target;
                  job.budgets = {ram, flash, latency, energy, macs, params};
                  job.seed = config.seed + static_cast<uint64_t>(s);
                  plan.jobs.push_back(job);
                }
  return plan;
}

std::string budget_arguments(const constraints::BudgetFlags& b) {
  std::string out;
  const std::pair<const char*, const std::string*> flags[] = {
      {"--max-latency", &b.max_latency}, {"--max-ram", &b.max_ram}, {"--max-flash", &b.max_flash},
      {"--max-energy", &b.max_energy}, {"--max-macs", &b.max_macs}, {"--max-params", &b.max_params}};
  for (const auto& [flag, value] : flags)
    if (!value->empty()) out += (out.empty() ? "" : " ") + std::string(flag) + " " + *value;
  return out;
}

std::string search_command_line(const SweepPlan& plan, const SweepJob& job) {
  std::string line = "nas search --target " + job.target;
  const std::string budgets = budget_arguments(job.budgets);
  if (!budgets.empty()) line += " " + budgets;
  line += " --config " + plan.config.string() + " --seed " + std::to_string(job.seed);
  const auto& o = plan.overrides;
  if (o.threads) line += " --threads " + std::to_string(*o.threads);
  if (o.warmup_epochs) line += " --warmup-epochs " + std::to_string(*o.warmup_epochs);
  if (o.search_epochs) line += " --search-epochs " + std::to_string(*o.search_epochs);
  if (o.finetune_epochs) line += " --finetune-epochs " + std::to_string(*o.finetune_epochs);
  if (o.data_dir) line += " --data-dir " + o.data_dir->string();
  return line;
}

json plan_json(const SweepPlan& plan) {
  json overrides = json::object();
  put(overrides, "warmup_epochs", plan.overrides.warmup_epochs);
  put(overrides, "search_epochs", plan.overrides.search_epochs);
  put(overrides, "finetune_epochs", plan.overrides.finetune_epochs);
  put(overrides, "threads", plan.overrides.threads);
  put(overrides, "batch_size", plan.overrides.batch_size);
  if (plan.overrides.data_dir) overrides["data_dir"] = plan.overrides.data_dir->string();
  json jobs = json::array();
  for (const auto& j : plan.jobs)
    jobs.push_back({{"index", j.index},
                    {"target", j.target},
                    {"seed", j.seed},
                    {"max_ram", j.budgets.max_ram},
                    {"max_flash", j.budgets.max_flash},
                    {"max_latency", j.budgets.max_latency},
                    {"max_energy", j.budgets.max_energy},
                    {"max_macs", j.budgets.max_macs},
                    {"max_params", j.budgets.max_params}});
  return {{"name", plan.name},
          {"executor", plan.executor},
          {"config", plan.config.string()},
          {"overrides", overrides},
          {"jobs", jobs}};
}

SweepPlan plan_from_json(const json& in, const std::string& where) {
  try {
    SweepPlan plan;
    plan.name = in.at("name").get<std::string>();
    plan.executor = in.at("executor").get<std::string>();
    plan.config = in.at("config").get<std::string>();
    const json& o = in.at("overrides");
    get(o, "warmup_epochs", plan.overrides.warmup_epochs);
    get(o, "search_epochs", plan.overrides.search_epochs);
    get(o, "finetune_epochs", plan.overrides.finetune_epochs);
    get(o, "threads", plan.overrides.threads);
    get(o, "batch_size", plan.overrides.batch_size);
    if (o.contains("data_dir")) plan.overrides.data_dir = o.at("data_dir").get<std::string>();
    // Plans written before MACs and parameters were budgets have neither key.
    auto optional_text = [](const json& j, const char* key) {
      return j.contains(key) ? j.at(key).get<std::string>() : std::string();
    };
    for (const json& j : in.at("jobs"))
      plan.jobs.push_back({j.at("index").get<int32_t>(), j.at("target").get<std::string>(),
                           {j.at("max_ram").get<std::string>(), j.at("max_flash").get<std::string>(),
                            j.at("max_latency").get<std::string>(), j.at("max_energy").get<std::string>(),
                            optional_text(j, "max_macs"), optional_text(j, "max_params")},
                           j.at("seed").get<uint64_t>()});
    return plan;
  } catch (const json::exception& e) {
    throw Error(where, std::string("damaged sweep plan: ") + e.what(), Error::Kind::failure);
  }
}

SweepPlan read_plan(const SweepFiles& files) {
  const std::string where = files.plan().string();
  std::ifstream in(files.plan());
  if (!in) throw Error(where, "cannot read the sweep plan (is this a sweep directory?)");
  try {
    return plan_from_json(json::parse(in), where);
  } catch (const json::parse_error& e) {
    throw Error(where, std::string("damaged sweep plan: ") + e.what(), Error::Kind::failure);
  }
}

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

}  // namespace nas::sweep
