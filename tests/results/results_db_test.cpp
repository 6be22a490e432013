#include "results/results_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>

#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

using test_support::contains;
using test_support::error_of;

RunStart sample_start(const std::string& config_path = "experiments/fmnist_cnn.yaml", uint64_t seed = 1) {
  return {"train", "name: fmnist_cnn\ntrain:\n  epochs: 3\n", config_path,
          "nas train --config " + config_path, seed, 2};
}

EpochRecord sample_epoch(int32_t epoch, bool with_validation = true) {
  EpochRecord e;
  e.epoch = epoch;
  e.phase = "train";
  e.learning_rate = 0.4 / epoch;
  e.train_loss = 1.0 / epoch;
  e.train_accuracy = 0.5 + 0.01 * epoch;
  if (with_validation) {
    e.val_loss = 0.9 / epoch;
    e.val_accuracy = 0.6 + 0.01 * epoch;
  }
  e.test_loss = 0.8 / epoch;
  e.test_accuracy = 0.7 + 0.01 * epoch;
  e.seconds = 12.5;
  e.images_per_second = 4800.25;
  return e;
}

std::string file_contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool has_sidecar_files(const std::filesystem::path& path) {
  return std::filesystem::exists(path.string() + "-wal") || std::filesystem::exists(path.string() + "-shm") ||
         std::filesystem::exists(path.string() + "-journal");
}

class ResultsDbTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path db_path() const { return dir_ / "mcunas.db"; }

  // Opening `path` must fail with a one-line bad-input error containing `expected`, and leave `path` as it was.
  void expect_refused(const std::filesystem::path& path, const std::string& expected) {
    const bool existed = std::filesystem::exists(path);
    const bool was_directory = std::filesystem::is_directory(path);
    const std::string before = existed && !was_directory ? file_contents(path) : "";
    try {
      ResultsDb db(path);
      ADD_FAILURE() << path << " opened, expected: " << expected;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_TRUE(contains(message, expected)) << message;
      EXPECT_TRUE(contains(message, path.string())) << message;
      EXPECT_FALSE(contains(message, "\n")) << message;
      EXPECT_EQ(e.kind(), Error::Kind::bad_input) << message;
    }
    EXPECT_EQ(std::filesystem::exists(path), existed);
    EXPECT_EQ(std::filesystem::is_directory(path), was_directory);
    if (existed && !was_directory) {
      EXPECT_TRUE(file_contents(path) == before) << path << " was modified";  // no diff: it may be binary
    }
    EXPECT_FALSE(has_sidecar_files(path)) << "SQLite left files beside " << path;
  }
};

const std::regex kIsoUtc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");

