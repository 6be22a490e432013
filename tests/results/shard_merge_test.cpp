// nas merge on real SQLite files: runs copied whole with new ids, idempotent by uid, only finished ("done") runs,
// and atomic per shard: a merge killed midway (a forked child that _exits inside the transaction) leaves the main
// database as it was, and the next merge completes it.
#include "results/shard_merge.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

using test_support::contains;
using test_support::error_of;

// A finished search as a sweep job leaves it in its shard: epochs of three phases, a budget trace, architecture,
// costs and weights.
int64_t add_search_run(ResultsDb& db, const std::string& status, double accuracy) {
  const int64_t id = db.begin_run({"search", "search: {}\n", "s.yaml", "nas search --target nano33", 7, 2});
  for (const char* phase : {"warmup", "search", "finetune"}) {
    EpochRecord e;
    e.epoch = 1;
    e.phase = phase;
    e.train_loss = 0.5;
    e.seconds = 1;
    if (std::string(phase) == "search")
      db.add_search_epoch(id, e, {{1, "latency", 0.06, 0.04, 0.05, 2.5}});
    else
      db.add_epoch(id, e);
  }
  if (status == "running") return id;
  db.store_architecture(id, {"nano33", "blocks: []\n", "layers: []\n", 1, 2,
                             {{"latency", 0.04, 0.05, "--max-latency 50ms"}, {"ram", 9e4, 262144.0, "nano33 SRAM"}}});
  RunEnd end;
  end.status = status;
  if (status == "done") end.test_accuracy = accuracy;
  end.weights = {1.f, 2.f, 3.f};
  end.state = {4.f};
  db.finish_run(id, end);
  return id;
}

class ShardMergeTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path main_path() const { return dir_ / "main.db"; }
  std::filesystem::path shard_path(int k) const { return dir_ / ("job-" + std::to_string(k) + ".db"); }
  std::string count(const std::string& sql) { return RawDb(main_path()).text(sql); }
};

TEST_F(ShardMergeTest, CopiesAFinishedRunWithEverythingThatHangsOffIt) {
  {
    ResultsDb main(main_path());
    main.begin_run({"train", "x: 1\n", "t.yaml", "nas train", 1, 2});  // ids in main and shard collide
  }
  {
    ResultsDb shard(shard_path(0));
    add_search_run(shard, "done", 0.875);
  }
  ResultsDb main(main_path());
  const MergeResult r = merge_shard(main, shard_path(0), SweepTag{"sweep-1", 0});
  EXPECT_EQ(r.added, 1);
  EXPECT_EQ(r.already, 0);
  EXPECT_EQ(r.not_done, 0);

  const auto runs = main.list_runs();
  ASSERT_EQ(runs.size(), 2u);
  const auto merged = main.get_run(runs.front().id);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->summary.id, 2);
  EXPECT_EQ(merged->summary.status, "done");
  EXPECT_DOUBLE_EQ(*merged->summary.test_accuracy, 0.875);
  EXPECT_EQ(merged->summary.target, "nano33");
  ASSERT_EQ(merged->epochs.size(), 3u);  // in the order the phases ran
  EXPECT_EQ(merged->epochs[0].phase, "warmup");
  EXPECT_EQ(merged->epochs[1].phase, "search");
  EXPECT_EQ(merged->epochs[2].phase, "finetune");
  ASSERT_EQ(merged->budget_trace.size(), 1u);
  ASSERT_TRUE(merged->architecture.has_value());
  EXPECT_EQ(merged->architecture->costs.size(), 2u);
  EXPECT_EQ(merged->architecture->repaired_channels, 1);
  EXPECT_EQ(merged->weights, (std::vector<float>{1.f, 2.f, 3.f}));
  EXPECT_EQ(merged->state, (std::vector<float>{4.f}));
  EXPECT_EQ(count("SELECT sweep || ':' || sweep_job FROM runs WHERE id = 2"), "sweep-1:0");
  // Same identity in both files.
  EXPECT_EQ(count("SELECT uid FROM runs WHERE id = 2"), RawDb(shard_path(0)).text("SELECT uid FROM runs"));
}

