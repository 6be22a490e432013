// How runs read for people (aligned tables) and for scripts (JSON). The CLI prints these; both carry the same facts.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "results/results_db.h"

namespace nas::results {

// `nas runs`: one line per run, newest first as given. The caller handles the empty list ("no runs yet in …").
std::string format_runs_table(const std::vector<RunSummary>& runs);
// `nas show RUN`: the run's facts, its per-epoch table, the final figures and the effective config.
std::string format_run_detail(const RunDetail& run);

nlohmann::json run_summary_json(const RunSummary& run);
// The same facts as format_run_detail; the weights themselves stay in the database, only their counts are given.
nlohmann::json run_detail_json(const RunDetail& run);
// {"ram": {"value", "budget", "ratio", "budget_source"}, ...}: a fixed network's exact costs against its budgets.
nlohmann::json costs_json(const std::vector<CostRecord>& costs);

}  // namespace nas::results