TEST_F(ResultsDbTest, RoundTripsARunWithEpochsAndWeights) {
  // Values whose bits a lossy encoding would change: signed zero, a subnormal, extremes, NaN and infinity.
  const std::vector<float> weights = {0.1f, -0.0f, 1.0e-45f, 3.4028235e38f, -1.17549435e-38f,
                                      std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()};
  const std::vector<float> state = {1.5f, 2.25f, -7.0f};
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  db.add_epoch(id, sample_epoch(1, /*with_validation=*/false));
  db.add_epoch(id, sample_epoch(2));
  db.finish_run(id, RunEnd{"done", 0.875, "", weights, state, 123456789});

  const auto run = db.get_run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.id, id);
  EXPECT_EQ(run->summary.kind, "train");
  EXPECT_EQ(run->summary.status, "done");
  EXPECT_TRUE(std::regex_match(run->summary.started_at, kIsoUtc)) << run->summary.started_at;
  EXPECT_TRUE(std::regex_match(run->summary.finished_at, kIsoUtc)) << run->summary.finished_at;
  EXPECT_LE(run->summary.started_at, run->summary.finished_at);
  EXPECT_EQ(run->summary.config_path, "experiments/fmnist_cnn.yaml");
  EXPECT_EQ(run->summary.seed, 1u);
  EXPECT_EQ(run->summary.threads, 2);
  EXPECT_EQ(run->summary.epochs_done, 2);
  EXPECT_EQ(run->summary.test_accuracy, 0.875);
  EXPECT_EQ(run->config_yaml, sample_start().config_yaml);
  EXPECT_EQ(run->command_line, "nas train --config experiments/fmnist_cnn.yaml");
  EXPECT_EQ(run->error, "");
  EXPECT_EQ(run->peak_rss_bytes, 123456789);

  ASSERT_EQ(run->epochs.size(), 2u);
  const EpochRecord& first = run->epochs[0];
  const EpochRecord expected = sample_epoch(1, false);
  EXPECT_EQ(first.epoch, 1);
  EXPECT_EQ(first.phase, "train");
  EXPECT_EQ(first.learning_rate, expected.learning_rate);
  EXPECT_EQ(first.train_loss, expected.train_loss);
  EXPECT_EQ(first.train_accuracy, expected.train_accuracy);
  EXPECT_FALSE(first.val_loss.has_value());
  EXPECT_FALSE(first.val_accuracy.has_value());
  EXPECT_EQ(first.test_loss, expected.test_loss);
  EXPECT_EQ(first.test_accuracy, expected.test_accuracy);
  EXPECT_EQ(first.seconds, 12.5);
  EXPECT_EQ(first.images_per_second, 4800.25);
  EXPECT_EQ(run->epochs[1].epoch, 2);
  EXPECT_EQ(run->epochs[1].val_accuracy, sample_epoch(2).val_accuracy);

  // Bit-for-bit, so that NaN and -0 count too.
  ASSERT_EQ(run->weights.size(), weights.size());
  EXPECT_EQ(std::memcmp(run->weights.data(), weights.data(), weights.size() * sizeof(float)), 0);
  EXPECT_EQ(run->state, state);
}

TEST_F(ResultsDbTest, StoresWeightsAsLittleEndianFloat32WithTheirCount) {
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  db.finish_run(id, RunEnd{"done", 0.5, "", {1.0f, -2.0f}, {}, 1});
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT count FROM weights WHERE name = 'theta_w'"), "2");
  EXPECT_EQ(raw.text("SELECT hex(data) FROM weights WHERE name = 'theta_w'"), "0000803F000000C0");
  EXPECT_EQ(raw.text("SELECT count(*) FROM weights WHERE name = 'state'"), "0");  // empty buffers are not stored
}

TEST_F(ResultsDbTest, KeepsSeedsAboveInt64Max) {
  ResultsDb db(db_path());
  const uint64_t seed = std::numeric_limits<uint64_t>::max();
  const int64_t id = db.begin_run(sample_start("", seed));
  EXPECT_EQ(db.get_run(id)->summary.seed, seed);
}

TEST_F(ResultsDbTest, ListsRunsNewestFirstWithTheirEpochCounts) {
  ResultsDb db(db_path());
  EXPECT_TRUE(db.list_runs().empty());
  const int64_t first = db.begin_run(sample_start("a.yaml"));
  const int64_t second = db.begin_run(sample_start("b.yaml"));
  const int64_t third = db.begin_run(sample_start("c.yaml"));
  for (int32_t epoch = 1; epoch <= 3; ++epoch) db.add_epoch(first, sample_epoch(epoch));
  db.add_epoch(third, sample_epoch(1));
  db.finish_run(first, RunEnd{"done", 0.9, "", {}, {}, 0});

  const auto runs = db.list_runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, third);
  EXPECT_EQ(runs[1].id, second);
  EXPECT_EQ(runs[2].id, first);
  EXPECT_EQ(runs[0].config_path, "c.yaml");
  EXPECT_EQ(runs[0].epochs_done, 1);
  EXPECT_EQ(runs[1].epochs_done, 0);
  EXPECT_EQ(runs[2].epochs_done, 3);
  EXPECT_EQ(runs[0].status, "running");
  EXPECT_EQ(runs[0].finished_at, "");
  EXPECT_FALSE(runs[0].test_accuracy.has_value());
  EXPECT_EQ(runs[2].status, "done");
  EXPECT_EQ(runs[2].test_accuracy, 0.9);
  EXPECT_FALSE(db.get_run(third + 1).has_value());
}

