// Where each job of a sweep stands, read from the files jobs leave (and the Slurm queue), and what is merged.
#include "sweep/sweep_status.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep/sweep_job.h"
#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::sweep {
namespace {

using test_support::contains;

class SweepStatusTest : public test_support::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_text("s.yaml", "name: t\ndata: {format: synthetic}\nsearch_space:\n  blocks:\n"
                         "    - {name: b1, out: 8, ops: [conv3x3]}\nsearch: {seed: 1}\n");
    SweepSpec spec;
    spec.name = "grid";
    spec.targets = {"nano33"};
    spec.max_latency = {"1ms", "2ms", "3ms", "4ms", "5ms"};
    spec.config = dir_ / "s.yaml";
    plan_ = plan_sweep(spec);
    sweep_ = {"grid", "2026-11-30T10:00:00Z", "local", dir_, 5, "nas sweep ...", ""};
    // Job 0 done, 1 failed, 2 started by a live process (this one), 3 started by a process that is gone, 4 nothing.
    write_text("job-0.json", R"({"state": "done", "test_accuracy": 0.9, "fits": true, "costs": {"latency":
      {"value": 0.0009, "budget": 0.001, "ratio": 0.9, "budget_source": "--max-latency 1ms"}}})");
    write_text("job-1.json", R"({"state": "failed", "exit_code": 2, "error": "--max-latency 2ms: cannot be met"})");
    write_text("job-2.started", host_json(getpid()));
    write_text("job-3.started", host_json(dead_pid()));
  }

  static std::string host_json(pid_t pid) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return "{\"host\": \"" + std::string(host) + "\", \"pid\": " + std::to_string(pid) + "}";
  }
  static pid_t dead_pid() {
    const pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, nullptr, 0);
    return child;
  }

  SweepPlan plan_;
  SweepRecord sweep_;
};

TEST_F(SweepStatusTest, LocalJobsReadFromTheirFiles) {
  results::ResultsDb main(dir_ / "main.db");
  const auto s = job_statuses(main, sweep_, plan_, std::nullopt);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].state, "done");
  EXPECT_DOUBLE_EQ(*s[0].test_accuracy, 0.9);
  EXPECT_EQ(s[1].state, "failed");
  EXPECT_EQ(s[1].error, "--max-latency 2ms: cannot be met");
  EXPECT_EQ(s[2].state, "running");
  EXPECT_EQ(s[3].state, "lost");
  EXPECT_TRUE(contains(s[3].error, "job-3.log"));
  EXPECT_EQ(s[4].state, "queued");
  EXPECT_FALSE(finished(s[2]));
  EXPECT_FALSE(finished(s[4]));
  EXPECT_TRUE(finished(s[3]));
  EXPECT_EQ(status_counts(s), "1 done, 1 failed, 1 lost, 1 running, 1 queued; 0 merged");
}

TEST_F(SweepStatusTest, SlurmJobsAskTheQueue) {
  results::ResultsDb main(dir_ / "main.db");
  // Job 2 is listed and started; job 3 started but Slurm lists it no more; job 4 is listed, not started.
  const auto s = job_statuses(main, sweep_, plan_, std::set<int32_t>{2, 4});
  EXPECT_EQ(s[2].state, "running");
  EXPECT_EQ(s[3].state, "lost");
  EXPECT_TRUE(contains(s[3].error, "Slurm no longer lists"));
  EXPECT_EQ(s[4].state, "queued");
  EXPECT_EQ(job_statuses(main, sweep_, plan_, std::set<int32_t>{})[4].state, "lost");
}

TEST_F(SweepStatusTest, MergedJobsCarryTheirMainRunId) {
  results::ResultsDb main(dir_ / "main.db");
  const int64_t id = main.begin_run({"search", "", "", "", 1, 1});
  results::RawDb(dir_ / "main.db")
      .exec("UPDATE runs SET sweep = 'grid', sweep_job = 0 WHERE id = " + std::to_string(id));
  const auto s = job_statuses(main, sweep_, plan_, std::nullopt);
  EXPECT_EQ(s[0].merged_run, id);
  EXPECT_FALSE(s[1].merged_run.has_value());
  EXPECT_TRUE(contains(status_counts(s), "1 merged"));
}

TEST_F(SweepStatusTest, TheReportNamesEveryJobItsStateAndItsError) {
  results::ResultsDb main(dir_ / "main.db");
  const auto s = job_statuses(main, sweep_, plan_, std::nullopt);
  const std::string text = format_status(sweep_, s);
  EXPECT_TRUE(contains(text, "sweep grid (local, 5 jobs"));
  EXPECT_TRUE(contains(text, "--max-latency 2ms: cannot be met"));
  EXPECT_TRUE(contains(text, "latency 90% of budget"));
  EXPECT_TRUE(contains(job_line(s[0], 5), "job 1/5 (nano33 --max-latency 1ms seed 1) done: test accuracy 90.00%"));
  const auto json = status_json(sweep_, s);
  ASSERT_EQ(json["jobs"].size(), 5u);
  EXPECT_EQ(json["jobs"][1]["state"], "failed");
  EXPECT_EQ(json["jobs"][1]["error"], "--max-latency 2ms: cannot be met");
  EXPECT_TRUE(json["jobs"][4]["error"].is_null());
}

TEST_F(SweepStatusTest, ExitCodeIsZeroOnlyWhenEveryJobIsDoneInsideItsBudgets) {
  JobStatus done;
  done.state = "done";
  done.fits = true;
  JobStatus missed = done;
  missed.fits = false;
  JobStatus failed;
  failed.state = "failed";
  EXPECT_EQ(sweep_exit_code({done, done}), 0);
  EXPECT_EQ(sweep_exit_code({done, missed}), 1);
  EXPECT_EQ(sweep_exit_code({done, failed}), 1);
}

TEST_F(SweepStatusTest, ALostJobsResultSaysHowItEnded) {
  const SweepFiles files{dir_};
  const auto killed = lost_job_result(9, true, files, 3);
  EXPECT_EQ(killed["state"], "failed");
  EXPECT_EQ(killed["exit_code"], 137);
  EXPECT_TRUE(contains(killed["error"].get<std::string>(), "killed by signal 9"));
  EXPECT_TRUE(contains(lost_job_result(1, false, files, 3)["error"].get<std::string>(), "exited with status 1"));
}

}  // namespace
}  // namespace nas::sweep
