#include "sweep/sweep_status.h"

#include <fmt/core.h>

#include <map>

#include "common/subprocess.h"
#include "results/process_identity.h"

namespace nas::sweep {

namespace {

using nlohmann::json;

// A local job's process is gone when it ran on this host and is no longer there (results/process_identity.h).
bool job_process_gone(const json& started) {
  if (!started.is_object()) return false;
  return results::process_gone(
      {started.value("pid", int64_t{0}), started.value("host", ""), started.value("process_start", "")});
}

std::string percent(const std::optional<double>& accuracy) {
  return accuracy ? fmt::format("{:.2f}%", 100 * *accuracy) : "";
}

// "latency 99% of budget, ram 87% of budget" from a done job's costs (costs_json): how close each budget came.
std::string cost_summary(const JobStatus& s) {
  std::string out;
  if (!s.costs.is_object()) return out;
  for (const auto& [metric, c] : s.costs.items())
    if (c.contains("ratio") && c["ratio"].is_number() && c.value("budget_source", json()).is_string() &&
        c["budget_source"].get<std::string>().rfind("--", 0) == 0)
      out += fmt::format("{}{} {:.0f}% of budget", out.empty() ? "" : ", ", metric, 100 * c["ratio"].get<double>());
  return out;
}

}  // namespace

bool finished(const JobStatus& s) { return s.state != "queued" && s.state != "running"; }

int sweep_exit_code(const std::vector<JobStatus>& statuses) {
  for (const auto& s : statuses)
    if (s.state != "done" || (s.fits && !*s.fits)) return 1;
  return 0;
}

std::vector<JobStatus> job_statuses(const results::ResultsDb& main, const SweepRecord& sweep, const SweepPlan& plan,
                                    const std::optional<std::set<int32_t>>& queue) {
  const SweepFiles files{sweep.dir};
  std::map<int32_t, int64_t> merged;
  for (const auto& [job, run] : merged_runs(main, sweep.name)) merged.emplace(job, run);
  std::vector<JobStatus> out;
  for (const auto& job : plan.jobs) {
    JobStatus s;
    s.job = job;
    const json result = read_json_file(files.result(job.index));
    const json started = read_json_file(files.started(job.index));
    // An interrupted Slurm task the queue still lists was pre-empted and requeued: it will run again and resume
    // (sweep_job.cpp), so its result is not final yet.
    const bool requeued = result.is_object() && queue && result.value("state", "") == "interrupted" &&
                          queue->count(job.index) > 0;
    if (requeued) {
      s.state = "running";
    } else if (result.is_object()) {
      s.state = result.value("state", "failed");
      s.error = result.value("error", "");
      if (result.contains("test_accuracy")) s.test_accuracy = result["test_accuracy"].get<double>();
      if (result.contains("fits")) s.fits = result["fits"].get<bool>();
      if (result.contains("costs")) s.costs = result["costs"];
    } else if (queue) {
      // Slurm: the queue says whether the task still exists; the started file whether it has begun.
      const bool queued = queue->count(job.index) > 0;
      s.state = queued ? (started.is_object() ? "running" : "queued") : "lost";
      if (!queued)
        s.error = fmt::format("Slurm no longer lists the task and it left no result (see {})",
                              files.log(job.index).string());
    } else if (started.is_object()) {
      s.state = job_process_gone(started) ? "lost" : "running";
      if (s.state == "lost")
        s.error = fmt::format("process {} ended without a result (see {})", started.value("pid", 0),
                              files.log(job.index).string());
    } else {
      s.state = "queued";
    }
    if (const auto m = merged.find(job.index); m != merged.end()) s.merged_run = m->second;
    out.push_back(std::move(s));
  }
  return out;
}

std::string status_counts(const std::vector<JobStatus>& statuses) {
  const char* order[] = {"done", "failed", "lost", "interrupted", "running", "queued"};
  std::string out;
  for (const char* state : order) {
    int n = 0;
    for (const auto& s : statuses) n += s.state == state;
    if (n > 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, state);
  }
  int merged = 0;
  for (const auto& s : statuses) merged += s.merged_run.has_value();
  return out + fmt::format("; {} merged", merged);
}

std::string job_line(const JobStatus& s, size_t jobs) {
  const std::string budgets = budget_arguments(s.job.budgets);
  std::string line = fmt::format("job {}/{} ({} {}{}seed {}) {}", s.job.index + 1, jobs, s.job.target, budgets,
                                 budgets.empty() ? "" : " ", s.job.seed, s.state);
  if (s.state == "done") {
    line += fmt::format(": test accuracy {}", percent(s.test_accuracy));
    const std::string costs = cost_summary(s);
    if (!costs.empty()) line += ", " + costs;
    if (s.fits && !*s.fits) line += " (MISSES a budget)";
  }
  if (!s.error.empty()) line += ": " + s.error;
  return line;
}

std::string format_status(const SweepRecord& sweep, const std::vector<JobStatus>& statuses) {
  std::string out = fmt::format("sweep {} ({}{}, {} jobs, {}): {}\n", sweep.name, sweep.executor,
                                sweep.slurm_job_id.empty() ? "" : " job " + sweep.slurm_job_id, sweep.jobs,
                                sweep.dir.string(), status_counts(statuses));
  out += fmt::format("{:>4}  {:<8} {:<36} {:>5}  {:<11} {:>8}  {:>6}  {}\n", "job", "target", "budgets", "seed",
                     "state", "accuracy", "run", "detail");
  for (const auto& s : statuses) {
    std::string detail = s.error;
    if (s.state == "done") detail = cost_summary(s) + (s.fits && !*s.fits ? " (MISSES a budget)" : "");
    out += fmt::format("{:>4}  {:<8} {:<36} {:>5}  {:<11} {:>8}  {:>6}  {}\n", s.job.index, s.job.target,
                       budget_arguments(s.job.budgets), s.job.seed, s.state, percent(s.test_accuracy),
                       s.merged_run ? std::to_string(*s.merged_run) : "", detail);
  }
  return out;
}

json status_json(const SweepRecord& sweep, const std::vector<JobStatus>& statuses) {
  json jobs = json::array();
  for (const auto& s : statuses) {
    json j = {{"job", s.job.index},   {"target", s.job.target},
              {"seed", s.job.seed},   {"budgets", budget_arguments(s.job.budgets)},
              {"state", s.state},     {"error", s.error.empty() ? json(nullptr) : json(s.error)},
              {"test_accuracy", s.test_accuracy ? json(*s.test_accuracy) : json(nullptr)},
              {"merged_run", s.merged_run ? json(*s.merged_run) : json(nullptr)}};
    if (s.fits) j["fits"] = *s.fits;
    if (!s.costs.is_null()) j["costs"] = s.costs;
    jobs.push_back(j);
  }
  return {{"sweep", sweep.name},
          {"executor", sweep.executor},
          {"slurm_job_id", sweep.slurm_job_id.empty() ? json(nullptr) : json(sweep.slurm_job_id)},
          {"dir", sweep.dir.string()},
          {"summary", status_counts(statuses)},
          {"jobs", jobs}};
}

}  // namespace nas::sweep