TEST_F(ResultsDbTest, RunsEndFailedOrInterruptedAndThenStayFinal) {
  ResultsDb db(db_path());
  const int64_t failed = db.begin_run(sample_start());
  db.add_epoch(failed, sample_epoch(1));
  db.finish_run(failed, RunEnd{"failed", std::nullopt, "data.idx: truncated file", {}, {}, 42});
  const int64_t interrupted = db.begin_run(sample_start());
  db.finish_run(interrupted, RunEnd{"interrupted", 0.5, "", {0.5f}, {}, 43});

  const auto failed_run = db.get_run(failed);
  EXPECT_EQ(failed_run->summary.status, "failed");
  EXPECT_EQ(failed_run->error, "data.idx: truncated file");
  EXPECT_FALSE(failed_run->summary.test_accuracy.has_value());
  EXPECT_EQ(db.get_run(interrupted)->summary.status, "interrupted");

  // A finished record is final: no more epochs, no second ending, and a refused write changes nothing.
  EXPECT_TRUE(contains(error_of([&] { db.add_epoch(failed, sample_epoch(2)); }), "is failed (expected running)"));
  EXPECT_TRUE(contains(error_of([&] { db.finish_run(interrupted, RunEnd{"done", 1.0, "", {}, {}, 0}); }),
                       "is interrupted (expected running)"));
  EXPECT_EQ(db.get_run(failed)->epochs.size(), 1u);
  EXPECT_EQ(db.get_run(interrupted)->summary.status, "interrupted");
  EXPECT_EQ(db.get_run(interrupted)->summary.test_accuracy, 0.5);

  const int64_t running = db.begin_run(sample_start());
  EXPECT_TRUE(contains(error_of([&] { db.finish_run(running, RunEnd{"running", {}, "", {}, {}, 0}); }),
                       "(expected done, failed or interrupted)"));
  EXPECT_TRUE(contains(error_of([&] { db.finish_run(running, RunEnd{"paused", {}, "", {}, {}, 0}); }), "'paused'"));
  EXPECT_TRUE(contains(error_of([&] { db.add_epoch(running + 1, sample_epoch(1)); }), "no run"));
  EXPECT_EQ(db.get_run(running)->summary.status, "running");
}

TEST_F(ResultsDbTest, AFailedWriteRollsBackAndTheConnectionStaysUsable) {
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  db.add_epoch(id, sample_epoch(1));
  try {
    db.add_epoch(id, sample_epoch(1));  // same (run, phase, epoch): the primary key refuses it
    ADD_FAILURE() << "a duplicate epoch was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::failure);
    EXPECT_TRUE(contains(e.what(), db_path().string() + ": UNIQUE constraint failed")) << e.what();
  }
  // Had the transaction stayed open, this BEGIN would fail ("cannot start a transaction within a transaction").
  db.add_epoch(id, sample_epoch(2));
  EXPECT_EQ(db.get_run(id)->summary.epochs_done, 2);
}

TEST_F(ResultsDbTest, UsesWalModeAndRecordsTheSchemaVersion) {
  { ResultsDb db(db_path()); }
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");  // WAL is a property of the file, so a new connection sees it
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
}

TEST_F(ResultsDbTest, UpgradesAVersionOneDatabaseInPlaceKeepingItsRuns) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());  // what issue 3's mcunas wrote: no search tables, version 1
    raw.exec("DROP TABLE architectures");
    raw.exec("DROP TABLE costs");
    raw.exec("DROP TABLE budget_trace");
    raw.exec("DROP TABLE sweeps");
    raw.exec("DROP INDEX runs_uid");
    for (const char* column : {"uid", "sweep", "sweep_job"}) raw.exec(std::string("ALTER TABLE runs DROP COLUMN ") + column);
    raw.exec("UPDATE mcunas_meta SET value = '1' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  EXPECT_TRUE(db.get_run(id).has_value());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'architectures'"), "1");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'sweeps'"), "1");
  // The old run got an identity (what nas merge matches on), and new runs get distinct ones.
  EXPECT_EQ(raw.text("SELECT length(uid) FROM runs WHERE id = " + std::to_string(id)), "32");
  db.begin_run(sample_start());
  EXPECT_EQ(raw.text("SELECT count(DISTINCT uid) FROM runs"), "2");
}

