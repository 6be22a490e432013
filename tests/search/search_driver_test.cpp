// End to end on synthetic data: a real search config, the real nano33 target file, a real SQLite file, and the
// whole warm-up → search → fix → fine-tune → test sequence.
#include "search/search_driver.h"

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <algorithm>

#include "common/error.h"
#include "cost_models/reachable.h"
#include "cost_models/target.h"
#include "results/distillation_records.h"
#include "supernet/network_builder.h"
#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::search {
namespace {

using test_support::contains;
using test_support::error_of;

constexpr const char* kConfig = R"(
name: synthetic_search
data:
  format: synthetic
  synthetic: {count: 1536, height: 12, width: 12, channels: 1, classes: 4, noise: 0.3, seed: 3}
search_space:
  blocks:
    - {name: b1, out: 16, stride: 1, ops: [conv3x3, conv5x5, dwsep3x3]}
    - {name: b2, out: 24, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
    - {name: b3, out: 24, stride: 1, ops: [conv3x3, dwsep3x3, skip]}
search:
  epochs: {warmup: 1, search: 4, finetune: 3}
  batch_size: 32
  threads: 2
  weights:
    optimizer: {type: sgd, momentum: 0.9, weight_decay: 1.0e-4}
    schedule: {type: cosine, lr: 0.1, warmup_epochs: 0.5}
  finetune:
    schedule: {type: cosine, lr: 0.05}
  arch: {lr: 0.05, tau_start: 1.0, tau_end: 0.2}
  penalty: {ramp_steps: 10, growth: 0.05}
)";

class SearchDriverTest : public test_support::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_text("search.yaml", kConfig);
    config_ = load_search_config(dir_ / "search.yaml");
  }

  // The largest network of the test space on nano33, to set budgets that bind.
  cost_models::Costs<double> largest() const {
    const auto space = supernet::parse_search_space(config_.space_node, {1, 12, 12, 1});
    return cost_models::largest_costs(space, {1, 12, 12, 1}, 4, cost_models::load_target("nano33"));
  }

  SearchConfig config_;
};

TEST_F(SearchDriverTest, OneSearchEndsInsideEveryBudgetAndStoresTheFixedNet) {
  const auto big = largest();
  SearchRequest request{config_, "nano33", {}, "test"};
  // A quarter of the largest net's latency: the search must cut operators and channels to meet it.
  request.budgets.max_latency = fmt::format("{:.6f}ms", 1e3 * big.latency_s * 0.25);
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const SearchOutcome outcome = run_search(request, db, quiet);

  EXPECT_EQ(outcome.status, "done");
  EXPECT_TRUE(outcome.fits);
  EXPECT_LE(outcome.costs.latency_s, big.latency_s * 0.25);
  EXPECT_GT(outcome.test_accuracy, 0.5);  // 4 separable classes: chance is 25 %
  ASSERT_EQ(outcome.arch.blocks.size(), 3u);

  const auto run = db.get_run(outcome.run_id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.kind, "search");
  EXPECT_EQ(run->summary.target, "nano33");
  ASSERT_TRUE(run->architecture.has_value());
  EXPECT_TRUE(contains(run->architecture->arch_yaml, "b1"));
  EXPECT_EQ(run->architecture->costs.size(), 6u);  // ram, flash, latency, energy, macs, params
  for (const auto& c : run->architecture->costs) {
    if (c.budget) {
      EXPECT_LE(c.value, *c.budget) << c.metric;
    }
  }
  EXPECT_EQ(run->epochs.size(), 1u + 4u + 3u);
  EXPECT_EQ(run->budget_trace.size(), 4u * 3u);  // 4 search epochs × (ram, flash, latency)
  EXPECT_FALSE(run->weights.empty());

  // Per search epoch and block, where the architecture gradient came from: the task loss's part is there (the
  // mixture estimator sees accuracy in every block) next to the budget terms' part.
  results::RawDb raw(dir_ / "results.db");
  EXPECT_EQ(raw.text("SELECT count(*) FROM arch_gradient_trace WHERE run_id = " + std::to_string(outcome.run_id)),
            "12");
  EXPECT_EQ(raw.text("SELECT count(*) FROM arch_gradient_trace WHERE op_accuracy > 0 AND width_accuracy > 0 AND "
                     "op_penalty >= 0"),
            "12");
}

