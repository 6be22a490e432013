// Collecting a sweep's results: merging every finished job's shard into the main database (once: nas merge is
// idempotent), and following a sweep that runs elsewhere (Slurm, or a local sweep in another shell) until every
// job has finished.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "results/results_db.h"
#include "sweep/sweep_plan.h"
#include "sweep/sweep_registry.h"
#include "sweep/sweep_status.h"

namespace nas::sweep {

using Say = std::function<void(const std::string& line)>;

// Merges the shard of every "done" job not merged yet; returns how many runs were added.
int32_t merge_finished(results::ResultsDb& main, const SweepRecord& sweep, const std::vector<JobStatus>& statuses,
                       const Say& say);

// The statuses now: the Slurm queue is asked for Slurm sweeps.
std::vector<JobStatus> current_statuses(const results::ResultsDb& main, const SweepRecord& sweep,
                                        const SweepPlan& plan);

// Polls every `poll_seconds` until every job has finished, saying each change of state and merging as jobs end.
// Returns 0 when every job is done inside its budgets, 1 when one failed, was lost or missed a budget, 130 when
// interrupted (the jobs go on; --wait again later).
int wait_for_sweep(results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan, double poll_seconds,
                   const Say& say);

}  // namespace nas::sweep