TEST_F(ResultsDbTest, UpgradesAVersionTwoDatabaseAddingTheRunColumns) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());  // what issue 4's mcunas wrote: no sweeps, no uid
    raw.exec("DROP TABLE sweeps");
    raw.exec("DROP INDEX runs_uid");
    for (const char* column : {"uid", "sweep", "sweep_job"}) raw.exec(std::string("ALTER TABLE runs DROP COLUMN ") + column);
    raw.exec("UPDATE mcunas_meta SET value = '2' WHERE key = 'schema_version'");
  }
  { ResultsDb db(db_path()); }
  { ResultsDb again(db_path()); }  // a second open changes nothing more
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM runs WHERE uid IS NOT NULL AND id = " + std::to_string(id)), "1");
  EXPECT_EQ(raw.text("SELECT count(*) FROM pragma_table_info('runs') WHERE name IN ('sweep', 'sweep_job')"), "2");
}

TEST_F(ResultsDbTest, UpgradesAVersionSixDatabaseAddingTheProcessColumns) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());
    for (const char* column : {"pid", "host", "process_start"})
      raw.exec(std::string("ALTER TABLE runs DROP COLUMN ") + column);
    raw.exec("UPDATE mcunas_meta SET value = '6' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM pragma_table_info('runs') WHERE name IN ('pid', 'host', 'process_start')"),
            "3");
  // A run recorded before version 7 names no process, so nothing can call it stale.
  EXPECT_EQ(db.get_run(id)->summary.status, "running");
}

TEST_F(ResultsDbTest, UpgradesAVersionSevenDatabaseAddingTheCheckpointsTable) {
  {
    ResultsDb db(db_path());
    db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());
    raw.exec("DROP TABLE checkpoints");
    raw.exec("UPDATE mcunas_meta SET value = '7' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'checkpoints'"), "1");
}

TEST_F(ResultsDbTest, UpgradesAVersionEightDatabaseAddingTheShortlistTable) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());
    raw.exec("DROP TABLE shortlist");
    raw.exec("UPDATE mcunas_meta SET value = '8' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'shortlist'"), "1");
  EXPECT_TRUE(db.shortlist(id).empty());
}

// The shortlist is stored whole and replaced whole (a resumed search probes again).
TEST_F(ResultsDbTest, StoresAndReplacesARunsShortlist) {
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  db.store_shortlist(id, {{0, "blocks: [a]\n", -0.5, 0.875, 0.41, false}, {1, "blocks: [b]\n", -1.25, 0.9, 0.35, true}});
  auto stored = db.shortlist(id);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].arch_yaml, "blocks: [b]\n");
  EXPECT_DOUBLE_EQ(stored[1].log_probability, -1.25);
  EXPECT_DOUBLE_EQ(stored[1].holdout_accuracy, 0.9);
  EXPECT_DOUBLE_EQ(stored[0].holdout_loss, 0.41);
  EXPECT_TRUE(stored[1].chosen);
  EXPECT_FALSE(stored[0].chosen);
  db.store_shortlist(id, {{0, "blocks: [c]\n", -0.1, 0.8, 0.5, true}});
  stored = db.shortlist(id);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].arch_yaml, "blocks: [c]\n");
  db.finish_run(id, {"done", 0.9, "", {}, {}, 0});
  EXPECT_THROW(db.store_shortlist(id, {}), Error);  // a finished run's record is final
}

