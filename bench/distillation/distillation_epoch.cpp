// The cost of distillation per student epoch (issue 9: at most the teacher's own forward pass more). On the first
// --images Fashion-MNIST training images, with the student of experiments/fmnist_cnn.yaml and the teacher of
// experiments/kd/teacher.yaml (weights as initialised: the timing does not depend on them), it times
//   plain      one student epoch with the cross-entropy;
//   forward    the teacher's forward pass (inference mode) over the same images: the allowance;
//   cached     building the cache (one teacher forward pass), then one distilled epoch reading it;
//   on the fly one distilled epoch that runs the teacher on every batch (what augmentation needs);
// each after an untimed warm-up epoch, and prints one JSON line with the overheads over the plain epoch as shares of
// the teacher's forward pass (<= 1 meets the target).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/threads.h"
#include "supernet/data_spec.h"
#include "supernet/network_builder.h"
#include "supernet/teacher_logits.h"
#include "supernet/trainer.h"

using namespace nas::supernet;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the student epoch with and without distillation, against the teacher's forward pass"};
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string student_config = std::string(MCUNAS_SOURCE_DIR) + "/experiments/fmnist_cnn.yaml";
  std::string teacher_config = std::string(MCUNAS_SOURCE_DIR) + "/experiments/kd/teacher.yaml";
  int threads = 2, batch = 128, images = 10000;
  app.add_option("--data-dir", data_dir, "Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--student", student_config, "experiment whose model: is the student")->capture_default_str();
  app.add_option("--teacher", teacher_config, "experiment whose model: is the teacher")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--images", images, "training images per epoch")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    nas::ThreadBudget budget(threads);
    const YAML::Node data_node = YAML::Load("{dataset: fashion-mnist, dir: '" + data_dir + "'}");
    DataSplits data = load_data(parse_data_spec(data_node, "."), 1);
    data.train.count = std::min(images, data.train.count);
    const Shape input = data.train.batch_shape(1);
    const int32_t classes = data.train.num_classes;
    Network teacher = build_network(YAML::LoadFile(teacher_config)["model"], input, classes, 2);
    BatchLoader loader(data.train, batch, /*shuffle=*/true, Augment{}, 1);
    ScheduleSpec constant;
    constant.type = "constant";
    constant.lr = 0.01;
    const LrSchedule schedule(constant, loader.batches_per_epoch(), 1);

    // One warmed-up, timed epoch of a fresh student; the student is rebuilt so that every variant starts alike.
    const auto student_epoch = [&](const Distillation* distillation) {
      Network student = build_network(YAML::LoadFile(student_config)["model"], input, classes, 1);
      auto optimizer = make_optimizer(OptimizerSpec{}, student.params());
      EpochPlan plan;
      plan.distillation = distillation;
      plan.epoch = 1000;  // warm-up: allocations, page faults, thread start-up
      train_epoch(student, *optimizer, schedule, loader, plan);
      plan.epoch = 0;
      return train_epoch(student, *optimizer, schedule, loader, plan).seconds;
    };

    const double plain = student_epoch(nullptr);
    TeacherLogits::cached(teacher, data.train, 500);  // warm-up of the teacher's buffers
    auto start = std::chrono::steady_clock::now();
    TeacherLogits cache = TeacherLogits::cached(teacher, data.train, batch);
    const double forward = seconds_since(start);
    const Distillation cached{&cache, {0.5, 4.0}};
    const double cached_epoch = student_epoch(&cached);
    TeacherLogits fly = TeacherLogits::on_the_fly(teacher);
    const Distillation on_the_fly{&fly, {0.5, 4.0}};
    const double fly_epoch = student_epoch(&on_the_fly);

    std::fprintf(stderr, "%d images, %d threads: student epoch %.2f s plain, %.2f s distilled from the cache (built in "
                 "%.2f s), %.2f s distilled on the fly; teacher forward pass %.2f s\n",
                 data.train.count, threads, plain, cached_epoch, forward, fly_epoch, forward);
    const nlohmann::json out = {{"images", data.train.count},
                                {"threads", threads},
                                {"plain_epoch_s", plain},
                                {"teacher_forward_s", forward},
                                {"cached_epoch_s", cached_epoch},
                                {"on_the_fly_epoch_s", fly_epoch},
                                {"cached_overhead_of_forward", (cached_epoch - plain) / forward},
                                {"on_the_fly_overhead_of_forward", (fly_epoch - plain) / forward}};
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distillation_epoch: %s\n", e.what());
    return 1;
  }
  return 0;
}
