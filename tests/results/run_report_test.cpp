#include "results/run_report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/common/test_support.h"

namespace nas::results {
namespace {

using test_support::contains;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

RunSummary done_summary() {
  RunSummary s;
  s.id = 12;
  s.kind = "train";
  s.status = "done";
  s.started_at = "2026-11-24T10:23:10.376Z";
  s.finished_at = "2026-11-24T10:31:42.015Z";
  s.config_path = "experiments/fmnist_cnn.yaml";
  s.seed = 1;
  s.threads = 2;
  s.epochs_done = 2;
  s.test_accuracy = 0.91234;
  return s;
}

RunSummary running_summary() {
  RunSummary s;
  s.id = 3;
  s.kind = "search";
  s.status = "interrupted";
  s.started_at = "2026-11-23T08:00:00.000Z";
  s.config_path = "";
  s.seed = 12345678901ull;
  s.threads = 16;
  s.epochs_done = 0;
  return s;
}

RunDetail done_detail() {
  RunDetail d;
  d.summary = done_summary();
  d.config_yaml = "name: fmnist_cnn\ntrain:\n  epochs: 2\n";
  d.command_line = "nas train --config experiments/fmnist_cnn.yaml";
  d.peak_rss_bytes = 3 * 1024 * 1024 / 2;  // 1.5 MiB
  EpochRecord first{1, "train", 0.4, 0.6123, 0.7812, std::nullopt, std::nullopt, 0.41, 0.8456, 30.3, 1983.4};
  EpochRecord second{2, "train", 0.00012, 0.3101, 0.8899, 0.33, 0.881, 0.30, 0.91234, 29.5, 2033.9};
  d.epochs = {first, second};
  d.weights = {0.5f, -0.25f, 1.0f};
  d.state = {0.0f, 1.0f};
  return d;
}

// The column of each line where `header`'s column starts (left-aligned) or ends (right-aligned) must agree.
size_t start_of(const std::string& line, const std::string& cell) { return line.find(cell); }
size_t end_of(const std::string& line, const std::string& cell) { return line.find(cell) + cell.size(); }

TEST(RunsTable, AlignsEveryColumnUnderItsHeader) {
  const auto lines = lines_of(format_runs_table({done_summary(), running_summary()}));
  ASSERT_EQ(lines.size(), 3u);
  const std::string& header = lines[0];
  const std::string& done = lines[1];
  const std::string& stopped = lines[2];
  EXPECT_EQ(header.rfind("id", 0), 0u) << header;

  // Left-aligned text columns start where their header starts.
  EXPECT_EQ(start_of(done, "train"), start_of(header, "kind"));
  EXPECT_EQ(start_of(stopped, "search"), start_of(header, "kind"));
  EXPECT_EQ(start_of(done, "done"), start_of(header, "status"));
  EXPECT_EQ(start_of(stopped, "interrupted"), start_of(header, "status"));
  EXPECT_EQ(start_of(done, "2026-11-24 10:23:10"), start_of(header, "started"));
  EXPECT_EQ(start_of(done, "experiments/fmnist_cnn.yaml"), start_of(header, "config"));
  EXPECT_EQ(start_of(stopped, "(built in)"), start_of(header, "config"));
  // Numbers end where their header ends.
  EXPECT_EQ(end_of(done, "12"), end_of(header, "id"));
  EXPECT_EQ(end_of(stopped, "3"), end_of(header, "id"));
  EXPECT_EQ(end_of(done, "91.23"), end_of(header, "test acc %"));
  EXPECT_EQ(end_of(stopped, " -"), end_of(header, "test acc %"));  // no accuracy yet
  EXPECT_EQ(done.find("1  -") + 1, end_of(header, "seed"));
  EXPECT_EQ(done.find("1  -") + 3, start_of(header, "target"));  // a training run has no target: "-"
  EXPECT_EQ(end_of(stopped, "12345678901"), end_of(header, "seed"));

  for (const auto& line : lines) EXPECT_NE(line.back(), ' ') << "trailing blank in '" << line << "'";
}

TEST(RunsTable, IsJustTheHeaderForNoRuns) {
  EXPECT_EQ(lines_of(format_runs_table({})).size(), 1u);
}

TEST(RunDetail, ShowsFactsThenEpochsThenResultsThenConfig) {
  const std::string text = format_run_detail(done_detail());
  const auto lines = lines_of(text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "run 12: train, done");
  EXPECT_TRUE(contains(text, "  config    experiments/fmnist_cnn.yaml\n"));
  EXPECT_TRUE(contains(text, "  command   nas train --config experiments/fmnist_cnn.yaml\n"));
  EXPECT_TRUE(contains(text, "  started   2026-11-24T10:23:10.376Z\n"));
  EXPECT_TRUE(contains(text, "  finished  2026-11-24T10:31:42.015Z\n"));
  EXPECT_TRUE(contains(text, "  seed      1\n"));
  EXPECT_TRUE(contains(text, "  threads   2\n"));
  EXPECT_FALSE(contains(text, "error"));

  const size_t table = text.find("epoch  phase");
  const size_t final_line = text.find("final test accuracy  91.23 %");
  const size_t config = text.find("  config:\n");
  ASSERT_NE(table, std::string::npos) << text;
  ASSERT_NE(final_line, std::string::npos) << text;
  ASSERT_NE(config, std::string::npos) << text;
  EXPECT_LT(table, final_line);
  EXPECT_LT(final_line, config);

  EXPECT_TRUE(contains(text, "peak RSS             1.5 MiB\n")) << text;
  EXPECT_TRUE(contains(text, "weights              3 trained values (theta_w), 2 state values\n")) << text;
  EXPECT_TRUE(contains(text, "    name: fmnist_cnn\n    train:\n      epochs: 2\n")) << text;
}

TEST(RunDetail, EpochRowsLineUpWithTheirHeaders) {
  const auto lines = lines_of(format_run_detail(done_detail()));
  size_t header_index = 0;
  while (header_index < lines.size() && !contains(lines[header_index], "epoch  phase")) ++header_index;
  ASSERT_LT(header_index + 2, lines.size());
  const std::string& header = lines[header_index];
  const std::string& first = lines[header_index + 1];
  const std::string& second = lines[header_index + 2];
  EXPECT_EQ(end_of(first, "0.4"), end_of(header, " lr"));
  EXPECT_EQ(end_of(second, "0.00012"), end_of(header, " lr"));
  EXPECT_EQ(end_of(first, "0.6123"), end_of(header, "train loss"));
  EXPECT_EQ(end_of(first, "78.12"), end_of(header, "train acc %"));
  EXPECT_EQ(end_of(first, " -"), end_of(header, "val acc %"));  // no validation split in epoch 1
  EXPECT_EQ(end_of(second, "88.10"), end_of(header, "val acc %"));
  EXPECT_EQ(end_of(second, "91.23"), end_of(header, "test acc %"));
  EXPECT_EQ(end_of(first, "30.3"), end_of(header, "seconds"));
  EXPECT_EQ(end_of(second, "2034"), end_of(header, "img/s"));
}

TEST(RunDetail, ShowsWhatIsNotKnownYetAsDashes) {
  RunDetail running;
  running.summary = running_summary();
  running.summary.status = "running";
  running.command_line = "nas search";
  running.error = "";
  const std::string text = format_run_detail(running);
  EXPECT_TRUE(contains(text, "  config    (built in)\n")) << text;
  EXPECT_TRUE(contains(text, "  finished  -\n")) << text;
  EXPECT_TRUE(contains(text, "  no finished epochs\n")) << text;
  EXPECT_TRUE(contains(text, "final test accuracy  -\n")) << text;
  EXPECT_TRUE(contains(text, "peak RSS             -\n")) << text;
  EXPECT_TRUE(contains(text, "weights              0 trained values")) << text;
}

TEST(RunDetail, ShowsTheErrorOfAFailedRun) {
  RunDetail failed = done_detail();
  failed.summary.status = "failed";
  failed.error = "train-images-idx3-ubyte.gz: truncated file (got 1000 bytes, expected 47040016)";
  EXPECT_TRUE(contains(format_run_detail(failed), "  error     train-images-idx3-ubyte.gz: truncated file"));
}

TEST(RunDetail, ShowsTheShortlistWithTheChosenNetworkMarked) {
  RunDetail searched = done_detail();
  const std::string a = "blocks:\n  - {name: b1, op: conv3x3, out: 6, stride: 1}\n  - {name: b2, op: dwsep5x5, out: 12, stride: 2}\n";
  const std::string b = "blocks:\n  - {name: b1, op: conv5x5, out: 16, stride: 1}\n  - {name: b2, op: skip, out: 16, stride: 1}\n";
  searched.shortlist = {{0, a, -3.49, 0.8542, 0.41, false}, {1, b, -3.5, 0.8712, 0.37, true}};
  const std::string text = format_run_detail(searched);
  EXPECT_TRUE(contains(text, "shortlist")) << text;
  EXPECT_TRUE(contains(text, "conv3x3 6 → dwsep5x5 12/2")) << text;
  EXPECT_TRUE(contains(text, "87.12  *       conv5x5 16 → skip 16")) << text;
  EXPECT_FALSE(contains(format_run_detail(done_detail()), "shortlist"));

  const auto json = run_detail_json(searched);
  ASSERT_EQ(json["shortlist"].size(), 2u);
  EXPECT_EQ(json["shortlist"][1]["chosen"], true);
  EXPECT_EQ(json["shortlist"][0]["architecture_yaml"], a);
  EXPECT_DOUBLE_EQ(json["shortlist"][1]["holdout_accuracy"].get<double>(), 0.8712);
}

TEST(RunJson, SummaryCarriesTheTableFacts) {
  const auto done = run_summary_json(done_summary());
  EXPECT_EQ(done["id"], 12);
  EXPECT_EQ(done["kind"], "train");
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["started_at"], "2026-11-24T10:23:10.376Z");
  EXPECT_EQ(done["finished_at"], "2026-11-24T10:31:42.015Z");
  EXPECT_EQ(done["config_path"], "experiments/fmnist_cnn.yaml");
  EXPECT_EQ(done["seed"], 1);
  EXPECT_EQ(done["threads"], 2);
  EXPECT_EQ(done["epochs_done"], 2);
  EXPECT_EQ(done["test_accuracy"], 0.91234);

