#include "constraints/budget.h"

#include <fmt/core.h>

#include "common/error.h"
#include "constraints/budget_units.h"

namespace nas::constraints {

std::optional<Metric> metric_named(std::string_view name) {
  for (const Metric m : kMetrics)
    if (metric_name(m) == name) return m;
  return std::nullopt;
}

std::string_view metric_name(Metric metric) {
  switch (metric) {
    case Metric::ram: return "ram";
    case Metric::flash: return "flash";
    case Metric::latency: return "latency";
    case Metric::energy: return "energy";
    case Metric::macs: return "macs";
    case Metric::params: return "params";
  }
  return "?";
}

std::string format_metric(Metric metric, double value) {
  switch (metric) {
    case Metric::ram:
    case Metric::flash: return format_bytes(static_cast<int64_t>(value + 0.5));
    case Metric::latency: return format_seconds(value);
    case Metric::energy:
      if (value >= 1.0) return fmt::format("{:.3g} J", value);
      if (value >= 1e-3) return fmt::format("{:.3g} mJ", value * 1e3);
      return fmt::format("{:.3g} uJ", value * 1e6);
    case Metric::macs: return format_count(value) + " MACs";
    case Metric::params: return format_count(value) + " params";
  }
  return "?";
}

std::vector<Budget> make_budgets(const BudgetFlags& flags, const BoardLimits& board) {
  std::vector<Budget> budgets;
  auto size_budget = [&](Metric metric, const std::string& text, const char* flag, double board_limit,
                         const char* board_what) {
    if (text.empty()) {
      budgets.push_back({metric, board_limit, board.board + " " + board_what});
      return;
    }
    const double limit = static_cast<double>(parse_bytes(text, flag));
    if (limit <= 0) throw Error(flag, "must be positive (got '" + text + "')");
    if (limit > board_limit)
      throw Error(flag, fmt::format("{} exceeds the {} {} of {} (give at most {}, or leave the flag out to use "
                                    "the whole board)", text, board.board, board_what, format_bytes(static_cast<int64_t>(board_limit)),
                                    format_bytes(static_cast<int64_t>(board_limit))));
    budgets.push_back({metric, limit, std::string(flag) + " " + text});
  };
  size_budget(Metric::ram, flags.max_ram, "--max-ram", board.ram_bytes, "SRAM");
  size_budget(Metric::flash, flags.max_flash, "--max-flash", board.flash_bytes, "flash");
  if (!flags.max_latency.empty()) {
    const double limit = parse_seconds(flags.max_latency, "--max-latency");
    if (limit <= 0) throw Error("--max-latency", "must be positive (got '" + flags.max_latency + "')");
    budgets.push_back({Metric::latency, limit, "--max-latency " + flags.max_latency});
  }
  if (!flags.max_energy.empty()) {
    const double limit = parse_joules(flags.max_energy, "--max-energy");
    if (limit <= 0) throw Error("--max-energy", "must be positive (got '" + flags.max_energy + "')");
    budgets.push_back({Metric::energy, limit, "--max-energy " + flags.max_energy});
  }
  auto count_budget = [&](Metric metric, const std::string& text, const char* flag) {
    if (text.empty()) return;
    const double limit = parse_count(text, flag);
    if (limit <= 0) throw Error(flag, "must be positive (got '" + text + "')");
    budgets.push_back({metric, limit, std::string(flag) + " " + text});
  };
  count_budget(Metric::macs, flags.max_macs, "--max-macs");
  count_budget(Metric::params, flags.max_params, "--max-params");
  return budgets;
}

}  // namespace nas::constraints