// One checkpoint per run, written in its epoch's transaction, replaced by the next, removed when the run is done
// (unless kept), kept when it is interrupted.
TEST_F(ResultsDbTest, KeepsTheLastCheckpointOfARunUntilItIsDone) {
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  EXPECT_FALSE(db.checkpoint(id));
  const CheckpointRecord first{"train", 1, "request: a", {1, 2, 3}};
  db.add_epoch(id, sample_epoch(1), &first);
  const CheckpointRecord second{"train", 2, "request: a", {4, 5}};
  db.add_epoch(id, sample_epoch(2), &second);
  const auto saved = db.checkpoint(id);
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->phase, "train");
  EXPECT_EQ(saved->epoch, 2);
  EXPECT_EQ(saved->request, "request: a");
  EXPECT_EQ(saved->state, (std::vector<uint8_t>{4, 5}));
  // An epoch that cannot be recorded takes its checkpoint with it: the two never disagree.
  db.finish_run(id, {"interrupted", std::nullopt, "", {}, {}, 0});
  const CheckpointRecord third{"train", 3, "request: a", {6}};
  EXPECT_THROW(db.add_epoch(id, sample_epoch(3), &third), Error);
  EXPECT_EQ(db.checkpoint(id)->epoch, 2);
  // Reopened (as --resume does) and finished: gone, unless kept.
  db.reopen_run(id);
  EXPECT_EQ(db.get_run(id)->summary.status, "running");
  db.finish_run(id, {"done", 0.9, "", {}, {}, 0});
  EXPECT_FALSE(db.checkpoint(id));
  const int64_t kept = db.begin_run(sample_start());
  db.add_epoch(kept, sample_epoch(1), &first);
  RunEnd end{"done", 0.9, "", {}, {}, 0};
  end.keep_checkpoint = true;
  db.finish_run(kept, end);
  EXPECT_TRUE(db.checkpoint(kept));
}

TEST_F(ResultsDbTest, ReopensOnlyRunsThatCanBeResumed) {
  ResultsDb db(db_path());
  const int64_t live = db.begin_run(sample_start());  // this process: alive
  EXPECT_TRUE(contains(error_of([&] { db.reopen_run(live); }), "is still running"));
  db.finish_run(live, {"done", 0.9, "", {}, {}, 0});
  EXPECT_TRUE(contains(error_of([&] { db.reopen_run(live); }), "is done"));
  EXPECT_TRUE(contains(error_of([&] { db.reopen_run(live + 1); }), "no run"));
  // Recorded on another host: nothing here can tell whether it lives, so only a caller that knows takes it over.
  const int64_t elsewhere = db.begin_run(sample_start());
  RawDb raw(db_path());
  raw.exec("UPDATE runs SET host = 'another-host' WHERE id = " + std::to_string(elsewhere));
  EXPECT_TRUE(contains(error_of([&] { db.reopen_run(elsewhere); }), "is still running"));
  db.reopen_run(elsewhere, /*take_over=*/true);
  EXPECT_EQ(db.get_run(elsewhere)->summary.status, "running");
}

// A run still marked running is stale when the process that writes it is known to be gone; the file says running.
TEST_F(ResultsDbTest, ARunWhoseProcessHasEndedIsListedAsStale) {
  ResultsDb db(db_path());
  const int64_t live = db.begin_run(sample_start());
  const int64_t killed = db.begin_run(sample_start());
  const int64_t reused = db.begin_run(sample_start());
  const int64_t elsewhere = db.begin_run(sample_start());
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);  // reaped: its pid names no process now
  RawDb raw(db_path());
  raw.exec("UPDATE runs SET pid = " + std::to_string(child) + " WHERE id = " + std::to_string(killed));
  // Our own pid, but a start that is not ours: the recorded process ended and the pid went to another one.
  raw.exec("UPDATE runs SET process_start = 'another-boot/12345' WHERE id = " + std::to_string(reused));
  raw.exec("UPDATE runs SET pid = " + std::to_string(child) + ", host = 'some-other-host' WHERE id = " +
           std::to_string(elsewhere));
  EXPECT_EQ(db.get_run(live)->summary.status, "running");
  EXPECT_EQ(db.get_run(killed)->summary.status, "stale");
  EXPECT_EQ(db.get_run(reused)->summary.status, "stale");
  EXPECT_EQ(db.get_run(elsewhere)->summary.status, "running");  // nothing is known about another host
  int stale = 0;
  for (const auto& run : db.list_runs()) stale += run.status == "stale";
  EXPECT_EQ(stale, 2);
  EXPECT_EQ(raw.text("SELECT count(*) FROM runs WHERE status = 'running'"), "4");
  db.add_epoch(live, sample_epoch(1));  // the live run still writes
}

