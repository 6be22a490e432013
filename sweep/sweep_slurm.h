// The Slurm executor: a sweep becomes one job array (`sbatch --array=0-N`), one array task per job, each running
// `nas sweep-job DIR K` into its own shard. Slurm's own options (partition, time, ...) are passed through.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sweep/sweep_plan.h"
#include "sweep/sweep_registry.h"

namespace nas::sweep {

struct SlurmOptions {
  int32_t parallel = 0;                    // most array tasks running at once (sbatch --array=...%N); 0: no limit
  int32_t cpus_per_task = 1;
  std::vector<std::string> sbatch_args;    // passed to sbatch as they are, after ours (so they win)
};

// Writes <dir>/job.sh and submits the array; returns Slurm's job id. Throws nas::Error with sbatch's own message
// when it refuses, or naming what to install when sbatch is not there.
std::string submit_to_slurm(const SweepRecord& sweep, const SweepPlan& plan, const SlurmOptions& options);

// The array tasks (job indices) Slurm still lists as pending or running; empty once the job has left the queue.
std::set<int32_t> slurm_queue(const std::string& job_id);

// The task indices in `squeue -h -r -o %i` output: "123_4" lines, and "123_[5-7,9%2]" for tasks not yet split off.
std::set<int32_t> parse_squeue_tasks(const std::string& output);

// The job script every array task runs (written to <dir>/job.sh).
std::string slurm_job_script(const SweepRecord& sweep, const std::string& nas_binary);

}  // namespace nas::sweep
