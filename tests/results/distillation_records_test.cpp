// What distillation and nas finetune store in a real SQLite file: read back field for field, teachers and sources
// found by uid (and reported missing when they are not in the file), a version 4 file upgraded when opened, and the
// records carried over by nas merge.
#include "results/distillation_records.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "results/shard_merge.h"
#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

using test_support::contains;

class DistillationRecordsTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path db_path(const char* name = "mcunas.db") const { return dir_ / name; }
};

int64_t finished_run(ResultsDb& db, const char* kind) {
  const int64_t id = db.begin_run({kind, "name: x\n", "x.yaml", "nas", 1, 1});
  RunEnd end;
  end.status = "done";
  end.test_accuracy = 0.5;
  db.finish_run(id, end);
  return id;
}

TEST_F(DistillationRecordsTest, StoresAndReadsBackEveryField) {
  ResultsDb db(db_path());
  const int64_t teacher = finished_run(db, "train"), search = finished_run(db, "search");
  const int64_t student = db.begin_run({"finetune", "name: x\n", "x.yaml", "nas finetune", 2, 1});
  DistillationRecord record;
  record.teacher_uid = run_uid(db, teacher);
  record.alpha = 0.25;
  record.temperature = 6;
  record.phases = "finetune";
  record.teacher_logits = "on the fly";
  store_distillation(db, student, record);
  store_finetune_source(db, student, run_uid(db, search));
  store_finetune_start(db, search, {{1.5f, -2.0f, 3.0f}, {0.25f}});

  const auto back = distillation_of_run(db, student);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->teacher_run_id, teacher);
  EXPECT_EQ(back->teacher_uid, record.teacher_uid);
  EXPECT_EQ(back->alpha, 0.25);
  EXPECT_EQ(back->temperature, 6.0);
  EXPECT_EQ(back->phases, "finetune");
  EXPECT_EQ(back->teacher_logits, "on the fly");
  EXPECT_EQ(finetune_source_of_run(db, student)->search_run_id, search);
  const auto start = finetune_start_of_run(db, search);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->weights, (std::vector<float>{1.5f, -2.0f, 3.0f}));
  EXPECT_EQ(start->state, (std::vector<float>{0.25f}));
  EXPECT_FALSE(distillation_of_run(db, search).has_value());
  EXPECT_FALSE(finetune_start_of_run(db, student).has_value());
  EXPECT_EQ(distillation_lines(db, search), "");
  const std::string lines = distillation_lines(db, student);
  EXPECT_TRUE(contains(lines, "distilled from: run " + std::to_string(teacher) + " (alpha 0.25, T 6, in finetune, "
                              "teacher logits on the fly)"))
      << lines;
  EXPECT_EQ(distillation_json(db, student)["distillation"]["teacher_run"], teacher);
  EXPECT_THROW(run_uid(db, 77), Error);
}

TEST_F(DistillationRecordsTest, AVersionFourFileGetsTheTablesAndMergeCarriesTheRecords) {
  int64_t teacher = 0, student = 0;
  {
    ResultsDb shard(db_path("shard.db"));
    teacher = finished_run(shard, "train");
    student = finished_run(shard, "train");
  }
  {
    RawDb raw(db_path("shard.db"));  // what issue 8's mcunas wrote
    for (const char* table : {"distillations", "finetune_starts", "finetune_sources"})
      raw.exec(std::string("DROP TABLE ") + table);
    raw.exec("UPDATE mcunas_meta SET value = '4' WHERE key = 'schema_version'");
  }
  {
    ResultsDb shard(db_path("shard.db"));
    store_distillation(shard, student, {run_uid(shard, teacher), std::nullopt, 0.5, 4.0, "train", "cached"});
  }
  RawDb raw(db_path("shard.db"));
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");

  // Merged into a file that already has a run: ids change, the teacher is still found by its uid.
  ResultsDb main(db_path());
  finished_run(main, "search");
  merge_shard(main, db_path("shard.db"));
  const auto runs = main.list_runs();  // newest first: the merged student, the merged teacher, the first run
  ASSERT_EQ(runs.size(), 3u);
  const auto merged = distillation_of_run(main, runs[0].id);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->teacher_run_id, runs[1].id);
}

}  // namespace
}  // namespace nas::results
