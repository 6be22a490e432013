// `nas search`: warm-up (θ_w only) → search (θ_w and θ_a under the budget penalties) → fix (argmax operators,
// binarised channel masks, repaired if a budget is still missed) → fine-tune (the fixed net, starting from the
// supernet's weights) → test. Every epoch is committed to the results database as it ends; the fixed
// architecture, its exact costs against every budget, and its weights are stored at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "constraints/budget.h"
#include "cost_models/costs.h"
#include "results/results_db.h"
#include "search/progress.h"
#include "search/search_config.h"
#include "search/teacher.h"
#include "supernet/search_space.h"

namespace nas::search {

struct SearchRequest {
  SearchConfig config;
  std::string target;                 // a board name (cost_models/targets) or a path to a target YAML
  constraints::BudgetFlags budgets;
  std::string command_line;
  // Train the space's seed network (supernet::seed_arch) from scratch for the fine-tune epochs instead of
  // searching: the unconstrained reference that searched nets are compared against. Recorded as kind "seed";
  // explicit budgets are refused (its costs are recorded against the board's own limits).
  bool seed_network = false;
  // Start from run `seed_run`'s network (nas search --seed-run, search/seed_run.h): `config` is already
  // seed_run_config's (that network's blocks as the search space, its data), and a new run's supernet takes its
  // weights. 0: none.
  int64_t seed_run = 0;
  // Knowledge distillation from a finished run in the same database: in fine-tuning, and with in_search also in the
  // warm-up and search phases. Recorded in the distillations table.
  std::optional<TeacherSpec> teacher = std::nullopt;
  // Continue run `resume_run` from `resume` (its checkpoint) instead of starting a new run (search/resume.h
  // builds such a request). The run's other fields must be what that run was asked.
  int64_t resume_run = 0;
  std::optional<results::CheckpointRecord> resume = std::nullopt;
  bool keep_checkpoint = false;       // keep the last checkpoint when the run is done (default: removed)
  bool take_over = false;             // resume even a run still marked running elsewhere (ResultsDb::reopen_run)
};

struct SearchOutcome {
  int64_t run_id = 0;
  std::string status;                 // "done" or "interrupted"
  std::string target;
  double test_accuracy = 0;
  supernet::FixedArch arch;
  cost_models::Costs<double> costs{};
  std::vector<results::CostRecord> cost_records;  // each metric against its budget
  int32_t repaired_channels = 0, added_channels = 0;
  bool fits = true;
  double seconds = 0;
};

// Validates target, budgets, config, data and reachability before the run is recorded, so bad input leaves the
// database untouched. Budgets no network in the space can meet are refused naming the smallest reachable cost.
SearchOutcome run_search(const SearchRequest& request, results::ResultsDb& db, Progress& progress);

}  // namespace nas::search
