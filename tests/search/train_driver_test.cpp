// End to end on synthetic data: a real config file, a real SQLite file, the real training loop.
#include "search/train_driver.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/common/test_support.h"

namespace nas::search {
namespace {

constexpr const char* kConfig = R"(
name: synthetic_cnn
data:
  format: synthetic
  synthetic: {count: 1536, height: 12, width: 12, channels: 1, classes: 4, noise: 0.3, seed: 3}
  validation_split: 256
model:
  layers:
    - {type: conv2d, out: 8, kernel: 3, bias: false}
    - {type: batchnorm}
    - {type: relu}
    - {type: conv2d, out: 16, kernel: 3, stride: 2, bias: false}
    - {type: batchnorm}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: classes}
train:
  epochs: 8
  batch_size: 32
  threads: 2
  optimizer: {type: sgd, momentum: 0.9, weight_decay: 1.0e-4}
  schedule: {type: cosine, lr: 0.1, warmup_epochs: 0.5}
)";

class TrainDriverTest : public test_support::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_text("config.yaml", kConfig);
  }
};

// The stated bar: 8 epochs on this synthetic set reach at least 90 % test accuracy (the classes are separable; a
// broken gradient or loader leaves the net near chance, 25 %).
constexpr double kRequiredAccuracy = 0.90;

TEST_F(TrainDriverTest, TrainsToTheStatedAccuracyAndStoresEveryEpoch) {
  const TrainConfig config = load_train_config(dir_ / "config.yaml");
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const TrainOutcome outcome = run_train(config, db, quiet, "test");
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.epochs_done, 8);
  EXPECT_GE(outcome.test_accuracy, kRequiredAccuracy);
  EXPECT_GT(outcome.peak_rss_bytes, 0);

  const auto run = db.get_run(outcome.run_id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.status, "done");
  ASSERT_EQ(run->epochs.size(), 8u);
  EXPECT_TRUE(run->epochs.back().val_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*run->epochs.back().test_accuracy, outcome.test_accuracy);
  EXPECT_LT(run->epochs.back().train_loss, run->epochs.front().train_loss);
  EXPECT_EQ(static_cast<int64_t>(run->weights.size()), outcome.parameters);
  EXPECT_FALSE(run->state.empty());  // BatchNorm running statistics
}

TEST_F(TrainDriverTest, SameSeedSameWeightsWhateverTheThreadCount) {
  TrainOverrides one_thread, two_threads;
  one_thread.threads = 1;
  one_thread.epochs = two_threads.epochs = 1;
  two_threads.threads = 2;
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const auto a = run_train(load_train_config(dir_ / "config.yaml", one_thread), db, quiet, "a");
  const auto b = run_train(load_train_config(dir_ / "config.yaml", two_threads), db, quiet, "b");
  const auto wa = db.get_run(a.run_id)->weights, wb = db.get_run(b.run_id)->weights;
  ASSERT_EQ(wa.size(), wb.size());
  EXPECT_EQ(wa, wb);  // bit for bit
}

TEST_F(TrainDriverTest, MissingDataFilesLeaveTheDatabaseUntouched) {
  std::string text = kConfig;
  const auto begin = text.find("  format: synthetic"), end = text.find("model:");
  text.replace(begin, end - begin,
               "  format: idx\n  dir: " + (dir_ / "no_such_dir").string() +
                   "\n  train: {images: a.gz, labels: b.gz}\n  test: {images: c.gz, labels: d.gz}\n");
  write_text("bad.yaml", text);
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const TrainConfig config = load_train_config(dir_ / "bad.yaml");  // the config itself is well formed
  try {
    run_train(config, db, quiet, "bad");
    FAIL() << "expected the missing data files to be reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.gz"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
  }
  EXPECT_TRUE(db.list_runs().empty());  // no run was recorded for input that could not even load
}

TEST_F(TrainDriverTest, ADivergingRunIsRecordedAsFailedWithItsReason) {
  std::string text = kConfig;
  text.replace(text.find("lr: 0.1"), 7, "lr: 1.0e+30");  // SGD blows the weights up within a few steps
  write_text("diverge.yaml", text);
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  try {
    run_train(load_train_config(dir_ / "diverge.yaml"), db, quiet, "diverge");
    FAIL() << "expected the diverging loss to stop the run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::failure);
  }
  const auto runs = db.list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  EXPECT_NE(db.get_run(runs[0].id)->error.find("diverged"), std::string::npos);
}

}  // namespace
}  // namespace nas::search
