// The local executor: runs a sweep's jobs on this machine, `parallel` at a time, each as its own process
// (`nas sweep-job DIR K`, output in <dir>/job-K.log), says a line when each starts and ends, and merges each
// finished shard into the main database as it comes.
#pragma once

#include "results/results_db.h"
#include "sweep/sweep_collect.h"
#include "sweep/sweep_plan.h"
#include "sweep/sweep_registry.h"

namespace nas::sweep {

// Runs every job that has not ended "done" yet (so running a sweep again after an interruption finishes it).
// Ctrl-C (or SIGTERM) stops starting jobs, passes SIGTERM on to the running ones (each records itself as
// interrupted) and waits for them. Returns as wait_for_sweep does: 0, 1, or 130 when interrupted.
int run_sweep_locally(results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan, int32_t parallel,
                      const Say& say);

}  // namespace nas::sweep
