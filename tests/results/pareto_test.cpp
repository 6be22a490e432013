// Pareto fronts from a real results database: which candidates are dominated, per target, and what the table,
// the JSON and the plot carry.
#include "results/pareto.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"
#include "tests/results/raw_db.h"

namespace nas::results {
namespace {

using test_support::contains;
using test_support::error_of;

class ParetoTest : public test_support::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    db_ = std::make_unique<ResultsDb>(dir_ / "main.db");
  }

  int64_t add(const std::string& target, double latency_s, double ram, double accuracy, const std::string& kind = "search",
              const std::string& status = "done") {
    const int64_t id = db_->begin_run({kind, "", "", "", 1, 1});
    db_->store_architecture(id, {target, "", "", 0, 0,
                                 {{"latency", latency_s, latency_s * 1.25, "--max-latency 1ms"},
                                  {"ram", ram, 262144.0, target + " SRAM"},
                                  {"flash", 3e5, std::nullopt, ""},
                                  {"energy", 1e-4, std::nullopt, ""}}});
    RunEnd end;
    end.status = status;
    if (status == "done") end.test_accuracy = accuracy;
    db_->finish_run(id, end);
    return id;
  }

  std::unique_ptr<ResultsDb> db_;
};

TEST_F(ParetoTest, ACandidateIsDominatedWhenAnotherOfItsBoardIsNoCostlierAndNoLessAccurate) {
  const int64_t cheap = add("nano33", 0.010, 9e4, 0.85);
  const int64_t best = add("nano33", 0.020, 8e4, 0.90);
  const int64_t worse = add("nano33", 0.030, 7e4, 0.88);   // costlier and less accurate than `best`
  const int64_t tie = add("nano33", 0.020, 9e4, 0.90);     // equal to `best` on both axes: not dominated
  const int64_t other_board = add("f746", 0.040, 7e4, 0.80);  // another board: judged on its own
  add("nano33", 0.001, 7e4, 0.99, "search", "failed");       // not done: no candidate
  const auto c = pareto_candidates(*db_, {});
  ASSERT_EQ(c.size(), 5u);
  std::map<int64_t, bool> dominated;
  for (const auto& x : c) dominated[x.run_id] = x.dominated;
  EXPECT_FALSE(dominated[cheap]);
  EXPECT_FALSE(dominated[best]);
  EXPECT_TRUE(dominated[worse]);
  EXPECT_FALSE(dominated[tie]);
  EXPECT_FALSE(dominated[other_board]);
}

TEST_F(ParetoTest, TheXAxisDecidesTheFront) {
  const int64_t fast = add("nano33", 0.010, 9e4, 0.85);
  const int64_t small = add("nano33", 0.020, 7e4, 0.90);
  const int64_t slow_and_big = add("nano33", 0.030, 9.5e4, 0.80);
  ParetoQuery by_ram;
  by_ram.x = "ram";
  std::map<int64_t, bool> dominated;
  for (const auto& x : pareto_candidates(*db_, by_ram)) dominated[x.run_id] = x.dominated;
  EXPECT_TRUE(dominated[fast]);  // more RAM and less accurate than `small`
  EXPECT_FALSE(dominated[small]);
  EXPECT_TRUE(dominated[slow_and_big]);
}

TEST_F(ParetoTest, FiltersByTargetAndSweep) {
  add("nano33", 0.010, 9e4, 0.85);
  const int64_t in_sweep = add("nano33", 0.020, 9e4, 0.86);
  add("f746", 0.010, 9e4, 0.85);
  RawDb(dir_ / "main.db").exec("UPDATE runs SET sweep = 's1' WHERE id = " + std::to_string(in_sweep));
  ParetoQuery q;
  q.target = "f746";
  EXPECT_EQ(pareto_candidates(*db_, q).size(), 1u);
  q = {};
  q.sweep = "s1";
  const auto c = pareto_candidates(*db_, q);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].run_id, in_sweep);
  EXPECT_EQ(c[0].sweep, "s1");
}

TEST_F(ParetoTest, RefusesUnknownAxes) {
  ParetoQuery q;
  q.x = "speed";
  EXPECT_TRUE(contains(error_of([&] { check_query(q); }), "known: latency, ram, flash, energy"));
  q = {};
  q.y = "loss";
  EXPECT_TRUE(contains(error_of([&] { check_query(q); }), "--y"));
}

TEST_F(ParetoTest, TableJsonAndPlotCarryTheSameCandidates) {
  add("nano33", 0.010, 9e4, 0.85);
  add("nano33", 0.030, 7e4, 0.80);  // dominated
  add("nano33", 0.200, 8e4, 0.91, "seed");
  add("f746", 0.005, 7e4, 0.84);
  const ParetoQuery q;
  const auto c = pareto_candidates(*db_, q);
  const std::string front = format_pareto(c, q, /*all=*/false);
  EXPECT_TRUE(contains(front, "3 of 4 candidates on the front"));
  EXPECT_TRUE(contains(front, "--max-latency 1ms"));
  EXPECT_FALSE(contains(front, "(dominated)"));
  EXPECT_TRUE(contains(format_pareto(c, q, /*all=*/true), "(dominated)"));
  const auto json = pareto_json(c, q);
  ASSERT_EQ(json["candidates"].size(), 4u);
  EXPECT_EQ(json["candidates"][0]["target"], "f746");   // per target, cheapest first
  EXPECT_EQ(json["candidates"][3]["kind"], "seed");
  EXPECT_DOUBLE_EQ(json["candidates"][1]["costs"]["latency"].get<double>(), 0.010);
  EXPECT_EQ(json["candidates"][1]["budgets"], "--max-latency 1ms");  // the board's own limit is no budget given
  const FrontPlot plot = pareto_plot(c, q);
  ASSERT_EQ(plot.series.size(), 2u);
  EXPECT_EQ(plot.series[1].name, "nano33");
  ASSERT_EQ(plot.series[1].points.size(), 3u);
  EXPECT_DOUBLE_EQ(plot.series[1].points[0].x, 10.0);  // ms
  EXPECT_DOUBLE_EQ(plot.series[1].points[0].y, 85.0);  // %
  EXPECT_TRUE(plot.series[1].points[1].dominated);
  EXPECT_TRUE(plot.log_x);  // 5 ms to 200 ms
  EXPECT_TRUE(contains(plot.x_label, "[ms]"));

  ParetoQuery by_sweep;
  by_sweep.series = "sweep";
  const FrontPlot split = pareto_plot(c, by_sweep);
  ASSERT_EQ(split.series.size(), 3u);  // per board: the searches (in no sweep), and the seed network on its own
  EXPECT_EQ(split.series[0].name, "no sweep (f746)");
  EXPECT_EQ(split.series[1].name, "no sweep (nano33)");
  EXPECT_EQ(split.series[1].points.size(), 2u);
  EXPECT_EQ(split.series[2].name, "seed network (nano33)");
  by_sweep.series = "colour";
  EXPECT_TRUE(contains(error_of([&] { check_query(by_sweep); }), "--by"));
}

TEST_F(ParetoTest, AnEmptyDatabaseSaysSo) {
  EXPECT_TRUE(contains(format_pareto(pareto_candidates(*db_, {}), {}, false), "no finished searches"));
}

}  // namespace
}  // namespace nas::results
