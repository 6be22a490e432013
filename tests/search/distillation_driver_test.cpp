// Knowledge distillation end to end on synthetic data, with a real SQLite file: a residual teacher trained by
// nas train, a search distilled from it, `nas finetune` from the search's stored start (with and without the
// teacher), what the database records, and the refusals that must leave it untouched.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "common/error.h"
#include "results/distillation_records.h"
#include "search/finetune_driver.h"
#include "search/search_driver.h"
#include "search/train_driver.h"
#include "tests/common/test_support.h"

namespace nas::search {
namespace {

using test_support::contains;
using test_support::error_of;

constexpr const char* kData = R"(
data:
  format: synthetic
  synthetic: {count: 768, height: 8, width: 8, channels: 1, classes: CLASSES, noise: 0.3, seed: 3}
)";

// A small ResNet-style teacher: stem, one basic block with an identity shortcut, one with a projection.
constexpr const char* kTeacher = R"(
name: residual_teacher
model:
  layers:
    - {name: stem, type: conv2d, out: 8, kernel: 3, bias: false}
    - {type: batchnorm}
    - {name: stem_relu, type: relu}
    - {type: conv2d, out: 8, kernel: 3, bias: false}
    - {type: batchnorm}
    - {type: relu}
    - {type: conv2d, out: 8, kernel: 3, bias: false}
    - {name: bn2, type: batchnorm}
    - {name: join1, type: add, inputs: [bn2, stem_relu]}
    - {name: out1, type: relu}
    - {type: conv2d, out: 16, kernel: 3, stride: 2, bias: false}
    - {type: batchnorm}
    - {type: relu}
    - {type: conv2d, out: 16, kernel: 3, bias: false}
    - {name: bn4, type: batchnorm}
    - {name: proj, type: conv2d, input: out1, out: 16, kernel: 1, stride: 2, padding: 0, bias: false}
    - {name: proj_bn, type: batchnorm}
    - {name: join2, type: add, inputs: [bn4, proj_bn]}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: classes}
train:
  epochs: 4
  batch_size: 32
  threads: 2
  schedule: {type: cosine, lr: 0.1}
)";

constexpr const char* kSearch = R"(
name: small_search
search_space:
  blocks:
    - {name: b1, out: 8, stride: 1, ops: [conv3x3, dwsep3x3]}
    - {name: b2, out: 16, stride: 2, ops: [conv3x3, dwsep3x3]}
search:
  epochs: {warmup: 1, search: 1, finetune: 2}
  batch_size: 32
  seed: 5
  threads: 2
)";

std::string with_data(const char* config, int classes) {
  std::string data = kData;
  data.replace(data.find("CLASSES"), 7, std::to_string(classes));
  return config + data;
}

class DistillationDriverTest : public test_support::TempDirTest {
 protected:
  int64_t train_teacher(results::ResultsDb& db, int classes) {
    return train_teacher_on(db, with_data(kTeacher, classes));
  }
  int64_t train_teacher_on(results::ResultsDb& db, const std::string& config) {
    write_text("teacher.yaml", config);
    return run_train(load_train_config(dir_ / "teacher.yaml"), db, quiet_, "test").run_id;
  }
  SearchRequest search_request() {
    write_text("search.yaml", with_data(kSearch, 4));
    SearchRequest request{load_search_config(dir_ / "search.yaml"), "nano33", {}, "test"};
    request.budgets.max_latency = "1ms";
    return request;
  }
  int64_t runs(const results::ResultsDb& db) const { return static_cast<int64_t>(db.list_runs().size()); }

  Progress quiet_{Progress::Mode::quiet};
};