  const auto stopped = run_summary_json(running_summary());
  EXPECT_TRUE(stopped["finished_at"].is_null());
  EXPECT_TRUE(stopped["test_accuracy"].is_null());
  EXPECT_EQ(stopped["seed"].get<uint64_t>(), 12345678901ull);
}

TEST(RunJson, DetailCountsTheWeightsButLeavesThemOut) {
  const auto json = run_detail_json(done_detail());
  EXPECT_EQ(json["id"], 12);
  EXPECT_EQ(json["command_line"], "nas train --config experiments/fmnist_cnn.yaml");
  EXPECT_EQ(json["config_yaml"], "name: fmnist_cnn\ntrain:\n  epochs: 2\n");
  EXPECT_TRUE(json["error"].is_null());
  EXPECT_EQ(json["peak_rss_bytes"], 3 * 1024 * 1024 / 2);
  EXPECT_EQ(json["theta_w_count"], 3);
  EXPECT_EQ(json["state_count"], 2);
  EXPECT_FALSE(json.contains("weights"));
  EXPECT_FALSE(json.contains("state"));

  ASSERT_EQ(json["epochs"].size(), 2u);
  const auto& first = json["epochs"][0];
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_EQ(first["phase"], "train");
  EXPECT_EQ(first["learning_rate"], 0.4);
  EXPECT_EQ(first["train_loss"], 0.6123);
  EXPECT_EQ(first["train_accuracy"], 0.7812);
  EXPECT_TRUE(first["val_loss"].is_null());
  EXPECT_TRUE(first["val_accuracy"].is_null());
  EXPECT_EQ(first["test_loss"], 0.41);
  EXPECT_EQ(first["test_accuracy"], 0.8456);
  EXPECT_EQ(first["seconds"], 30.3);
  EXPECT_EQ(first["images_per_second"], 1983.4);
  EXPECT_EQ(json["epochs"][1]["val_accuracy"], 0.881);
  // One object, one line: what `nas show --json` prints.
  EXPECT_FALSE(contains(json.dump(), "\n"));
}

TEST(RunJson, DetailOfARunningRunHasNullsWhereNothingIsKnown) {
  RunDetail running;
  running.summary = running_summary();
  const auto json = run_detail_json(running);
  EXPECT_TRUE(json["peak_rss_bytes"].is_null());
  EXPECT_TRUE(json["error"].is_null());
  EXPECT_TRUE(json["epochs"].is_array());
  EXPECT_TRUE(json["epochs"].empty());
  EXPECT_EQ(json["theta_w_count"], 0);
}

}  // namespace
}  // namespace nas::results

