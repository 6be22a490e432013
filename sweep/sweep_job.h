// One job of a sweep, as `nas sweep-job DIR K` runs it (on this machine or a Slurm node): reads the plan, runs the
// search into the job's own shard, and records how it ended in <dir>/job-K.json, including the error when it
// failed, so that nas sweep --status can report it without the main database.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "sweep/sweep_plan.h"

namespace nas::sweep {

// Returns the process exit status: 0 done (every budget held), 1 done but a budget missed or failed, 2 bad input,
// 130 interrupted. A job whose result says "done" is not run again.
int run_sweep_job(const SweepFiles& files, int32_t index);

// The result file a job leaves when it dies without writing its own (a crash or a kill): what the executors write.
nlohmann::json lost_job_result(int exit_status_or_signal, bool signalled, const SweepFiles& files, int32_t index);

}  // namespace nas::sweep
