#include "search/run_report.h"

#include <fmt/core.h>

#include <sstream>

namespace nas::search {

namespace {

std::string percent(const std::optional<double>& value) {
  return value ? fmt::format("{:.2f}", 100 * *value) : "-";
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::string format_runs_table(const std::vector<RunSummary>& runs) {
  std::string out = fmt::format("{:>5}  {:<7} {:<11} {:<20} {:>6} {:>9} {:>6}  {}\n", "run", "kind", "status", "started",
                                "epochs", "test acc%", "seed", "config");
  for (const auto& r : runs) {
    out += fmt::format("{:>5}  {:<7} {:<11} {:<20} {:>6} {:>9} {:>6}  {}\n", r.id, r.kind, r.status,
                       r.started_at.substr(0, 19), r.epochs_done, percent(r.test_accuracy), r.seed, r.config_path);
  }
  return out;
}

std::string format_run_detail(const RunDetail& run) {
  const RunSummary& s = run.summary;
  std::string out = fmt::format("run {} ({}): {}\n", s.id, s.kind, s.status);
  out += fmt::format("  config      {}\n  command     {}\n  started     {}\n  finished    {}\n  seed        {}\n"
                     "  threads     {}\n",
                     s.config_path.empty() ? "(built in)" : s.config_path, run.command_line, s.started_at,
                     s.finished_at.empty() ? "-" : s.finished_at, s.seed, s.threads);
  if (!run.error.empty()) out += fmt::format("  error       {}\n", run.error);
  out += fmt::format("  test acc    {}%\n  peak RSS    {:.0f} MiB\n  parameters  {} trained, {} state\n",
                     percent(s.test_accuracy), static_cast<double>(run.peak_rss_bytes) / (1 << 20), run.weights.size(),
                     run.state.size());
  if (!run.epochs.empty()) {
    out += fmt::format("\n  {:>5} {:<8} {:>8} {:>10} {:>9} {:>8} {:>9} {:>8} {:>8}\n", "epoch", "phase", "lr",
                       "train loss", "train %", "val %", "test %", "seconds", "img/s");
    for (const auto& e : run.epochs) {
      out += fmt::format("  {:>5} {:<8} {:>8.4f} {:>10.4f} {:>9.2f} {:>8} {:>9} {:>8.1f} {:>8.0f}\n", e.epoch, e.phase,
                         e.learning_rate, e.train_loss, 100 * e.train_accuracy, percent(e.val_accuracy),
                         percent(e.test_accuracy), e.seconds, e.images_per_second);
    }
  }
  out += "\n  config:\n";
  std::istringstream lines(run.config_yaml);
  for (std::string line; std::getline(lines, line);) out += "    " + line + "\n";
  return out;
}

nlohmann::json run_summary_json(const RunSummary& r) {
  return {{"id", r.id},
          {"kind", r.kind},
          {"status", r.status},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.finished_at)},
          {"config_path", r.config_path},
          {"seed", r.seed},
          {"threads", r.threads},
          {"epochs", r.epochs_done},
          {"test_accuracy", optional_json(r.test_accuracy)}};
}

nlohmann::json run_detail_json(const RunDetail& run) {
  nlohmann::json out = run_summary_json(run.summary);
  out["command_line"] = run.command_line;
  out["config_yaml"] = run.config_yaml;
  out["error"] = run.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.error);
  out["peak_rss_bytes"] = run.peak_rss_bytes;
  out["trained_parameters"] = run.weights.size();
  out["state_values"] = run.state.size();
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : run.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"phase", e.phase},
                      {"learning_rate", e.learning_rate},
                      {"train_loss", e.train_loss},
                      {"train_accuracy", e.train_accuracy},
                      {"val_loss", optional_json(e.val_loss)},
                      {"val_accuracy", optional_json(e.val_accuracy)},
                      {"test_loss", optional_json(e.test_loss)},
                      {"test_accuracy", optional_json(e.test_accuracy)},
                      {"seconds", e.seconds},
                      {"images_per_second", e.images_per_second}});
  }
  out["epochs"] = epochs;
  return out;
}

}  // namespace nas::search