// With a shortlist, the fix step probes several networks and fine-tunes the one most accurate on held-out data:
// every row is stored, exactly one is chosen, it is the most accurate one, and it is the architecture the run keeps.
TEST_F(SearchDriverTest, TheShortlistProbesSeveralNetworksAndKeepsTheMostAccurate) {
  write_text("shortlist.yaml", std::string(kConfig) + "  shortlist: {candidates: 4, epochs: 1}\n");
  SearchConfig config = load_search_config(dir_ / "shortlist.yaml");
  config.finetune_epochs = 1;
  SearchRequest request{config, "nano33", {}, "test"};
  request.budgets.max_latency = fmt::format("{:.6f}ms", 1e3 * largest().latency_s * 0.25);
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const SearchOutcome outcome = run_search(request, db, quiet);
  ASSERT_EQ(outcome.status, "done");
  EXPECT_TRUE(outcome.fits);

  const auto shortlist = db.shortlist(outcome.run_id);
  ASSERT_GE(shortlist.size(), 2u);  // 4 most probable sets and the seed operators, some fixed alike
  ASSERT_LE(shortlist.size(), 5u);
  size_t chosen = 0, chosen_count = 0;
  for (size_t i = 0; i < shortlist.size(); ++i) {
    EXPECT_EQ(shortlist[i].rank, static_cast<int32_t>(i));
    if (i > 0) {
      EXPECT_LE(shortlist[i].log_probability, shortlist[i - 1].log_probability);
    }
    EXPECT_GT(shortlist[i].holdout_accuracy, 0.0);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(shortlist[i].arch_yaml, shortlist[j].arch_yaml);
    if (shortlist[i].chosen) {
      chosen = i;
      ++chosen_count;
    }
  }
  ASSERT_EQ(chosen_count, 1u);
  for (const auto& c : shortlist) EXPECT_LE(c.holdout_accuracy, shortlist[chosen].holdout_accuracy);
  const auto run = db.get_run(outcome.run_id);
  ASSERT_TRUE(run && run->architecture);
  EXPECT_EQ(run->architecture->arch_yaml, shortlist[chosen].arch_yaml);
  // The seed network's operators (conv3x3 in every block, each block's first candidate) are among those probed.
  EXPECT_TRUE(std::any_of(shortlist.begin(), shortlist.end(), [](const results::ShortlistRecord& c) {
    const auto arch = supernet::parse_fixed_arch(YAML::Load(c.arch_yaml));
    return std::all_of(arch.blocks.begin(), arch.blocks.end(),
                       [](const supernet::FixedBlock& b) { return b.op.name() == "conv3x3"; });
  }));
}

