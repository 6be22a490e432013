// How runs read for people (tables) and for scripts (JSON). The CLI prints these; the facts are the same in both.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "search/results_db.h"

namespace nas::search {

std::string format_runs_table(const std::vector<RunSummary>& runs);
std::string format_run_detail(const RunDetail& run);

nlohmann::json run_summary_json(const RunSummary& run);
nlohmann::json run_detail_json(const RunDetail& run);  // parameter counts, not the weights themselves

}  // namespace nas::search
