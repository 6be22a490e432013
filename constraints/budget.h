// A budget: one metric (RAM, flash, latency, energy) and its limit, with where the limit came from (a command-line
// flag or the board's physical limit), so reports can say which budget bound and why it exists.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nas::constraints {

// macs and params are the network's multiply-accumulates per inference and its parameters (weights and biases
// after BatchNorm folding): not what a board pays, but what papers and other tools budget, so fronts compare.
enum class Metric { ram, flash, latency, energy, macs, params };

inline constexpr Metric kMetrics[] = {Metric::ram,    Metric::flash, Metric::latency,
                                      Metric::energy, Metric::macs,  Metric::params};

std::string_view metric_name(Metric metric);  // "ram", "flash", "latency", "energy", "macs", "params"
// The metric of that name (as stored in the results database), or nullopt.
std::optional<Metric> metric_named(std::string_view name);
// The value in the metric's unit (bytes, seconds, joules) for people: "212 KiB", "48.3 ms", "1.2 mJ".
std::string format_metric(Metric metric, double value);

struct Budget {
  Metric metric = Metric::ram;
  double limit = 0;     // bytes, seconds or joules
  std::string source;   // "--max-ram 256K", "nano33 SRAM"
};

// The budgets of a search: one per metric at most; a user flag replaces the board's implicit limit of the same
// metric when it is tighter, and is refused when it exceeds what the board has (that budget could never bind).
struct BudgetFlags {
  std::string max_ram, max_flash, max_latency, max_energy;  // as typed; "" when not given
  std::string max_macs = {}, max_params = {};
  bool any() const {
    return !(max_ram.empty() && max_flash.empty() && max_latency.empty() && max_energy.empty() && max_macs.empty() &&
             max_params.empty());
  }
};
struct BoardLimits {
  std::string board;
  double ram_bytes = 0, flash_bytes = 0;  // what the board has in total (the costs include the firmware's share)
};
// Throws nas::Error (bad input) naming the flag for bad units or a limit above the board's.
std::vector<Budget> make_budgets(const BudgetFlags& flags, const BoardLimits& board);

}  // namespace nas::constraints
