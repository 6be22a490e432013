// The sweeps table of the main results database: which sweeps exist, where their directories are, and the Slurm
// job that runs each, so that `nas sweep --status NAME` finds everything from the name alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "results/results_db.h"

namespace nas::sweep {

struct SweepRecord {
  std::string name;
  std::string created_at;                  // ISO 8601 UTC
  std::string executor;                    // "local" or "slurm"
  std::filesystem::path dir;
  int32_t jobs = 0;
  std::string command_line;
  std::string slurm_job_id;                // "" until submitted (and for local sweeps)
};

// Throws nas::Error (bad input) when a sweep of that name exists already.
void record_sweep(results::ResultsDb& db, const SweepRecord& sweep);
// Removes the record of a sweep that never started (its submission failed), so the name can be used again.
void forget_sweep(results::ResultsDb& db, const std::string& name);
void set_slurm_job_id(results::ResultsDb& db, const std::string& name, const std::string& job_id);
std::optional<SweepRecord> find_sweep(const results::ResultsDb& db, const std::string& name);
// Throws nas::Error naming the known sweeps when there is none of that name.
SweepRecord require_sweep(const results::ResultsDb& db, const std::string& name);
std::vector<SweepRecord> list_sweeps(const results::ResultsDb& db);
// "sweep-N" with the first N not taken.
std::string next_sweep_name(const results::ResultsDb& db);

// The main database's run id of each merged job of a sweep (job index -> run id); several if merged twice under
// different uids, which nas merge never does.
std::vector<std::pair<int32_t, int64_t>> merged_runs(const results::ResultsDb& db, const std::string& sweep);

}  // namespace nas::sweep