namespace nas::results {
namespace {

RunDetail search_detail(double latency) {
  RunDetail d;
  d.summary.id = 7;
  d.summary.kind = "search";
  d.summary.status = "done";
  d.summary.target = "nano33";
  d.summary.test_accuracy = 0.9012;
  d.architecture = ArchitectureRecord{"nano33", "blocks:\n  - {name: b1, op: conv3x3, out: 12, stride: 1}\n",
                                      "layers: []\n", 2, 5,
                                      {{"ram", 98304, 262144.0, "--max-ram 256K"},
                                       {"flash", 204800, 1048576.0, "nano33 flash"},
                                       {"latency", latency, 0.05, "--max-latency 50ms"},
                                       {"energy", 4.5e-4, std::nullopt, ""}}};
  return d;
}

TEST(SearchDetail, ShowsTheArchitectureAndEachCostAgainstItsBudget) {
  const std::string text = format_run_detail(search_detail(0.0451));
  EXPECT_NE(text.find("target nano33"), std::string::npos) << text;
  EXPECT_NE(text.find("45.1 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("0.902"), std::string::npos) << text;  // cost/budget of latency
  EXPECT_NE(text.find("--max-latency 50ms"), std::string::npos) << text;
  EXPECT_NE(text.find("every budget met"), std::string::npos) << text;
  EXPECT_NE(text.find("{name: b1, op: conv3x3, out: 12, stride: 1}"), std::string::npos) << text;
  EXPECT_NE(text.find("2 channels were removed"), std::string::npos) << text;
  EXPECT_NE(text.find("90.12 %"), std::string::npos) << text;
  // A missed budget is said plainly.
  EXPECT_NE(format_run_detail(search_detail(0.06)).find("WARNING: a budget is missed"), std::string::npos);
}

TEST(SearchDetail, AnImportedNetworkShowsItsArchitectureWithoutABoard) {
  RunDetail d = search_detail(0.0451);
  d.summary.kind = "import";
  d.summary.target.clear();
  d.architecture->target.clear();
  d.architecture->costs.clear();
  d.architecture->repaired_channels = d.architecture->added_channels = 0;
  const std::string text = format_run_detail(d);
  EXPECT_NE(text.find("fixed architecture (imported; no board, so no costs"), std::string::npos) << text;
  EXPECT_NE(text.find("{name: b1, op: conv3x3, out: 12, stride: 1}"), std::string::npos) << text;
  EXPECT_EQ(text.find("every budget met"), std::string::npos) << text;  // nothing to meet
}

TEST(SearchDetail, JsonCarriesEveryCostWithItsBudgetAndRatio) {
  const auto json = run_detail_json(search_detail(0.0451));
  EXPECT_EQ(json["target"], "nano33");
  EXPECT_DOUBLE_EQ(json["costs"]["latency"]["ratio"].get<double>(), 0.0451 / 0.05);
  EXPECT_EQ(json["costs"]["latency"]["budget_source"], "--max-latency 50ms");
  EXPECT_TRUE(json["costs"]["energy"]["budget"].is_null());
  EXPECT_EQ(json["added_channels"], 5);
}

}  // namespace
}  // namespace nas::results
