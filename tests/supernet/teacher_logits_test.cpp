// Teacher logits for distilled training: the loader's batch indices, cached logits equal to the teacher's own
// forward pass on every shuffled batch, a distilled epoch at α = 1 equal to a plain one, and distillation at α = 0
// pulling the student's predictions towards the teacher's.
#include "supernet/teacher_logits.h"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <cmath>

#include "supernet/network_builder.h"
#include "supernet/trainer.h"

namespace nas::supernet {
namespace {

constexpr const char* kModel = R"(
layers:
  - {type: conv2d, out: 6, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

Dataset synthetic(int32_t count) {
  SyntheticSpec spec;
  spec.count = count;
  spec.height = spec.width = 6;
  spec.num_classes = 3;
  spec.seed = 9;
  return make_synthetic(spec);
}

Network network(uint64_t seed) { return build_network(YAML::Load(kModel), {1, 6, 6, 1}, 3, seed); }

TEST(TeacherLogits, BatchIndicesNameTheItemsOfTheBatch) {
  const Dataset data = synthetic(50);
  BatchLoader loader(data, 16, /*shuffle=*/true, {}, 3);
  loader.start_epoch(2);
  Tensor images;
  std::vector<int32_t> labels;
  int32_t seen = 0;
  while (loader.next(images, labels)) {
    const auto indices = loader.batch_indices();
    ASSERT_EQ(indices.size(), labels.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      EXPECT_EQ(data.labels[static_cast<size_t>(indices[i])], labels[i]);
      const auto first_pixel = static_cast<size_t>(indices[i] * data.item_size());
      EXPECT_EQ(data.images[first_pixel], images.item(static_cast<int32_t>(i))[0]);
    }
    seen += static_cast<int32_t>(indices.size());
  }
  EXPECT_EQ(seen, 50);
}

TEST(TeacherLogits, CachedLogitsAreTheTeachersForwardPassOnEveryBatch) {
  const Dataset data = synthetic(70);
  Network teacher = network(1);
  TeacherLogits cached = TeacherLogits::cached(teacher, data, 32);  // batches of 32 that do not divide 70
  EXPECT_TRUE(cached.is_cached());
  TeacherLogits fly = TeacherLogits::on_the_fly(teacher);
  BatchLoader loader(data, 16, /*shuffle=*/true, {}, 4);
  Tensor images;
  std::vector<int32_t> labels;
  while (loader.next(images, labels)) {
    const Tensor expected = fly.for_batch(images, loader.batch_indices());  // a copy: the next forward reuses it
    const Tensor& got = cached.for_batch(images, loader.batch_indices());
    ASSERT_EQ(got.size(), expected.size());
    // Batched differently (32 vs 16 items), the same inputs give the same logits up to float summation order.
    for (int64_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5f * (1 + std::fabs(expected[i])));
  }
  EXPECT_GT(fly.seconds(), 0);
}

TEST(TeacherLogits, AlphaOneIsPlainTrainingAndAlphaZeroFollowsTheTeacher) {
  const Dataset data = synthetic(96);
  const OptimizerSpec sgd;
  ScheduleSpec constant;
  constant.type = "constant";
  constant.lr = 0.05;

  const auto train = [&](const Distillation* distillation, Network& net) {
    auto optimizer = make_optimizer(sgd, net.params());
    BatchLoader loader(data, 16, /*shuffle=*/true, {}, 2);
    const LrSchedule schedule(constant, loader.batches_per_epoch(), 3);
    for (int32_t epoch = 0; epoch < 3; ++epoch) {
      EpochPlan plan{epoch, int64_t{epoch} * loader.batches_per_epoch(), 0.0};
      plan.distillation = distillation;
      train_epoch(net, *optimizer, schedule, loader, plan);
    }
  };
  Network teacher = network(1);
  train(nullptr, teacher);  // a teacher with confident, non-uniform predictions
  TeacherLogits logits = TeacherLogits::cached(teacher, data, 32);
  Network plain = network(7), label_only = network(7);
  train(nullptr, plain);
  const Distillation alpha_one{&logits, {1.0, 4.0}};
  train(&alpha_one, label_only);
  ASSERT_EQ(plain.params().theta().size(), label_only.params().theta().size());
  for (size_t i = 0; i < plain.params().theta().size(); ++i)
    ASSERT_EQ(plain.params().theta()[i], label_only.params().theta()[i]) << "parameter " << i;

  // α = 0: only the teacher's softened distribution; the student's KL from it must fall.
  const auto kl_to_teacher = [&](Network& student) {
    Tensor images(data.batch_shape(data.count));
    std::copy(data.images.begin(), data.images.end(), images.data());
    const Tensor s = student.forward(images, /*training=*/false);
    const Tensor& t = teacher.forward(images, /*training=*/false);
    const std::vector<int32_t> labels(data.labels.begin(), data.labels.end());
    return distillation_loss(s, t, labels, {0.0, 1.0}, nullptr).loss;
  };
  Network student = network(7);
  const double before = kl_to_teacher(student);
  const Distillation soft_only{&logits, {0.0, 2.0}};
  train(&soft_only, student);
  EXPECT_LT(kl_to_teacher(student), 0.5 * before);
}

}  // namespace
}  // namespace nas::supernet