TEST_F(DistillationDriverTest, SearchAndFinetuneRecordTheTeacherAndFinetuneRepeatsTheSearch) {
  results::ResultsDb db(dir_ / "results.db");
  const int64_t teacher = train_teacher(db, 4);
  ASSERT_GT(*db.get_run(teacher)->summary.test_accuracy, 0.6);  // a teacher worth listening to (chance: 25 %)

  SearchRequest request = search_request();
  request.teacher = TeacherSpec{teacher, {0.3, 2.0}, /*in_search=*/true};
  const SearchOutcome distilled = run_search(request, db, quiet_);
  ASSERT_EQ(distilled.status, "done");
  const auto record = results::distillation_of_run(db, distilled.run_id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->teacher_run_id, teacher);
  EXPECT_EQ(record->teacher_uid, results::run_uid(db, teacher));
  EXPECT_DOUBLE_EQ(record->alpha, 0.3);
  EXPECT_DOUBLE_EQ(record->temperature, 2.0);
  EXPECT_EQ(record->phases, "search+finetune");
  EXPECT_EQ(record->teacher_logits, "cached");  // no augmentation in this config

  // Without a teacher and with the search's seed, nas finetune repeats the search's own fine-tuning exactly.
  request.teacher.reset();
  const SearchOutcome plain = run_search(request, db, quiet_);
  EXPECT_FALSE(results::distillation_of_run(db, plain.run_id).has_value());
  ASSERT_TRUE(results::finetune_start_of_run(db, plain.run_id).has_value());
  // --teacher-in-search: the warm-up epoch already trained on the distillation loss.
  EXPECT_NE(db.get_run(distilled.run_id)->epochs.at(0).train_loss, db.get_run(plain.run_id)->epochs.at(0).train_loss);
  const FinetuneOutcome again = run_finetune({plain.run_id, {}, {}, {}, {}, "test"}, db, quiet_);
  ASSERT_EQ(again.status, "done");
  EXPECT_EQ(again.test_accuracy, plain.test_accuracy);
  const auto again_run = db.get_run(again.run_id), plain_run = db.get_run(plain.run_id);
  EXPECT_EQ(again_run->summary.kind, "finetune");
  EXPECT_EQ(again_run->weights, plain_run->weights);
  EXPECT_EQ(again_run->architecture->model_yaml, plain_run->architecture->model_yaml);
  EXPECT_EQ(again_run->architecture->costs.size(), plain_run->architecture->costs.size());
  EXPECT_EQ(results::finetune_source_of_run(db, again.run_id)->search_run_id, plain.run_id);

  // With the teacher, from the same start: another run that records it; the weights differ.
  FinetuneRequest with_teacher{plain.run_id, 3, 7, {}, TeacherSpec{teacher, {0.5, 4.0}, false}, "test"};
  const FinetuneOutcome kd = run_finetune(with_teacher, db, quiet_);
  ASSERT_EQ(kd.status, "done");
  EXPECT_EQ(db.get_run(kd.run_id)->epochs.size(), 3u);
  EXPECT_EQ(results::distillation_of_run(db, kd.run_id)->phases, "finetune");
  EXPECT_NE(db.get_run(kd.run_id)->weights, plain_run->weights);
  EXPECT_TRUE(contains(results::distillation_lines(db, kd.run_id), fmt::format("distilled from: run {}", teacher)));
  EXPECT_TRUE(
      contains(results::distillation_lines(db, kd.run_id), fmt::format("fine-tuned from: run {}", plain.run_id)));
}

TEST_F(DistillationDriverTest, PlainTrainingWithATeacherRecordsIt) {
  results::ResultsDb db(dir_ / "results.db");
  const int64_t teacher = train_teacher(db, 4);
  const TrainConfig student = load_train_config(write_text("student.yaml", with_data(R"(
name: student
model:
  layers:
    - {type: conv2d, out: 4, kernel: 3}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: classes}
train: {epochs: 2, batch_size: 32, threads: 2}
)", 4)));
  const TrainOutcome outcome = run_train(student, db, quiet_, "test", TeacherSpec{teacher, {0.7, 3.0}, false});
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(results::distillation_of_run(db, outcome.run_id)->phases, "train");
}

TEST_F(DistillationDriverTest, BadTeachersAreRefusedBeforeAnythingIsRecorded) {
  results::ResultsDb db(dir_ / "results.db");
  const int64_t three_classes = train_teacher(db, 3);
  SearchRequest request = search_request();
  const int64_t before = runs(db);

  request.teacher = TeacherSpec{99, {}, false};
  EXPECT_TRUE(contains(error_of([&] { run_search(request, db, quiet_); }), "--teacher 99: run 99: no such run"));
  request.teacher = TeacherSpec{three_classes, {}, false};
  const std::string classes = error_of([&] { run_search(request, db, quiet_); });
  EXPECT_TRUE(contains(classes, fmt::format("--teacher {}: run {} has 3 output classes but the student's data has 4",
                                            three_classes, three_classes)))
      << classes;
  EXPECT_EQ(classes.find('\n'), std::string::npos);

  // Other inputs: a shape, a normalisation. An unfinished run.
  std::string bigger = with_data(kTeacher, 4);
  bigger.replace(bigger.find("height: 8, width: 8"), 19, "height: 10, width: 10");
  request.teacher = TeacherSpec{train_teacher_on(db, bigger), {}, false};
  EXPECT_TRUE(contains(error_of([&] { run_search(request, db, quiet_); }), "takes 10x10x1 images but the student's "
                                                                           "are 8x8x1"));
  request.teacher = TeacherSpec{train_teacher_on(db, with_data(kTeacher, 4) + "  normalize: false\n"), {}, false};
  EXPECT_TRUE(contains(error_of([&] { run_search(request, db, quiet_); }), "normalised with mean"));
  const int64_t running = db.begin_run({"train", "name: x\n", "x.yaml", "nas", 1, 1});
  request.teacher = TeacherSpec{running, {}, false};
  EXPECT_TRUE(contains(error_of([&] { run_search(request, db, quiet_); }), "is 'running', not finished"));
  EXPECT_EQ(runs(db), before + 3);  // the three teachers; no search

  // nas finetune: only a finished search with a stored start.
  EXPECT_TRUE(contains(error_of([&] { run_finetune({42, {}, {}, {}, {}, "test"}, db, quiet_); }), "no run 42"));
  EXPECT_TRUE(contains(error_of([&] { run_finetune({three_classes, {}, {}, {}, {}, "test"}, db, quiet_); }),
                       "is a run of kind train"));
  EXPECT_EQ(runs(db), before + 3);
  EXPECT_TRUE(contains(error_of([] { check_distillation_settings({1.5, 4.0}); }), "--alpha: must be in [0, 1]"));
  EXPECT_TRUE(contains(error_of([] { check_distillation_settings({0.5, 0.0}); }), "--temperature: must be"));
}

}  // namespace
}  // namespace nas::search