// search.shortlist.start: the probes start where the fine-tune does unless told otherwise. The same search probed
// from the supernet's weights and from fresh ones shortlists the same networks and scores them differently; a
// probe start other than supernet or scratch is refused by name.
TEST_F(SearchDriverTest, TheShortlistProbesStartFromTheSupernetOrFromScratch) {
  Progress quiet(Progress::Mode::quiet);
  results::ResultsDb db(dir_ / "results.db");
  std::vector<results::ShortlistRecord> probed[2];
  for (const FinetuneInit start : {FinetuneInit::supernet, FinetuneInit::scratch}) {
    write_text("probe.yaml", std::string(kConfig) + "  shortlist: {candidates: 4, epochs: 1, start: " +
                                 (start == FinetuneInit::scratch ? "scratch" : "supernet") + "}\n");
    SearchConfig config = load_search_config(dir_ / "probe.yaml");
    ASSERT_EQ(config.shortlist.start, start);
    config.finetune_epochs = 0;
    SearchRequest request{config, "nano33", {}, "test"};
    request.budgets.max_latency = fmt::format("{:.6f}ms", 1e3 * largest().latency_s * 0.25);
    const SearchOutcome outcome = run_search(request, db, quiet);
    ASSERT_EQ(outcome.status, "done");
    probed[start == FinetuneInit::scratch] = db.shortlist(outcome.run_id);
  }
  ASSERT_EQ(probed[0].size(), probed[1].size());
  ASSERT_GE(probed[0].size(), 2u);
  bool any_differs = false;
  for (size_t i = 0; i < probed[0].size(); ++i) {
    EXPECT_EQ(probed[0][i].arch_yaml, probed[1][i].arch_yaml);
    any_differs = any_differs || probed[0][i].holdout_loss != probed[1][i].holdout_loss;
  }
  EXPECT_TRUE(any_differs);

  write_text("unset.yaml", std::string(kConfig) + "  shortlist: {candidates: 4}\n");
  EXPECT_FALSE(load_search_config(dir_ / "unset.yaml").shortlist.start.has_value());
  write_text("bad_probe.yaml", std::string(kConfig) + "  shortlist: {candidates: 4, start: warm}\n");
  const std::string message = error_of([&] { load_search_config(dir_ / "bad_probe.yaml"); });
  EXPECT_TRUE(contains(message, "search.shortlist.start")) << message;
  EXPECT_TRUE(contains(message, "supernet or scratch")) << message;
}

TEST_F(SearchDriverTest, WithoutAShortlistNoProbeRuns) {
  SearchConfig config = config_;
  config.finetune_epochs = 0;
  SearchRequest request{config, "nano33", {}, "test"};
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const SearchOutcome outcome = run_search(request, db, quiet);
  ASSERT_EQ(outcome.status, "done");
  EXPECT_TRUE(db.shortlist(outcome.run_id).empty());
}

// search.finetune.start: the fixed network starts from the supernet's weights by default and from build_network's
// seeded initialisation with `scratch`; the stored start (what `nas finetune` begins from) says which.
TEST_F(SearchDriverTest, FineTuningStartsFromTheSupernetOrFromScratchAsConfigured) {
  Progress quiet(Progress::Mode::quiet);
  results::ResultsDb db(dir_ / "results.db");
  std::vector<float> starts[2];
  for (const FinetuneInit start : {FinetuneInit::supernet, FinetuneInit::scratch}) {
    SearchConfig config = config_;
    config.finetune_epochs = 0;
    config.finetune_init = start;
    const SearchOutcome outcome = run_search({config, "nano33", {}, "test"}, db, quiet);
    ASSERT_EQ(outcome.status, "done");
    const auto stored = results::finetune_start_of_run(db, outcome.run_id);
    ASSERT_TRUE(stored.has_value());
    const supernet::Network fresh = supernet::build_network(supernet::fixed_model_yaml(outcome.arch),
                                                            {1, 12, 12, 1}, 4, config.seed);
    const auto theta = fresh.params().theta();
    const bool is_fresh = std::equal(theta.begin(), theta.end(), stored->weights.begin(), stored->weights.end());
    EXPECT_EQ(is_fresh, start == FinetuneInit::scratch);
  }

  std::string text = kConfig;
  const std::string schedule = "    schedule: {type: cosine, lr: 0.05}\n";
  text.replace(text.find(schedule), schedule.size(), schedule + "    start: warm\n");
  write_text("bad_start.yaml", text);
  const std::string message = error_of([&] { load_search_config(dir_ / "bad_start.yaml"); });
  EXPECT_TRUE(contains(message, "search.finetune.start")) << message;
  EXPECT_TRUE(contains(message, "supernet or scratch")) << message;
}