TEST_F(ShardMergeTest, MergingTwiceAddsNothing) {
  {
    ResultsDb shard(shard_path(0));
    add_search_run(shard, "done", 0.8);
    add_search_run(shard, "done", 0.9);
  }
  ResultsDb main(main_path());
  EXPECT_EQ(merge_shard(main, shard_path(0)).added, 2);
  const MergeResult again = merge_shard(main, shard_path(0));
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.already, 2);
  EXPECT_EQ(count("SELECT count(*) FROM runs"), "2");
  EXPECT_EQ(count("SELECT count(*) FROM epochs"), "6");
  EXPECT_EQ(count("SELECT count(*) FROM costs"), "4");
  EXPECT_EQ(count("SELECT count(*) FROM weights"), "4");
}

TEST_F(ShardMergeTest, LeavesOutRunsThatDidNotFinishDone) {
  {
    ResultsDb shard(shard_path(0));
    add_search_run(shard, "failed", 0);
    add_search_run(shard, "interrupted", 0);
    add_search_run(shard, "running", 0);
    add_search_run(shard, "done", 0.7);
  }
  ResultsDb main(main_path());
  const MergeResult r = merge_shard(main, shard_path(0));
  EXPECT_EQ(r.added, 1);
  EXPECT_EQ(r.not_done, 3);
  EXPECT_EQ(count("SELECT group_concat(status) FROM runs"), "done");
  EXPECT_EQ(count("SELECT count(*) FROM epochs"), "3");  // none of the others' epochs
  EXPECT_EQ(count("SELECT count(*) FROM budget_trace"), "1");
}

TEST_F(ShardMergeTest, AMergeKilledMidwayLeavesTheMainDatabaseAsBeforeAndTheNextOneCompletesIt) {
  {
    ResultsDb shard(shard_path(0));
    add_search_run(shard, "done", 0.8);
  }
  { ResultsDb main(main_path()); }
  for (const char* table : {"runs", "epochs", "costs", "budget_trace"}) {
    SCOPED_TRACE(table);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ResultsDb main(main_path());
      // Dies inside the transaction, after `table` was copied: no commit, no rollback, no destructor.
      merge_shard(main, shard_path(0), std::nullopt, [table](const std::string& done) {
        if (done == table) _exit(42);
      });
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 42);  // it really died midway
    for (const char* t : {"runs", "epochs", "weights", "architectures", "costs", "budget_trace"})
      EXPECT_EQ(count(std::string("SELECT count(*) FROM ") + t), "0") << t;
  }
  ResultsDb main(main_path());
  EXPECT_EQ(merge_shard(main, shard_path(0)).added, 1);
  EXPECT_EQ(count("SELECT count(*) FROM epochs"), "3");
  EXPECT_EQ(count("SELECT count(*) FROM weights"), "2");
}

TEST_F(ShardMergeTest, SeveralShardsEachOnce) {
  for (int k = 0; k < 4; ++k) {
    ResultsDb shard(shard_path(k));
    add_search_run(shard, "done", 0.5 + 0.1 * k);
  }
  ResultsDb main(main_path());
  for (int k = 0; k < 4; ++k) merge_shard(main, shard_path(k), SweepTag{"s", k});
  for (int k = 0; k < 4; ++k) merge_shard(main, shard_path(k), SweepTag{"s", k});
  EXPECT_EQ(count("SELECT count(*) FROM runs"), "4");
  EXPECT_EQ(count("SELECT group_concat(sweep_job) FROM (SELECT sweep_job FROM runs ORDER BY sweep_job)"), "0,1,2,3");
}

TEST_F(ShardMergeTest, RefusesAMissingShardAFileThatIsNoDatabaseAndTheMainDatabaseItself) {
  ResultsDb main(main_path());
  EXPECT_TRUE(contains(error_of([&] { merge_shard(main, dir_ / "nope.db"); }), "no such shard"));
  write_text("notes.db", "not a database at all, just text that is long enough to be looked at\n");
  const std::string not_db = error_of([&] { merge_shard(main, dir_ / "notes.db"); });
  EXPECT_TRUE(contains(not_db, "not an SQLite database")) << not_db;
  EXPECT_TRUE(contains(error_of([&] { merge_shard(main, main_path()); }), "main database itself"));
  EXPECT_EQ(count("SELECT count(*) FROM runs"), "0");
}

}  // namespace
}  // namespace nas::results
