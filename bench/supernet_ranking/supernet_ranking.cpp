// Does the warmed-up supernet rank architectures as training them does? (issue 17: "Kendall τ between
// supernet-estimated and fine-tuned accuracy over ≥ 8 architectures".)
//
// Trains the supernet of a search config for its warm-up epochs (uniformly sampled operators and widths, as `nas
// search` does), draws `--archs` architectures uniformly from the space (seeded), and for each:
//   - the supernet's estimate: held-out accuracy of that path (training-mode BatchNorm, as the weights were
//     trained) on `--images` held-out images;
//   - the truth: the fixed network started from the supernet's weights (weight inheritance, as `nas search`
//     fine-tunes), trained `--epochs` epochs with the config's fine-tune schedule, accuracy on the same held-out
//     images (inference mode).
// Prints both per architecture and Kendall's τ_b between them. Every architecture gets the same fine-tune budget,
// so the truth is "accuracy after a short fine-tune", the quantity a search's ranking has to predict.
//
//   ./build/bench/supernet_ranking [--config experiments/fmnist_search.yaml] [--archs 8] [--epochs 4]
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/threads.h"
#include "search/search_config.h"
#include "supernet/candidate_accuracy.h"
#include "supernet/loss.h"
#include "supernet/network_builder.h"
#include "supernet/optimizer.h"
#include "supernet/supernet.h"
#include "supernet/trainer.h"
#include "supernet/weight_inheritance.h"

using namespace nas;

namespace {

// Kendall's τ_b (ties in either list reduce the denominator).
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) {
        ++ties_a;
      } else if (db == 0) {
        ++ties_b;
      } else if ((da > 0) == (db > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  const double denominator = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denominator > 0 ? (concordant - discordant) / denominator : 0.0;
}

supernet::Dataset first_items(const supernet::Dataset& data, int32_t count) {
  supernet::Dataset out = data;
  out.count = std::min(count, data.count);
  out.images.resize(static_cast<size_t>(int64_t{out.count} * data.item_size()));
  out.labels.resize(static_cast<size_t>(out.count));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kendall tau between the warmed-up supernet's accuracy estimates and short fine-tunes"};
  std::string config_path = std::string(MCUNAS_SOURCE_DIR) + "/experiments/fmnist_search.yaml";
  int32_t archs = 8, epochs = 4, images = 2000;
  uint64_t seed = 3;
  app.add_option("--config", config_path, "search config (data, space, warm-up, fine-tune schedule)")
      ->capture_default_str();
  app.add_option("--archs", archs, "architectures drawn uniformly from the space")->capture_default_str();
  app.add_option("--epochs", epochs, "fine-tune epochs per architecture")->capture_default_str();
  app.add_option("--images", images, "held-out images both accuracies are measured on")->capture_default_str();
  app.add_option("--seed", seed, "seed of the architecture draws")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const search::SearchConfig config = search::load_search_config(config_path);
    ThreadBudget threads(config.threads);
    const supernet::DataSplits data = search::load_search_data(config);
    const supernet::Dataset holdout = first_items(data.validation, images);
    const supernet::Shape input = data.train.batch_shape(1);
    const int32_t classes = data.train.num_classes;
    const supernet::SearchSpace space = supernet::parse_search_space(config.space_node, input);

    // Warm-up exactly as nas search runs it: one schedule over warm-up + search, uniformly sampled paths.
    supernet::SuperNet net(space, input, classes, config.seed);
    supernet::BatchLoader loader(data.train, config.batch_size, /*shuffle=*/true, config.data.augment, config.seed);
    auto optimizer = supernet::make_optimizer(config.weights_optimizer, net.weights());
    const supernet::LrSchedule schedule(config.weights_schedule, loader.batches_per_epoch(),
                                        config.warmup_epochs + config.search_epochs);
    supernet::Rng rng(config.seed ^ 0x5eed5a3b1e5ULL);
    supernet::Tensor images_batch, grad;
    std::vector<int32_t> labels;
    for (int32_t e = 0; e < config.warmup_epochs; ++e) {
      loader.start_epoch(e);
      for (int32_t step = 0; loader.next(images_batch, labels); ++step) {
        net.sample(rng, 1.0);
        supernet::softmax_cross_entropy(net.network().forward(images_batch, true), labels, &grad,
                                        config.label_smoothing);
        net.network().backward(grad);
        optimizer->step(net.weights(), schedule.at(int64_t{e} * loader.batches_per_epoch() + step));
      }
      std::fprintf(stderr, "warm-up epoch %d/%d done\n", e + 1, config.warmup_epochs);
    }

    supernet::Rng draws(seed);
    std::vector<double> estimates, truths;
    std::printf("%-4s %-70s %9s %10s\n", "arch", "operators and widths", "supernet", "fine-tuned");
    for (int32_t a = 0; a < archs; ++a) {
      net.sample_uniform(draws);
      supernet::FixedArch arch;
      int32_t channels = input.c;
      std::string text;
      for (size_t b = 0; b < net.block_count(); ++b) {
        const auto& block = net.block(b);
        const supernet::OpCandidate op = space.blocks[b].ops[block.selected()];
        if (op.kind != supernet::OpKind::skip) channels = block.widths()[block.selected_width()];
        arch.blocks.push_back({space.blocks[b].name, op, channels, space.blocks[b].stride});
        text += (text.empty() ? "" : ", ") + op.name() + " " + std::to_string(channels);
      }
      const double estimate = supernet::path_accuracy(net, holdout, holdout.count, config.batch_size);

      supernet::Network fixed =
          supernet::build_network(supernet::fixed_model_yaml(arch), input, classes, config.seed);
      supernet::inherit_weights(net, arch, fixed);
      auto finetune_opt = supernet::make_optimizer(config.finetune_optimizer, fixed.params());
      const supernet::LrSchedule finetune_schedule(config.finetune_schedule, loader.batches_per_epoch(), epochs);
      for (int32_t e = 0; e < epochs; ++e)
        supernet::train_epoch(fixed, *finetune_opt, finetune_schedule, loader,
                              {e, int64_t{e} * loader.batches_per_epoch(), config.label_smoothing});
      const double truth = supernet::evaluate(fixed, holdout, config.eval_batch_size).accuracy;
      estimates.push_back(estimate);
      truths.push_back(truth);
      std::printf("%-4d %-70s %8.2f%% %9.2f%%\n", a + 1, text.c_str(), 100 * estimate, 100 * truth);
      std::fflush(stdout);
    }
    std::printf("kendall_tau=%.3f over %d architectures (warm-up %d epochs, fine-tune %d epochs, %d held-out images)\n",
                kendall_tau(estimates, truths), archs, config.warmup_epochs, epochs, holdout.count);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "supernet_ranking: %s\n", e.what());
    return 1;
  }
  return 0;
}
