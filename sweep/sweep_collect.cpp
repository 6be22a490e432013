#include "sweep/sweep_collect.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "common/interrupt.h"
#include "results/shard_merge.h"
#include "sweep/sweep_slurm.h"

namespace nas::sweep {

int32_t merge_finished(results::ResultsDb& main, const SweepRecord& sweep, const std::vector<JobStatus>& statuses,
                       const Say& say) {
  const SweepFiles files{sweep.dir};
  int32_t added = 0;
  for (const auto& s : statuses) {
    if (s.state != "done" || s.merged_run) continue;
    const results::MergeResult merged =
        results::merge_shard(main, files.shard(s.job.index), results::SweepTag{sweep.name, s.job.index});
    added += merged.added;
    say(fmt::format("job {}/{} merged into {} ({} run{} added)", s.job.index + 1, sweep.jobs,
                    main.path().string(), merged.added, merged.added == 1 ? "" : "s"));
  }
  return added;
}

std::vector<JobStatus> current_statuses(const results::ResultsDb& main, const SweepRecord& sweep,
                                        const SweepPlan& plan) {
  std::optional<std::set<int32_t>> queue;
  if (sweep.executor == "slurm") queue = slurm_queue(sweep.slurm_job_id);
  return job_statuses(main, sweep, plan, queue);
}

int wait_for_sweep(results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan, double poll_seconds,
                   const Say& say) {
  std::map<int32_t, std::string> seen;
  for (;;) {
    auto statuses = current_statuses(main, sweep, plan);
    for (const auto& s : statuses) {
      auto& last = seen[s.job.index];
      if (last != s.state) say(job_line(s, statuses.size()));
      last = s.state;
    }
    if (merge_finished(main, sweep, statuses, say) > 0) statuses = current_statuses(main, sweep, plan);
    if (std::all_of(statuses.begin(), statuses.end(), finished)) {
      say(fmt::format("sweep {} finished: {}", sweep.name, status_counts(statuses)));
      return sweep_exit_code(statuses);
    }
    // Sleep in short slices so that Ctrl-C is answered at once.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(poll_seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (interrupt_requested()) {
        say(fmt::format("stopped waiting; the jobs go on (nas sweep --wait {} follows them again)", sweep.name));
        return 130;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace nas::sweep
