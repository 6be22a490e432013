// Where each job of a sweep stands, read from the sweep directory's files (and, for Slurm, the queue) plus the
// main database for what is merged: what `nas sweep --status` prints and what --wait polls.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "results/results_db.h"
#include "sweep/sweep_plan.h"
#include "sweep/sweep_registry.h"

namespace nas::sweep {

struct JobStatus {
  SweepJob job;
  // queued (not started), running, done, failed, interrupted, lost (no result and no process any more)
  std::string state;
  std::string error;                       // failed / lost: one line
  std::optional<double> test_accuracy;
  std::optional<bool> fits;
  nlohmann::json costs;                    // done: the exact costs (costs_json)
  std::optional<int64_t> merged_run;       // the main database's run id once merged
};

bool finished(const JobStatus& status);    // done, failed, interrupted or lost
// 0 when every job is done inside its budgets, else 1 (the exit status of nas sweep).
int sweep_exit_code(const std::vector<JobStatus>& statuses);

// `queue`: for Slurm sweeps, the array tasks squeue still lists (nullopt for local sweeps, where a started job
// whose process is gone on this host is lost).
std::vector<JobStatus> job_statuses(const results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan,
                                    const std::optional<std::set<int32_t>>& queue);

// "3 done, 1 failed, 2 running, 6 queued; 3 merged"
std::string status_counts(const std::vector<JobStatus>& statuses);
std::string format_status(const SweepRecord& sweep, const std::vector<JobStatus>& statuses);
nlohmann::json status_json(const SweepRecord& sweep, const std::vector<JobStatus>& statuses);
// One line for a job that just changed state (progress of nas sweep and --wait).
std::string job_line(const JobStatus& status, size_t jobs);

}  // namespace nas::sweep