TEST_F(SearchDriverTest, TheSeedNetworkIsTrainedWithoutSearchingAndStoredWithItsCosts) {
  SearchRequest request{config_, "nano33", {}, "test"};
  request.seed_network = true;
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const SearchOutcome outcome = run_search(request, db, quiet);
  EXPECT_EQ(outcome.status, "done");
  // Every block's first operator with all its channels: the largest conv3x3 net of the space.
  ASSERT_EQ(outcome.arch.blocks.size(), 3u);
  EXPECT_EQ(outcome.arch.blocks[0].op.name(), "conv3x3");
  EXPECT_EQ(outcome.arch.blocks[1].out_channels, 24);
  EXPECT_EQ(outcome.arch.blocks[2].op.name(), "conv3x3");
  EXPECT_EQ(outcome.repaired_channels, 0);
  EXPECT_GT(outcome.test_accuracy, 0.5);
  const auto run = db.get_run(outcome.run_id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->summary.kind, "seed");
  EXPECT_EQ(run->epochs.size(), 3u);  // fine-tune only
  EXPECT_TRUE(run->budget_trace.empty());
  ASSERT_TRUE(run->architecture.has_value());
  EXPECT_EQ(run->architecture->costs.size(), 6u);  // ram, flash, latency, energy, macs, params
  EXPECT_DOUBLE_EQ(run->architecture->costs[2].value, outcome.costs.latency_s);

  request.budgets.max_latency = "50ms";  // the seed is unconstrained: a budget is a mistake, said so
  const std::string message = error_of([&] { run_search(request, db, quiet); });
  EXPECT_TRUE(contains(message, "--seed-network")) << message;
  EXPECT_EQ(db.list_runs().size(), 1u);
}

TEST_F(SearchDriverTest, ImpossibleBudgetsAreRefusedBeforeTheRunIsRecorded) {
  SearchRequest request{config_, "nano33", {}, "test"};
  request.budgets.max_latency = "1us";
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const std::string message = error_of([&] { run_search(request, db, quiet); });
  EXPECT_TRUE(contains(message, "--max-latency 1us")) << message;
  EXPECT_TRUE(contains(message, "smallest network of the search space needs")) << message;
  EXPECT_TRUE(db.list_runs().empty());
}

TEST_F(SearchDriverTest, UnknownTargetListsTheKnownOnes) {
  SearchRequest request{config_, "arduino-uno", {}, "test"};
  results::ResultsDb db(dir_ / "results.db");
  Progress quiet(Progress::Mode::quiet);
  const std::string message = error_of([&] { run_search(request, db, quiet); });
  EXPECT_TRUE(contains(message, "arduino-uno")) << message;
  EXPECT_TRUE(contains(message, "nano33")) << message;
  EXPECT_TRUE(db.list_runs().empty());
}

TEST_F(SearchDriverTest, ConfigErrorsNameTheFileAndKey) {
  std::string text = kConfig;
  text.replace(text.find("tau_end: 0.2"), 12, "tau_end: -1");
  write_text("bad.yaml", text);
  const std::string message = error_of([&] { load_search_config(dir_ / "bad.yaml"); });
  EXPECT_TRUE(contains(message, "bad.yaml")) << message;
  EXPECT_TRUE(contains(message, "tau")) << message;

  text = kConfig;
  text.replace(text.find("batch_size: 32"), 14, "batch_sise: 32");
  write_text("typo.yaml", text);
  const std::string typo = error_of([&] { load_search_config(dir_ / "typo.yaml"); });
  EXPECT_TRUE(contains(typo, "batch_sise")) << typo;

  write_text("zero.yaml", std::string(kConfig) + "  shortlist: {candidates: 0}\n");
  const std::string zero = error_of([&] { load_search_config(dir_ / "zero.yaml"); });
  EXPECT_TRUE(contains(zero, "search.shortlist.candidates")) << zero;
  write_text("key.yaml", std::string(kConfig) + "  shortlist: {candidate: 3}\n");
  const std::string key = error_of([&] { load_search_config(dir_ / "key.yaml"); });
  EXPECT_TRUE(contains(key, "candidate")) << key;
}

}  // namespace
}  // namespace nas::search
