#include "sweep/sweep_local.h"

#include <signal.h>
#include <sys/wait.h>

#include <fmt/core.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

#include "common/interrupt.h"
#include "common/subprocess.h"
#include "sweep/sweep_job.h"

namespace nas::sweep {

namespace {

JobStatus status_of(const results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan, int32_t index) {
  return job_statuses(main, sweep, plan, std::nullopt)[static_cast<size_t>(index)];
}

}  // namespace

int run_sweep_locally(results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan, int32_t parallel,
                      const Say& say) {
  const SweepFiles files{sweep.dir};
  // The kernel's link to this very binary, which stays valid even when the file is rebuilt or deleted meanwhile
  // (this_executable() would then name "nas (deleted)").
  const std::string nas = "/proc/self/exe";
  std::deque<int32_t> pending;
  for (const auto& s : job_statuses(main, sweep, plan, std::nullopt)) {
    if (s.state == "done") continue;
    // A job run again starts clean: its old result and start marks would misreport it while it runs.
    std::filesystem::remove(files.result(s.job.index));
    std::filesystem::remove(files.started(s.job.index));
    pending.push_back(s.job.index);
  }
  if (pending.size() < plan.jobs.size())
    say(fmt::format("{} of {} jobs already done; running the other {}", plan.jobs.size() - pending.size(),
                    plan.jobs.size(), pending.size()));

  std::map<pid_t, int32_t> running;
  bool stopping = false;
  const size_t jobs = plan.jobs.size();
  while (!pending.empty() || !running.empty()) {
    if (interrupt_requested() && !stopping) {
      stopping = true;
      say(fmt::format("interrupted: stopping {} running job(s); {} not started", running.size(), pending.size()));
      for (const auto& [pid, index] : running) kill(pid, SIGTERM);
    }
    while (!stopping && !pending.empty() && static_cast<int32_t>(running.size()) < parallel) {
      const int32_t index = pending.front();
      pending.pop_front();
      const pid_t pid = start_process({nas, "sweep-job", sweep.dir.string(), std::to_string(index)},
                                      files.log(index));
      running.emplace(pid, index);
      const auto& job = plan.jobs[static_cast<size_t>(index)];
      const std::string budgets = budget_arguments(job.budgets);
      say(fmt::format("job {}/{} ({} {}{}seed {}) started, log {}", index + 1, jobs, job.target, budgets,
                      budgets.empty() ? "" : " ", job.seed, files.log(index).string()));
    }
    if (stopping && running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      // Polling keeps Ctrl-C and SIGTERM to this process alone answered within a tenth of a second.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int32_t index = it->second;
    running.erase(it);
    if (!std::filesystem::exists(files.result(index))) {
      const bool signalled = WIFSIGNALED(status);
      write_file_atomically(files.result(index),
                            lost_job_result(signalled ? WTERMSIG(status) : WEXITSTATUS(status), signalled, files,
                                            index)
                                    .dump() +
                                "\n");
    }
    const JobStatus s = status_of(main, sweep, plan, index);
    say(job_line(s, jobs));
    if (s.state == "done") merge_finished(main, sweep, {s}, say);
  }
  const auto statuses = job_statuses(main, sweep, plan, std::nullopt);
  say(fmt::format("sweep {} {}: {}", sweep.name, stopping ? "interrupted" : "finished", status_counts(statuses)));
  return stopping ? 130 : sweep_exit_code(statuses);
}

}  // namespace nas::sweep
