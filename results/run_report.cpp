#include "results/run_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>

#include "constraints/budget.h"
#include "supernet/search_space.h"

namespace nas::results {

namespace {

constexpr double kBytesPerMiB = 1024.0 * 1024.0;

struct Column {
  const char* header;
  bool right_aligned;  // numbers line up on their last digit
};

// Columns as wide as their widest cell, two spaces apart, each line prefixed by `indent`. The last column is not
// padded, so lines carry no trailing blanks.
std::string format_table(const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows,
                         const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& column : columns) widths.push_back(std::string_view(column.header).size());
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());

  const auto line = [&](const auto& cell_of) {
    std::string out = indent;
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string cell = cell_of(c);
      const bool last = c + 1 == columns.size();
      if (columns[c].right_aligned)
        out += fmt::format("{:>{}}", cell, widths[c]);
      else
        out += last ? cell : fmt::format("{:<{}}", cell, widths[c]);
      out += last ? "\n" : "  ";
    }
    return out;
  };
  std::string out = line([&](size_t c) { return std::string(columns[c].header); });
  for (const auto& row : rows) out += line([&](size_t c) { return row[c]; });
  return out;
}

std::string percent(const std::optional<double>& fraction) {
  return fraction ? fmt::format("{:.2f}", 100 * *fraction) : "-";
}

// "2026-11-24T10:23:10.376Z" -> "2026-11-24 10:23:10": seconds are enough to tell runs apart in a list.
std::string short_time(const std::string& iso) {
  std::string out = iso.substr(0, 19);
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  return out;
}

std::string config_name(const std::string& config_path) { return config_path.empty() ? "(built in)" : config_path; }

std::string epochs_table(const std::vector<EpochRecord>& epochs) {
  static const std::vector<Column> columns = {{"epoch", true},      {"phase", false},       {"lr", true},
                                              {"train loss", true}, {"train acc %", true},  {"val acc %", true},
                                              {"test acc %", true}, {"seconds", true},      {"img/s", true}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : epochs) {
    rows.push_back({std::to_string(e.epoch), e.phase, fmt::format("{:.4g}", e.learning_rate),
                    fmt::format("{:.4f}", e.train_loss), percent(e.train_accuracy), percent(e.val_accuracy),
                    percent(e.test_accuracy), fmt::format("{:.1f}", e.seconds),
                    fmt::format("{:.0f}", e.images_per_second)});
  }
  return format_table(columns, rows, "  ");
}

std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += line.empty() ? "\n" : indent + line + "\n";
  return out;
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

nlohmann::json epoch_json(const EpochRecord& e) {
  return {{"epoch", e.epoch},
          {"phase", e.phase},
          {"learning_rate", e.learning_rate},
          {"train_loss", e.train_loss},
          {"train_accuracy", e.train_accuracy},
          {"val_loss", optional_json(e.val_loss)},
          {"val_accuracy", optional_json(e.val_accuracy)},
          {"test_loss", optional_json(e.test_loss)},
          {"test_accuracy", optional_json(e.test_accuracy)},
          {"seconds", e.seconds},
          {"images_per_second", e.images_per_second}};
}

constraints::Metric metric_of(const std::string& name) {
  for (const auto m : constraints::kMetrics)
    if (constraints::metric_name(m) == name) return m;
  return constraints::Metric::ram;
}

std::string costs_table(const std::vector<CostRecord>& costs) {
  static const std::vector<Column> columns = {{"metric", false}, {"exact cost", true}, {"budget", true},
                                              {"cost/budget", true}, {"budget from", false}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : costs) {
    const auto m = metric_of(c.metric);
    rows.push_back({c.metric, constraints::format_metric(m, c.value),
                    c.budget ? constraints::format_metric(m, *c.budget) : "-",
                    c.budget ? fmt::format("{:.3f}", c.value / *c.budget) : "-",
                    c.budget_source.empty() ? "-" : c.budget_source});
  }
  return format_table(columns, rows, "  ");
}

std::string architecture_section(const ArchitectureRecord& a) {
  if (a.target.empty() && a.costs.empty())  // a network brought in by nas import --as-seed: no board yet
    return "\n  fixed architecture (imported; no board, so no costs: nas profile RUN --target T measures them):\n" +
           indented(a.arch_yaml, "    ");
  std::string out = fmt::format("\n  target {}: exact costs of the fixed network\n", a.target);
  out += costs_table(a.costs);
  bool fits = true;
  for (const auto& c : a.costs) fits = fits && (!c.budget || c.value <= *c.budget);
  out += fits ? "  every budget met\n" : "  WARNING: a budget is missed (see cost/budget above)\n";
  if (a.repaired_channels > 0)
    out += fmt::format("  {} channels were removed after fixing to meet the budgets\n", a.repaired_channels);
  if (a.added_channels > 0)
    out += fmt::format("  {} masked channels were added back after fixing (budgets still met)\n", a.added_channels);
  out += "\n  fixed architecture:\n" + indented(a.arch_yaml, "    ");
  return out;
}