TEST_F(ResultsDbTest, AReadOnlyOpenQueriesWithoutWritingAndRefusesWrites) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
    db.add_epoch(id, sample_epoch(1));
  }
  ASSERT_FALSE(has_sidecar_files(db_path()));  // the last writer's close checkpointed the WAL away
  const std::string before = file_contents(db_path());
  {
    ResultsDb db(db_path(), ResultsDb::Access::read_only);
    ASSERT_EQ(db.list_runs().size(), 1u);
    EXPECT_EQ(db.get_run(id)->epochs.size(), 1u);
    const std::string refused = error_of([&] { db.begin_run(sample_start()); });
    EXPECT_TRUE(contains(refused, "readonly")) << refused;
  }
  EXPECT_EQ(file_contents(db_path()), before);
  const std::string missing = error_of([&] { ResultsDb db(dir_ / "missing.db", ResultsDb::Access::read_only); });
  EXPECT_TRUE(contains(missing, "no such results database")) << missing;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.db"));
}

// An older file is upgraded before a query reads it, where it may be written.
TEST_F(ResultsDbTest, AReadOnlyOpenUpgradesAnOlderWritableFileFirst) {
  {
    ResultsDb db(db_path());
    db.begin_run(sample_start());
  }
  {
    RawDb raw(db_path());
    for (const char* column : {"pid", "host", "process_start"})
      raw.exec(std::string("ALTER TABLE runs DROP COLUMN ") + column);
    raw.exec("UPDATE mcunas_meta SET value = '6' WHERE key = 'schema_version'");
  }
  const ResultsDb db(db_path(), ResultsDb::Access::read_only);
  EXPECT_EQ(db.list_runs().size(), 1u);
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
}

TEST_F(ResultsDbTest, StoresASearchsArchitectureCostsAndBudgetTrace) {
  ResultsDb db(db_path());
  RunStart start = sample_start();
  start.kind = "search";
  const int64_t id = db.begin_run(start);
  EpochRecord epoch = sample_epoch(1);
  epoch.phase = "search";
  db.add_search_epoch(id, epoch, {{1, "latency", 0.06, 0.04, 0.05, 2.5}, {1, "ram", 9e4, 8e4, 262144, 1.0}});
  db.store_architecture(id, {"nano33", "blocks: []\n", "layers: []\n", 3, 7,
                             {{"ram", 8e4, 262144.0, "--max-ram 256K"}, {"energy", 2e-4, std::nullopt, ""}}});
  const auto run = db.get_run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.target, "nano33");
  ASSERT_TRUE(run->architecture.has_value());
  EXPECT_EQ(run->architecture->repaired_channels, 3);
  EXPECT_EQ(run->architecture->added_channels, 7);
  ASSERT_EQ(run->architecture->costs.size(), 2u);
  EXPECT_EQ(run->architecture->costs[0].metric, "ram");  // memory first
  EXPECT_EQ(run->architecture->costs[0].budget_source, "--max-ram 256K");
  EXPECT_FALSE(run->architecture->costs[1].budget.has_value());
  ASSERT_EQ(run->budget_trace.size(), 2u);
  EXPECT_EQ(run->budget_trace[0].metric, "latency");
  EXPECT_DOUBLE_EQ(run->budget_trace[0].lambda, 2.5);
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT count(*) FROM costs WHERE run_id = 1 AND budget_source IS NULL"), "1");
}

