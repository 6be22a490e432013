#include "sweep/sweep_job.h"

#include <fmt/core.h>

#include "common/error.h"
#include "common/subprocess.h"
#include "results/process_identity.h"
#include "results/run_report.h"
#include "search/progress.h"
#include "search/resume.h"
#include "search/search_driver.h"

namespace nas::sweep {

namespace {

using nlohmann::json;

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool already_done(const SweepFiles& files, int32_t index) {
  const json result = read_json_file(files.result(index));
  return result.is_object() && result.value("state", "") == "done";
}

}  // namespace

json lost_job_result(int status, bool signalled, const SweepFiles& files, int32_t index) {
  const std::string how = signalled ? fmt::format("was killed by signal {}", status)
                                    : fmt::format("exited with status {}", status);
  return {{"state", "failed"},
          {"exit_code", signalled ? 128 + status : status},
          {"error", fmt::format("the job {} without recording a result (see {})", how, files.log(index).string())}};
}

int run_sweep_job(const SweepFiles& files, int32_t index) {
  const SweepPlan plan = read_plan(files);
  if (index < 0 || index >= static_cast<int32_t>(plan.jobs.size()))
    throw Error("nas sweep-job", fmt::format("job {} is not in {} (it has jobs 0 to {})", index,
                                             files.plan().string(), plan.jobs.size() - 1));
  if (already_done(files, index)) {
    fmt::print(stderr, "job {} is already done ({}); nothing to do\n", index, files.result(index).string());
    return 0;
  }
  const SweepJob& job = plan.jobs[static_cast<size_t>(index)];
  const results::ProcessIdentity self = results::this_process();
  write_file_atomically(files.started(index), json{{"host", self.host},
                                                   {"pid", self.pid},
                                                   {"process_start", self.start},
                                                   {"started_at", now_utc()}}
                                                  .dump() +
                                                  "\n");
  json result;
  int exit_code = 0;
  try {
    results::ResultsDb shard(files.shard(index));
    search::SearchRequest request;
    // A job run again after it was killed (nas sweep --resume, a Slurm requeue) continues its search from the
    // shard's checkpoint; one lost before its first epoch ended starts again. The shard is this job's alone and
    // the job runs once at a time (the local executor reruns only jobs whose process is gone, Slurm one instance
    // of an array task), so a run still marked running there, e.g. from another node, is taken over.
    if (const auto resumable = search::resumable_run(shard, /*take_over=*/true)) {
      request = search::resume_request(shard, *resumable, search_command_line(plan, job), /*take_over=*/true);
      fmt::print(stderr, "sweep {} job {}: resuming run {} of {}\n", plan.name, index, *resumable,
                 files.shard(index).string());
    } else {
      search::SearchOverrides overrides = plan.overrides;
      overrides.seed = job.seed;
      request.config = search::load_search_config(plan.config, overrides);
      request.target = job.target;
      request.budgets = job.budgets;
      request.command_line = search_command_line(plan, job);
      fmt::print(stderr, "sweep {} job {}: {}\n", plan.name, index, request.command_line);
    }
    search::Progress progress(search::Progress::Mode::lines);
    const search::SearchOutcome outcome = search::run_search(request, shard, progress);
    result = {{"state", outcome.status}, {"run_id", outcome.run_id}, {"seconds", outcome.seconds}};
    if (outcome.status == "done") {
      result["test_accuracy"] = outcome.test_accuracy;
      result["fits"] = outcome.fits;
      result["costs"] = results::costs_json(outcome.cost_records);
      exit_code = outcome.fits ? 0 : 1;
    } else {
      exit_code = 130;
    }
  } catch (const Error& e) {
    result = {{"state", "failed"}, {"error", e.what()}};
    exit_code = e.exit_code();
  } catch (const std::exception& e) {
    result = {{"state", "failed"}, {"error", e.what()}};
    exit_code = 1;
  }
  result["exit_code"] = exit_code;
  result["finished_at"] = now_utc();
  write_file_atomically(files.result(index), result.dump() + "\n");
  if (result["state"] == "failed") fmt::print(stderr, "nas: {}\n", result["error"].get<std::string>());
  return exit_code;
}

}  // namespace nas::sweep
