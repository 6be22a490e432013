// The mcunas side of bench/train_vs_torch: one timed training epoch of the reference CNN
// (experiments/fmnist_cnn.yaml) on Fashion-MNIST, after a short untimed warm-up, then the test accuracy.
// Prints one JSON line on stdout (what run.sh compares) and the per-layer time split on stderr.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <iostream>

#include "common/threads.h"
#include "search/train_driver.h"
#include "supernet/data_spec.h"
#include "supernet/network_builder.h"
#include "supernet/trainer.h"

using namespace nas::supernet;

int main(int argc, char** argv) {
  CLI::App app{"one training epoch of the reference CNN, timed"};
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string config = std::string(MCUNAS_SOURCE_DIR) + "/experiments/fmnist_cnn.yaml";
  int threads = 2, batch = 128, warmup_steps = 20;
  uint64_t seed = 1;
  double lr = 0.1;
  app.add_option("--data-dir", data_dir, "Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--config", config, "experiment whose model: section is trained")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--warmup-steps", warmup_steps)->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--lr", lr)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    nas::ThreadBudget budget(threads);
    // The same data for both sides: the four idx files, scaled to [0, 1] and normalised with the training set's
    // mean and standard deviation, no augmentation.
    const YAML::Node data_node = YAML::Load("{dataset: fashion-mnist, dir: '" + data_dir + "'}");
    DataSplits data = load_data(parse_data_spec(data_node, "."), seed);
    Network net = build_network(YAML::LoadFile(config)["model"], data.train.batch_shape(1), data.train.num_classes, seed);
    // The optimiser of the PyTorch side: SGD, momentum 0.9 (not Nesterov), weight decay 5e-4 on weights, constant lr.
    OptimizerSpec opt;
    opt.nesterov = false;
    auto optimizer = make_optimizer(opt, net.params());
    ScheduleSpec constant;
    constant.type = "constant";
    constant.lr = lr;
    BatchLoader loader(data.train, batch, /*shuffle=*/true, Augment{}, seed);
    const LrSchedule schedule(constant, loader.batches_per_epoch(), 1);

    // Warm-up: the first batches of a throwaway epoch, untimed (allocations, page faults, thread start-up).
    {
      Tensor images, grad;
      std::vector<int32_t> labels;
      loader.start_epoch(1000);
      for (int step = 0; step < warmup_steps && loader.next(images, labels); ++step) {
        softmax_cross_entropy(net.forward(images, true), labels, &grad);
        net.backward(grad);
        optimizer->step(net.params(), lr);
      }
    }
    net.set_profiling(true);
    const EpochResult epoch = train_epoch(net, *optimizer, schedule, loader, EpochPlan{});
    net.set_profiling(false);
    const EpochResult test = evaluate(net, data.test, 1000);

    double layer_seconds = 0;
    for (const auto& node : net.profile()) layer_seconds += node.forward_seconds + node.backward_seconds;
    std::fprintf(stderr, "mcunas epoch %.2f s; per layer (forward + backward):\n", epoch.seconds);
    for (const auto& node : net.profile())
      std::fprintf(stderr, "  %-22s %-16s %6.2f s + %6.2f s\n", node.name.c_str(), node.type.c_str(),
                   node.forward_seconds, node.backward_seconds);
    std::fprintf(stderr, "  outside the layers (batches, loss, optimiser): %.2f s\n", epoch.seconds - layer_seconds);

    const nlohmann::json out = {{"impl", "mcunas"},
                                {"threads", threads},
                                {"batch", batch},
                                {"warmup_steps", warmup_steps},
                                {"epoch_seconds", epoch.seconds},
                                {"images_per_second", static_cast<double>(epoch.images) / epoch.seconds},
                                {"train_loss", epoch.loss},
                                {"test_accuracy", test.accuracy},
                                {"peak_rss_bytes", nas::search::peak_rss_bytes()}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_vs_torch_mcunas: %s\n", e.what());
    return 1;
  }
  return 0;
}
