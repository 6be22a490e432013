// What nas import stores in a real SQLite file: the run and the model's bytes in one transaction (a failure inside
// it leaves no run behind), read back byte for byte; a version 9 file upgraded when opened; the model carried over
// by nas merge; and an imported run refused, with one line, by everything that needs a float network.
#include "results/imported_models.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/error.h"
#include "results/shard_merge.h"
#include "results/stored_network.h"
#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

using test_support::contains;

class ImportedModelsTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path db_path(const char* name = "mcunas.db") const { return dir_ / name; }
};

constexpr const char* kConfig =
    "import: {file: /x/model.tflite, format: tflite, name: model}\n"
    "data:\n  format: synthetic\n  synthetic: {count: 64, height: 6, width: 6, channels: 1, classes: 3, seed: 2}\n";

RunStart import_start() { return {kImportKind, kConfig, "", "nas import model.tflite", 0, 1}; }

ImportedModel model_bytes(uint8_t first) { return {"tflite", "model.tflite", {first, 0, 0xff, 'T', 'F', 'L', '3'}}; }

TEST_F(ImportedModelsTest, StoresTheRunAndTheBytesAndReadsThemBack) {
  ResultsDb db(db_path());
  const int64_t other = db.begin_run({"train", "name: x\n", "x.yaml", "nas train", 1, 1});
  const int64_t id = store_imported_run(db, import_start(), model_bytes(7), 0.75);
  const auto run = db.get_run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.kind, "import");
  EXPECT_EQ(run->summary.status, "done");
  EXPECT_EQ(run->summary.test_accuracy, 0.75);
  EXPECT_EQ(run->config_yaml, kConfig);
  EXPECT_FALSE(run->summary.finished_at.empty());
  const auto back = imported_model_of_run(db, id);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->format, "tflite");
  EXPECT_EQ(back->file_name, "model.tflite");
  EXPECT_EQ(back->bytes, model_bytes(7).bytes);
  EXPECT_FALSE(imported_model_of_run(db, other).has_value());
  EXPECT_FALSE(imported_model_of_run(db, 99).has_value());
}

TEST_F(ImportedModelsTest, AFailureInsideTheStoreLeavesNoRun) {
  ResultsDb db(db_path());
  // The run's own records fail after its row was inserted: the transaction takes the row back with them.
  RunEnd done;
  done.status = "done";
  EXPECT_THROW(db.add_finished_run(import_start(), done, nullptr, [](int64_t) { throw std::runtime_error("disk full"); }),
               std::runtime_error);
  // A format the table does not admit fails inside SQLite (its CHECK), the same way.
  EXPECT_THROW(store_imported_run(db, import_start(), {"onnx", "m.onnx", {1, 2}}, 0.5), Error);
  EXPECT_TRUE(db.list_runs().empty());
  RawDb raw(db_path());
  EXPECT_EQ(raw.text("SELECT count(*) FROM imported_models"), "0");
}

TEST_F(ImportedModelsTest, AVersionNineFileGetsTheTableAndMergeCarriesTheModel) {
  {
    ResultsDb shard(db_path("shard.db"));
    RunEnd done;
    done.status = "done";
    shard.finish_run(shard.begin_run({"train", "name: x\n", "x.yaml", "nas train", 1, 1}), done);
  }
  {
    RawDb raw(db_path("shard.db"));  // what the mcunas before nas import wrote
    raw.exec("DROP TABLE imported_models");
    raw.exec("UPDATE mcunas_meta SET value = '9' WHERE key = 'schema_version'");
  }
  {
    ResultsDb shard(db_path("shard.db"));
    store_imported_run(shard, import_start(), model_bytes(3), 0.5);
  }
  {
    RawDb raw(db_path("shard.db"));
    EXPECT_EQ(raw.text("SELECT value FROM mcunas_meta WHERE key = 'schema_version'"), "10");
  }
  ResultsDb main(db_path());
  store_imported_run(main, import_start(), model_bytes(1), 0.25);
  merge_shard(main, db_path("shard.db"));
  const auto runs = main.list_runs();  // newest first: the merged import, the merged training run, the first import
  ASSERT_EQ(runs.size(), 3u);
  const auto merged = imported_model_of_run(main, runs[0].id);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->bytes, model_bytes(3).bytes);
  EXPECT_EQ(imported_model_of_run(main, runs[2].id)->bytes, model_bytes(1).bytes);
}

TEST_F(ImportedModelsTest, AnImportHasItsDataButNoFloatNetwork) {
  ResultsDb db(db_path());
  const int64_t id = store_imported_run(db, import_start(), model_bytes(5), 0.5);
  try {
    load_stored_network(db, id);
    ADD_FAILURE() << "an imported run gave a float network";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
    EXPECT_TRUE(contains(e.what(), "is an int8 model brought in by nas import")) << e.what();
  }
  const StoredNetwork stored = load_stored_data(db, id);
  EXPECT_EQ(stored.net, nullptr);
  EXPECT_EQ(stored.run.kind, "import");
  EXPECT_EQ(stored.data.test.batch_shape(1), (supernet::Shape{1, 6, 6, 1}));
  EXPECT_EQ(stored.data.test.num_classes, 3);
}

}  // namespace
}  // namespace nas::results
