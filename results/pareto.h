// `nas pareto`: the trade-off between accuracy and one cost (latency, RAM, flash or energy) over every finished
// search in the results database, per target board. A candidate is dominated when another of the same board costs
// no more and is at least as accurate, and is strictly better in one of the two.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/front_plot.h"
#include "results/results_db.h"

namespace nas::results {

struct ParetoQuery {
  std::optional<std::string> target;       // one board, or all
  std::optional<std::string> sweep;        // one sweep's runs, or all
  std::string x = "latency";               // latency, ram, flash, energy
  std::string y = "accuracy";              // accuracy (the only one so far)
  std::string series = "target";           // plot series per "target", or per "sweep" (seed runs on their own)
  // Latency and energy as measured by the newest `nas profile` / `nas deploy --run-qemu` of the run on its own
  // target (instructions counted in QEMU × cycles per instruction); runs never measured are left out.
  bool measured = false;
};

struct Candidate {
  int64_t run_id = 0;
  std::string kind;                        // "search" or "seed" (the unconstrained reference)
  std::string target;
  std::string sweep;                       // "" outside sweeps
  uint64_t seed = 0;
  double accuracy = 0;                     // test accuracy, 0..1
  std::map<std::string, double> costs;     // metric -> exact cost (bytes, seconds, joules)
  std::string budgets;                     // the budgets the search was given: "--max-latency 50ms --max-ram 256K"
  bool dominated = false;
};

// Checks x and y (bad input names the flag and the accepted values).
void check_query(const ParetoQuery& query);

// Throws bad input naming the targets the database has runs for, unless `target` is one of them: a misspelt
// board would otherwise print an empty front and exit 0.
void require_target_with_runs(const ResultsDb& db, const std::string& target);

// Every done search or seed run with an architecture, matching the query, with `dominated` set per target.
std::vector<Candidate> pareto_candidates(const ResultsDb& db, const ParetoQuery& query);

// The front (or every candidate with `all`), per target, cheapest first.
std::string format_pareto(const std::vector<Candidate>& candidates, const ParetoQuery& query, bool all);
nlohmann::json pareto_json(const std::vector<Candidate>& candidates, const ParetoQuery& query);
// One series per target (or per sweep); x in the unit a person reads (ms, KiB, mJ), accuracy in %. Domination is
// always judged per target.
FrontPlot pareto_plot(const std::vector<Candidate>& candidates, const ParetoQuery& query);

}  // namespace nas::results