// The networks the fix step probed (search/shortlist.h), one line each; the chosen one is marked.
std::string shortlist_section(const std::vector<ShortlistRecord>& shortlist) {
  static const std::vector<Column> columns = {{"rank", true}, {"log P", true}, {"held-out %", true},
                                              {"chosen", false}, {"network", false}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : shortlist)
    rows.push_back({std::to_string(c.rank), fmt::format("{:.2f}", c.log_probability),
                    fmt::format("{:.2f}", 100 * c.holdout_accuracy), c.chosen ? "*" : "",
                    supernet::fixed_arch_line(supernet::parse_fixed_arch(YAML::Load(c.arch_yaml)))});
  return "\n  shortlist: the networks probed after the search (short training, held-out accuracy)\n" +
         format_table(columns, rows, "  ");
}

}  // namespace

nlohmann::json costs_json(const std::vector<CostRecord>& costs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& c : costs) {
    out[c.metric] = {{"value", c.value},
                     {"budget", optional_json(c.budget)},
                     {"ratio", c.budget ? nlohmann::json(c.value / *c.budget) : nlohmann::json(nullptr)},
                     {"budget_source", text_or_null(c.budget_source)}};
  }
  return out;
}

std::string format_runs_table(const std::vector<RunSummary>& runs) {
  static const std::vector<Column> columns = {{"id", true},     {"kind", false},       {"status", false},
                                              {"started", false}, {"epochs", true},    {"test acc %", true},
                                              {"seed", true},   {"target", false}, {"config", false}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs) {
    rows.push_back({std::to_string(r.id), r.kind, r.status, short_time(r.started_at), std::to_string(r.epochs_done),
                    percent(r.test_accuracy), std::to_string(r.seed), r.target.empty() ? "-" : r.target,
                    config_name(r.config_path)});
  }
  return format_table(columns, rows, "");
}

std::string format_run_detail(const RunDetail& run) {
  const RunSummary& s = run.summary;
  std::string out = fmt::format("run {}: {}, {}\n", s.id, s.kind, s.status);
  out += fmt::format("  config    {}\n", config_name(s.config_path));
  out += fmt::format("  command   {}\n", run.command_line);
  out += fmt::format("  started   {}\n", s.started_at);
  out += fmt::format("  finished  {}\n", s.finished_at.empty() ? "-" : s.finished_at);
  out += fmt::format("  seed      {}\n", s.seed);
  out += fmt::format("  threads   {}\n", s.threads);
  if (!run.error.empty()) out += fmt::format("  error     {}\n", run.error);

  out += "\n";
  out += run.epochs.empty() ? "  no finished epochs\n" : epochs_table(run.epochs);

  out += "\n";
  out += fmt::format("  final test accuracy  {}\n",
                     s.test_accuracy ? fmt::format("{:.2f} %", 100 * *s.test_accuracy) : "-");
  out += fmt::format("  peak RSS             {}\n",
                     run.peak_rss_bytes > 0
                         ? fmt::format("{:.1f} MiB", static_cast<double>(run.peak_rss_bytes) / kBytesPerMiB)
                         : "-");
  out += fmt::format("  weights              {} trained values (theta_w), {} state values\n", run.weights.size(),
                     run.state.size());

  if (run.architecture) out += architecture_section(*run.architecture);
  if (!run.shortlist.empty()) out += shortlist_section(run.shortlist);
  out += "\n  config:\n";
  out += indented(run.config_yaml, "    ");
  return out;
}

nlohmann::json run_summary_json(const RunSummary& r) {
  return {{"id", r.id},
          {"kind", r.kind},
          {"status", r.status},
          {"started_at", r.started_at},
          {"finished_at", text_or_null(r.finished_at)},
          {"config_path", r.config_path},
          {"seed", r.seed},
          {"threads", r.threads},
          {"epochs_done", r.epochs_done},
          {"test_accuracy", optional_json(r.test_accuracy)},
          {"target", text_or_null(r.target)}};
}

nlohmann::json run_detail_json(const RunDetail& run) {
  nlohmann::json out = run_summary_json(run.summary);
  out["command_line"] = run.command_line;
  out["config_yaml"] = run.config_yaml;
  out["error"] = text_or_null(run.error);
  out["peak_rss_bytes"] = run.peak_rss_bytes > 0 ? nlohmann::json(run.peak_rss_bytes) : nlohmann::json(nullptr);
  out["theta_w_count"] = run.weights.size();
  out["state_count"] = run.state.size();
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : run.epochs) epochs.push_back(epoch_json(e));
  out["epochs"] = std::move(epochs);
  if (run.architecture) {
    out["costs"] = costs_json(run.architecture->costs);
    out["architecture_yaml"] = run.architecture->arch_yaml;
    out["model_yaml"] = run.architecture->model_yaml;
    out["repaired_channels"] = run.architecture->repaired_channels;
    out["added_channels"] = run.architecture->added_channels;
  }
  nlohmann::json trace = nlohmann::json::array();
  for (const auto& t : run.budget_trace)
    trace.push_back({{"epoch", t.epoch}, {"metric", t.metric}, {"expected", t.expected}, {"fixed", t.fixed},
                     {"budget", t.budget}, {"lambda", t.lambda}});
  if (!trace.empty()) out["budget_trace"] = std::move(trace);
  nlohmann::json shortlist = nlohmann::json::array();
  for (const auto& c : run.shortlist)
    shortlist.push_back({{"rank", c.rank}, {"architecture_yaml", c.arch_yaml}, {"log_probability", c.log_probability},
                         {"holdout_accuracy", c.holdout_accuracy}, {"holdout_loss", c.holdout_loss},
                         {"chosen", c.chosen}});
  if (!shortlist.empty()) out["shortlist"] = std::move(shortlist);
  return out;
}

}  // namespace nas::results