// Version 5's costs table refused every metric but ram, flash, latency and energy: opening rebuilds it, keeping
// its rows, so MACs and parameters can be stored.
TEST_F(ResultsDbTest, UpgradesAVersionFiveCostsTableToHoldMacsAndParams) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    RunStart start = sample_start();
    start.kind = "search";
    id = db.begin_run(start);
  }
  {
    RawDb raw(db_path());
    raw.exec("DROP TABLE costs");
    raw.exec("CREATE TABLE costs (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, metric TEXT NOT NULL "
             "CHECK (metric IN ('ram', 'flash', 'latency', 'energy')), value REAL NOT NULL, budget REAL, "
             "budget_source TEXT, PRIMARY KEY (run_id, metric))");
    raw.exec("INSERT INTO costs VALUES (" + std::to_string(id) + ", 'latency', 0.04, 0.05, '--max-latency 50ms')");
    raw.exec("DROP TABLE arch_gradient_trace");
    raw.exec("DROP TABLE candidate_accuracy");
    raw.exec("UPDATE mcunas_meta SET value = '5' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT budget_source FROM costs WHERE metric = 'latency'"), "--max-latency 50ms");
  db.store_architecture(id, {"nano33", "blocks: []\n", "layers: []\n", 0, 0,
                             {{"macs", 4.2e5, 5e5, "--max-macs 500K"}, {"params", 6600, std::nullopt, ""}}});
  EXPECT_EQ(raw.text("SELECT count(*) FROM costs WHERE run_id = " + std::to_string(id)), "3");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name IN ('arch_gradient_trace', 'candidate_accuracy')"),
            "2");
}

TEST_F(ResultsDbTest, DeletingARunDeletesItsEpochsAndWeights) {
  ResultsDb db(db_path());
  const int64_t id = db.begin_run(sample_start());
  db.add_epoch(id, sample_epoch(1));
  db.finish_run(id, RunEnd{"done", 0.5, "", {1.0f}, {2.0f}, 0});
  RawDb raw(db_path());
  raw.exec("PRAGMA foreign_keys = ON");
  raw.exec("DELETE FROM runs WHERE id = " + std::to_string(id));
  EXPECT_EQ(raw.text("SELECT count(*) FROM epochs"), "0");
  EXPECT_EQ(raw.text("SELECT count(*) FROM weights"), "0");
}

TEST_F(ResultsDbTest, ReopensAnExistingDatabaseAndAppends) {
  int64_t first = 0;
  {
    ResultsDb db(db_path());
    first = db.begin_run(sample_start("a.yaml"));
    db.add_epoch(first, sample_epoch(1));
    db.finish_run(first, RunEnd{"done", 0.71, "", {1.0f, 2.0f}, {}, 10});
  }
  ResultsDb db(db_path());
  const int64_t second = db.begin_run(sample_start("b.yaml"));
  EXPECT_GT(second, first);
  const auto runs = db.list_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].config_path, "b.yaml");
  const auto old = db.get_run(first);
  EXPECT_EQ(old->summary.status, "done");
  EXPECT_EQ(old->summary.test_accuracy, 0.71);
  EXPECT_EQ(old->epochs.size(), 1u);
  EXPECT_EQ(old->weights, (std::vector<float>{1.0f, 2.0f}));
}

TEST_F(ResultsDbTest, AdoptsAnEmptyFile) {
  const auto path = write_text("empty.db", "");
  ResultsDb db(path);
  EXPECT_EQ(db.begin_run(sample_start()), 1);
}

TEST_F(ResultsDbTest, RefusesAMissingDirectoryWithoutCreatingIt) {
  expect_refused(dir_ / "missing" / "mcunas.db", "cannot create the results database: directory " +
                                                     (dir_ / "missing").string() + " does not exist");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing"));
}

TEST_F(ResultsDbTest, RefusesAFileInPlaceOfTheDirectory) {
  const auto file = write_text("notes.txt", "not a directory\n");
  expect_refused(file / "mcunas.db", "is not a directory");
  EXPECT_EQ(file_contents(file), "not a directory\n");
}

TEST_F(ResultsDbTest, RefusesADirectoryAsTheDatabase) {
  std::filesystem::create_directory(dir_ / "runs");
  expect_refused(dir_ / "runs", "is a directory");
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "runs"));
}

TEST_F(ResultsDbTest, RefusesAnUnwritableDirectory) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes everywhere; access(W_OK) cannot fail";
  const auto locked = dir_ / "locked";
  std::filesystem::create_directory(locked);
  std::filesystem::permissions(locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  expect_refused(locked / "mcunas.db", "is not writable");
  std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
}

