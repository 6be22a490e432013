// The deployments of `nas deploy` in a real SQLite file: stored and read back with their layers, refused for an
// unknown run without a trace, and added to a version 3 file when it is opened.
#include "results/deployment_records.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

class DeploymentRecordsTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path db_path() const { return dir_ / "mcunas.db"; }
};

int64_t some_run(ResultsDb& db) {
  return db.begin_run({"search", "name: x\n", "x.yaml", "nas search", 1, 1});
}

DeploymentRecord qemu_record(int64_t run) {
  DeploymentRecord r;
  r.run_id = run;
  r.target = "nano33";
  r.kind = "qemu";
  r.machine = "mps2-an386";
  r.core = "cortex-m4f";
  r.flash_bytes = 40832;
  r.ram_bytes = 31948;
  r.estimated_flash_bytes = 22797;
  r.estimated_ram_bytes = 31936;
  r.images = 20;
  r.differing_images = 0;
  r.instructions_per_inference = 4539747.5;
  r.estimated_cycles_per_inference = 3163234;
  r.out_dir = "/tmp/fw/qemu";
  r.layers = {{0, "b1.dw", "depthwise", 7056, 197956, 40933}, {1, "b1.pw", "conv1x1", 25088, 1196473.25, 602412}};
  return r;
}

TEST_F(DeploymentRecordsTest, StoresAndReadsBackEveryFieldAndLayer) {
  ResultsDb db(db_path());
  const int64_t run = some_run(db);
  DeploymentRecord board = qemu_record(run);
  board.kind = "board";
  board.machine = "nano33";
  board.images.reset();
  board.differing_images.reset();
  board.instructions_per_inference.reset();
  board.estimated_cycles_per_inference.reset();
  board.layers.clear();
  const int64_t first = store_deployment(db, board);
  const int64_t second = store_deployment(db, qemu_record(run));
  EXPECT_LT(first, second);

  const auto records = deployments_of_run(db, run);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].kind, "board");
  EXPECT_FALSE(records[0].images.has_value());
  EXPECT_FALSE(records[0].instructions_per_inference.has_value());
  EXPECT_TRUE(records[0].layers.empty());
  const auto& q = records[1];
  const auto expected = qemu_record(run);
  EXPECT_EQ(q.id, second);
  EXPECT_EQ(q.machine, "mps2-an386");
  EXPECT_EQ(q.flash_bytes, expected.flash_bytes);
  EXPECT_EQ(q.ram_bytes, expected.ram_bytes);
  EXPECT_EQ(q.estimated_flash_bytes, expected.estimated_flash_bytes);
  EXPECT_EQ(q.estimated_ram_bytes, expected.estimated_ram_bytes);
  EXPECT_EQ(q.images, 20);
  EXPECT_EQ(q.differing_images, 0);
  EXPECT_DOUBLE_EQ(*q.instructions_per_inference, 4539747.5);
  EXPECT_EQ(q.out_dir, "/tmp/fw/qemu");
  EXPECT_FALSE(q.created_at.empty());
  ASSERT_EQ(q.layers.size(), 2u);
  EXPECT_EQ(q.layers[1].name, "b1.pw");
  EXPECT_EQ(q.layers[1].kernel_path, "conv1x1");
  EXPECT_EQ(q.layers[1].macs, 25088);
  EXPECT_DOUBLE_EQ(q.layers[1].instructions, 1196473.25);
  EXPECT_DOUBLE_EQ(q.layers[1].estimated_cycles, 602412);
  EXPECT_TRUE(deployments_of_run(db, run + 1).empty());
}

TEST_F(DeploymentRecordsTest, RefusesAnUnknownRunAndWritesNothing) {
  ResultsDb db(db_path());
  const int64_t run = some_run(db);
  EXPECT_THROW(store_deployment(db, qemu_record(run + 7)), Error);
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT count(*) FROM deployments"), "0");
  EXPECT_EQ(raw.text("SELECT count(*) FROM deployment_layers"), "0");
}

TEST_F(DeploymentRecordsTest, AVersionThreeFileGetsTheTablesWhenOpened) {
  int64_t run = 0;
  {
    ResultsDb db(db_path());
    run = some_run(db);
  }
  {
    RawDb raw(db_path());  // what issue 6's mcunas wrote
    raw.exec("DROP TABLE deployment_layers");
    raw.exec("DROP TABLE deployments");
    raw.exec("UPDATE mcunas_meta SET value = '3' WHERE key = 'schema_version'");
  }
  ResultsDb db(db_path());
  EXPECT_GT(store_deployment(db, qemu_record(run)), 0);
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM deployment_layers"), "2");
}

}  // namespace
}  // namespace nas::results
