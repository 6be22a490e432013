// The warm-up's weight steps with and without the seed path (SearchConfig::seed_path), on synthetic data and the
// real nano33 cost model.
#include "search/supernet_trainer.h"

#include <gtest/gtest.h>

#include "cost_models/target.h"
#include "supernet/dataset.h"

namespace nas::search {
namespace {

const supernet::Shape kImage{1, 12, 12, 1};

supernet::SearchSpace space() {
  using supernet::OpKind;
  supernet::SearchSpace s;
  s.blocks.push_back({"b1", 8, 1, {{OpKind::conv, 3}, {OpKind::dwsep, 3}}});
  s.blocks.push_back({"b2", 8, 2, {{OpKind::conv, 3}, {OpKind::dwsep, 3}, {OpKind::conv, 5}}});
  s.blocks.push_back({"b3", 8, 1, {{OpKind::conv, 3}, {OpKind::skip, 0}}});
  return s;
}

// Per step and block: the operator selected when the step ended, whether the block's first operator (the seed's
// convolution) had its weights changed, and how many of its other operators did. Plain SGD without momentum or
// weight decay, so a weight changes exactly when its step had a gradient for it.
struct StepRecord {
  std::vector<size_t> selected;
  std::vector<bool> seed_op_moved;
  std::vector<int32_t> other_ops_moved;
};

std::vector<StepRecord> warmup_steps(bool seed_path, int32_t steps) {
  const supernet::Dataset data = supernet::make_synthetic({.count = 16 * steps, .seed = 5});
  SearchConfig config;
  config.warmup_epochs = 1;
  config.search_epochs = 1;
  config.batch_size = 16;
  config.seed = 3;
  config.seed_path = seed_path;
  config.weights_optimizer = {.type = "sgd", .momentum = 0.0, .nesterov = false, .weight_decay = 0.0};
  config.weights_schedule = {.type = "constant", .lr = 0.05};
  supernet::SuperNet net(space(), kImage, 4, config.seed);
  const cost_models::Target target = cost_models::load_target("nano33");
  const ArchCost cost(net.space(), kImage, 4, target);
  constraints::Penalty penalty({}, config.penalty);
  supernet::BatchLoader loader(data, config.batch_size, /*shuffle=*/false, supernet::Augment{}, 1);
  SupernetTrainer trainer(net, config, cost, penalty, loader.batches_per_epoch(), data);

  // weights[b][j]: the first convolution of block b's operator j (empty for skip).
  auto weights = [&] {
    std::vector<std::vector<std::vector<float>>> w(net.block_count());
    for (size_t b = 0; b < net.block_count(); ++b)
      for (size_t j = 0; j < net.block(b).op_count(); ++j)
        w[b].push_back(net.block(b).stage_count(j) > 0 ? net.block(b).conv_weights(j, 0) : std::vector<float>{});
    return w;
  };
  std::vector<StepRecord> records;
  auto before = weights();
  trainer.epoch(loader, 0, /*search=*/false, [&](int32_t, int32_t, double, double) {
    const auto after = weights();
    StepRecord r;
    for (size_t b = 0; b < net.block_count(); ++b) {
      r.selected.push_back(net.block(b).selected());
      r.seed_op_moved.push_back(after[b][0] != before[b][0]);
      int32_t others = 0;
      for (size_t j = 1; j < after[b].size(); ++j) others += after[b][j] != before[b][j];
      r.other_ops_moved.push_back(others);
    }
    records.push_back(std::move(r));
    before = after;
  });
  return records;
}

TEST(SupernetTrainerTest, WithoutTheSeedPathOnlyTheSampledOperatorsTrain) {
  const auto steps = warmup_steps(false, 24);
  ASSERT_EQ(steps.size(), 24u);
  int32_t idle = 0;
  for (const StepRecord& r : steps)
    for (size_t b = 0; b < r.selected.size(); ++b) {
      EXPECT_EQ(r.seed_op_moved[b], r.selected[b] == 0) << "block " << b;
      EXPECT_EQ(r.other_ops_moved[b], r.selected[b] == 0 || (b == 2 && r.selected[b] == 1) ? 0 : 1) << "block " << b;
      idle += r.selected[b] != 0;
    }
  EXPECT_GT(idle, 0);  // some steps sampled another operator, so the first check could fail
}

TEST(SupernetTrainerTest, TheSeedPathTrainsEveryBlocksFirstOperatorAtEveryWarmupStep) {
  const auto steps = warmup_steps(true, 24);
  ASSERT_EQ(steps.size(), 24u);
  int32_t others = 0;
  for (const StepRecord& r : steps)
    for (size_t b = 0; b < r.selected.size(); ++b) {
      EXPECT_EQ(r.selected[b], 0u);  // the seed path runs second, so it is what the step ends on
      EXPECT_TRUE(r.seed_op_moved[b]) << "block " << b;
      EXPECT_LE(r.other_ops_moved[b], 1) << "block " << b;  // at most the sampled path's operator
      others += r.other_ops_moved[b];
    }
  // The sampled path's gradient is kept next to the seed path's: its other operators train too (with 24 steps of
  // 2 or 3 candidates, about half the block-steps sample one).
  EXPECT_GT(others, 10);
}

}  // namespace
}  // namespace nas::search
