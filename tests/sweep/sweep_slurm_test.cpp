// The Slurm executor's own text handling: squeue's task lists and the job script (the real sbatch and squeue run
// in tests/integration/slurm_sweep_test.sh).
#include "sweep/sweep_slurm.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace nas::sweep {
namespace {

using test_support::contains;

TEST(SweepSlurmTest, ReadsSplitAndPendingArrayTasks) {
  EXPECT_EQ(parse_squeue_tasks("17_0\n17_3\n"), (std::set<int32_t>{0, 3}));
  EXPECT_EQ(parse_squeue_tasks("17_[4-6,9%2]\n17_1\n"), (std::set<int32_t>{1, 4, 5, 6, 9}));
  EXPECT_EQ(parse_squeue_tasks("17_[8]\n"), (std::set<int32_t>{8}));
  EXPECT_TRUE(parse_squeue_tasks("").empty());
  EXPECT_TRUE(parse_squeue_tasks("18\n").empty());  // not an array task
}

TEST(SweepSlurmTest, TheJobScriptQuotesPathsAndRecordsADeathWithoutAResult) {
  SweepRecord sweep;
  sweep.name = "s1";
  sweep.dir = "/shared/it's here";
  const std::string script = slurm_job_script(sweep, "/opt/nas build/nas");
  EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0u);
  EXPECT_TRUE(contains(script, "'/opt/nas build/nas' sweep-job '/shared/it'\\''s here' \"$k\""));
  EXPECT_TRUE(contains(script, "k=\"$SLURM_ARRAY_TASK_ID\""));
  EXPECT_TRUE(contains(script, "if [ ! -e '/shared/it'\\''s here'/job-\"$k\".json ]"));
  EXPECT_TRUE(contains(script, "\"state\":\"failed\""));
  EXPECT_TRUE(contains(script, "exit \"$rc\""));
}

}  // namespace
}  // namespace nas::sweep