TEST_F(ResultsDbTest, RefusesTextAndLeavesItUntouched) {
  expect_refused(write_text("notes.db", "epoch,loss\n1,0.5\n2,0.25\n"), "is not an SQLite database");
  // Shorter than a page: SQLite alone would take this for an empty database and overwrite it.
  expect_refused(write_text("tiny.db", "x"), "is not an SQLite database");
  expect_refused(write_bytes("zeros.db", std::vector<uint8_t>(100, 0)), "is not an SQLite database");
}

TEST_F(ResultsDbTest, RefusesAnSQLiteHeaderFollowedByGarbage) {
  std::vector<uint8_t> bytes(4096, 0xA5);
  const char header[] = "SQLite format 3";  // with its terminating zero: the real 16-byte magic
  std::memcpy(bytes.data(), header, sizeof header);
  expect_refused(write_bytes("damaged.db", bytes), "is not an SQLite database");
  bytes.resize(100);  // the magic, but shorter than the smallest page: a truncated file, not an empty database
  expect_refused(write_bytes("truncated.db", bytes), "is not an SQLite database");
}

TEST_F(ResultsDbTest, RefusesSomebodyElsesSQLiteDatabaseAndLeavesItUntouched) {
  const auto path = dir_ / "other.db";
  {
    RawDb other(path);
    other.exec("CREATE TABLE contacts (name TEXT, phone TEXT)");
    other.exec("INSERT INTO contacts VALUES ('Ada', '555-0100')");
  }
  expect_refused(path, "is an SQLite database but not an mcunas results database");
  RawDb other(path);
  EXPECT_EQ(other.text("PRAGMA journal_mode"), "delete");  // we did not switch it to WAL
  EXPECT_EQ(other.text("SELECT count(*) FROM sqlite_master"), "1");
}

TEST_F(ResultsDbTest, RefusesADatabaseFromANewerSchema) {
  { ResultsDb db(db_path()); }
  {
    RawDb raw(db_path());
    raw.exec("UPDATE mcunas_meta SET value = '11' WHERE key = 'schema_version'");
    raw.exec("PRAGMA journal_mode = DELETE");  // fold the WAL back in, so the file alone holds everything
  }
  expect_refused(db_path(), "schema version 11, this mcunas reads version 10");
}

TEST_F(ResultsDbTest, AnAbandonedWriterLeavesItsFinishedEpochs) {
  int64_t id = 0;
  {
    ResultsDb db(db_path());
    id = db.begin_run(sample_start());
    db.add_epoch(id, sample_epoch(1));
    db.add_epoch(id, sample_epoch(2));
  }  // destroyed without finish_run
  ResultsDb db(db_path());
  const auto run = db.get_run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.status, "running");
  EXPECT_EQ(run->summary.finished_at, "");
  EXPECT_EQ(run->summary.epochs_done, 2);
  EXPECT_EQ(run->epochs.size(), 2u);
  // A later process may still close the record.
  db.finish_run(id, RunEnd{"interrupted", run->epochs.back().test_accuracy, "", {}, {}, 0});
  EXPECT_EQ(db.get_run(id)->summary.status, "interrupted");
}

TEST_F(ResultsDbTest, AKilledWriterLeavesItsFinishedEpochs) {
  // The child dies without closing the connection (no destructor, no checkpoint): its commits live only in the
  // -wal file, as after a crash or SIGKILL, and the next open must recover them from there.
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    try {
      auto* db = new ResultsDb(db_path());  // leaked on purpose
      const int64_t id = db->begin_run(sample_start());
      db->add_epoch(id, sample_epoch(1));
      db->add_epoch(id, sample_epoch(2));
      _exit(id == 1 ? 0 : 3);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(std::filesystem::exists(db_path().string() + "-wal"));

  ResultsDb db(db_path());
  const auto run = db.get_run(1);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.status, "stale");  // the file says running; its process is gone
  EXPECT_EQ(run->epochs.size(), 2u);
  EXPECT_EQ(run->epochs[1].test_accuracy, sample_epoch(2).test_accuracy);
}

}  // namespace
}  // namespace nas::results
