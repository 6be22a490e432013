#include "supernet/optimizer.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

#include <cmath>

#include "common/error.h"

namespace nas::supernet {
namespace {

// One weight slot (decayed) and one bias slot (not decayed), two values each.
ParamStore two_slots() {
  ParamStore store;
  store.declare("w", 2, ParamRole::weight);
  store.declare("b", 2, ParamRole::no_decay);
  store.declare("running", 1, ParamRole::state);
  store.allocate();
  auto theta = store.theta();
  theta[0] = 1.0f, theta[1] = -2.0f, theta[2] = 0.5f, theta[3] = 3.0f;
  store.state()[0] = 7.0f;
  return store;
}

TEST(Sgd, NesterovMomentumAndDecayByHand) {
  ParamStore store = two_slots();
  OptimizerSpec spec;
  spec.momentum = 0.9;
  spec.weight_decay = 0.1;
  spec.nesterov = true;
  auto sgd = make_optimizer(spec, store);
  for (float& g : store.grads()) g = 1.0f;
  sgd->step(store, 0.5);
  // weight 0: g = 1 + 0.1·1 = 1.1, v = 1.1, update = g + 0.9·v = 2.09, θ = 1 − 0.5·2.09
  EXPECT_FLOAT_EQ(store.theta()[0], 1.0f - 0.5f * 2.09f);
  // bias 0: no decay: g = 1, v = 1, update = 1.9
  EXPECT_FLOAT_EQ(store.theta()[2], 0.5f - 0.5f * 1.9f);
  sgd->step(store, 0.5);
  // bias 0 again: v = 0.9·1 + 1 = 1.9, update = 1 + 0.9·1.9 = 2.71
  EXPECT_FLOAT_EQ(store.theta()[2], 0.5f - 0.5f * 1.9f - 0.5f * 2.71f);
  EXPECT_EQ(store.state()[0], 7.0f);  // state is never touched by an optimizer
}

TEST(Adam, FirstStepMovesEachParameterByTheLearningRate) {
  ParamStore store = two_slots();
  OptimizerSpec spec;
  spec.type = "adam";
  spec.weight_decay = 0.0;
  auto adam = make_optimizer(spec, store);
  store.grads()[0] = 3.0f, store.grads()[1] = -0.01f, store.grads()[2] = 0.0f, store.grads()[3] = 100.0f;
  adam->step(store, 0.01);
  // With bias correction the first update is lr·g/|g| (up to eps).
  EXPECT_NEAR(store.theta()[0], 1.0f - 0.01f, 1e-6);
  EXPECT_NEAR(store.theta()[1], -2.0f + 0.01f, 1e-5);
  EXPECT_EQ(store.theta()[2], 0.5f);
  EXPECT_NEAR(store.theta()[3], 3.0f - 0.01f, 1e-6);
}

TEST(Optimizer, RejectsUnknownTypesAndBadHyperParameters) {
  ParamStore store = two_slots();
  OptimizerSpec spec;
  spec.type = "rmsprop";
  EXPECT_EQ(test_support::error_of([&] { make_optimizer(spec, store); }),
            "optimizer: unknown type 'rmsprop' (known: sgd, adam)");
  spec.type = "sgd";
  spec.momentum = 1.5;
  EXPECT_EQ(test_support::error_of([&] { make_optimizer(spec, store); }), "optimizer: sgd momentum must be in [0, 1)");
  spec.momentum = 0.9;
  spec.weight_decay = -1;
  EXPECT_EQ(optimizer_spec_problem(spec), "weight_decay must be >= 0");
  spec.weight_decay = 0;
  spec.type = "adam";
  spec.beta2 = 1;
  EXPECT_EQ(optimizer_spec_problem(spec), "adam betas must be in [0, 1)");
  spec.beta2 = 0.999;
  EXPECT_EQ(optimizer_spec_problem(spec), "");
}

TEST(LrSchedule, LinearWarmupThenCosineToFinal) {
  ScheduleSpec spec;
  spec.lr = 0.1;
  spec.final_lr = 0.0;
  spec.warmup_epochs = 1;
  const LrSchedule schedule(spec, 10, 5);  // 10 warm-up steps of 50
  EXPECT_NEAR(schedule.at(0), 0.01, 1e-12);
  EXPECT_NEAR(schedule.at(9), 0.1, 1e-12);
  EXPECT_NEAR(schedule.at(10), 0.1, 1e-12);                  // cosine starts at the peak
  EXPECT_NEAR(schedule.at(30), 0.05, 1e-12);                 // half way through the decay
  EXPECT_NEAR(schedule.at(50), 0.0, 1e-12);
  spec.type = "constant";
  EXPECT_NEAR(LrSchedule(spec, 10, 5).at(40), 0.1, 1e-12);
  spec.type = "step";
  EXPECT_EQ(test_support::error_of([&] { LrSchedule(spec, 10, 5); }),
            "schedule: unknown type 'step' (known: cosine, constant)");
  spec.type = "cosine";
  spec.lr = -0.1;
  EXPECT_EQ(schedule_spec_problem(spec), "lr must be positive (got -0.1)");
}

}  // namespace
}  // namespace nas::supernet
