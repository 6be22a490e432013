// A sweep: the grid of searches `nas sweep` runs (targets × budget values × seeds), and its directory, where each
// job keeps its own files next to the shared results:
//
//   <dir>/sweep.json     the plan: config, overrides and one entry per job (written once, read by every job)
//   <dir>/job-K.db       job K's shard: its own results database (merged into the main one by nas merge)
//   <dir>/job-K.log      job K's progress and errors
//   <dir>/job-K.started  written when job K starts (host, pid, time)
//   <dir>/job-K.json     written when job K ends: state done / failed / interrupted, error, summary
//
// Every file is written to a temporary name and renamed, so a reader never sees half of one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/file_bytes.h"
#include "constraints/budget.h"
#include "search/search_config.h"

namespace nas::sweep {

// What the user asked for; each list is the comma-separated values of one flag ("10ms,20ms,50ms").
struct SweepSpec {
  std::string name;
  std::vector<std::string> targets;
  std::vector<std::string> max_ram, max_flash, max_latency, max_energy, max_macs, max_params;
  int32_t seeds = 1;                       // seeds first_seed, first_seed + 1, ...
  std::filesystem::path config;            // the search config every job uses
  search::SearchOverrides overrides;               // applied to every job (its seed is the grid's)
  std::string executor = "local";          // "local" or "slurm"
};

struct SweepJob {
  int32_t index = 0;                       // 0-based: the Slurm array index
  std::string target;
  constraints::BudgetFlags budgets;
  uint64_t seed = 1;
};

struct SweepPlan {
  std::string name;
  std::string executor;
  std::filesystem::path config;            // absolute
  search::SearchOverrides overrides;
  std::vector<SweepJob> jobs;
};

// "10ms,20ms" -> {"10ms", "20ms"}; empty items are refused naming `flag`.
std::vector<std::string> split_list(const std::string& text, const std::string& flag);

// The grid, target-major, then latency, RAM, flash, energy, seed. Checks every budget's units and every target's
// name up front (bad input, one line naming the flag); whether a budget can be met on a board is each job's own
// check, so one unreachable budget fails one job, not the sweep.
SweepPlan plan_sweep(const SweepSpec& spec);

// The budget flags of a job as typed on a command line: "--max-latency 10ms --max-ram 64K" ("" when none).
std::string budget_arguments(const constraints::BudgetFlags& budgets);

// The `nas search` command line that reproduces job `job` by hand.
std::string search_command_line(const SweepPlan& plan, const SweepJob& job);

// Files of a sweep directory.
struct SweepFiles {
  std::filesystem::path dir;
  std::filesystem::path plan() const { return dir / "sweep.json"; }
  std::filesystem::path shard(int32_t job) const { return dir / ("job-" + std::to_string(job) + ".db"); }
  std::filesystem::path log(int32_t job) const { return dir / ("job-" + std::to_string(job) + ".log"); }
  std::filesystem::path started(int32_t job) const { return dir / ("job-" + std::to_string(job) + ".started"); }
  std::filesystem::path result(int32_t job) const { return dir / ("job-" + std::to_string(job) + ".json"); }
};

nlohmann::json plan_json(const SweepPlan& plan);
SweepPlan plan_from_json(const nlohmann::json& json, const std::string& where);

// Reads <dir>/sweep.json; throws nas::Error naming the file when it is missing or damaged.
SweepPlan read_plan(const SweepFiles& files);

// A job's JSON file (job-K.started, job-K.json) as it is now: null when it is missing or not JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace nas::sweep
