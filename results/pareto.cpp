#include "results/pareto.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "constraints/budget.h"
#include "results/sqlite_statement.h"

namespace nas::results {

namespace {

using nlohmann::json;

struct Axis {
  const char* metric;
  const char* label;   // with the unit of `scale`
  double scale;        // stored unit (bytes, s, J) to the plotted one
};

constexpr Axis kAxes[] = {
    {"latency", "latency per inference [ms]", 1e3},
    {"ram", "peak RAM incl. firmware reserve [KiB]", 1.0 / 1024},
    {"flash", "flash incl. firmware reserve [KiB]", 1.0 / 1024},
    {"energy", "energy per inference [mJ]", 1e3},
    {"macs", "multiply-accumulates per inference [M]", 1e-6},
    {"params", "parameters [K]", 1e-3},
};

const Axis& axis(const std::string& metric) {
  for (const auto& a : kAxes)
    if (metric == a.metric) return a;
  throw Error("--x", "'" + metric + "' is not a cost (known: latency, ram, flash, energy, macs, params)");
}

double cost(const Candidate& c, const std::string& metric) {
  const auto it = c.costs.find(metric);
  return it == c.costs.end() ? NAN : it->second;
}

// Per target: sorted by cost (then accuracy, best first), a candidate is on the front when it is more accurate
// than everything cheaper; equal points are all kept.
void mark_dominated(std::vector<Candidate>& candidates, const std::string& x) {
  for (auto& c : candidates) {
    c.dominated = false;
    for (const auto& other : candidates) {
      if (&other == &c || other.target != c.target) continue;
      const double ox = cost(other, x), cx = cost(c, x);
      if (ox <= cx && other.accuracy >= c.accuracy && (ox < cx || other.accuracy > c.accuracy)) {
        c.dominated = true;
        break;
      }
    }
  }
}

std::vector<const Candidate*> ordered(const std::vector<Candidate>& candidates, const std::string& x) {
  std::vector<const Candidate*> out;
  for (const auto& c : candidates) out.push_back(&c);
  std::stable_sort(out.begin(), out.end(), [&](const Candidate* a, const Candidate* b) {
    if (a->target != b->target) return a->target < b->target;
    if (cost(*a, x) != cost(*b, x)) return cost(*a, x) < cost(*b, x);
    return a->accuracy > b->accuracy;
  });
  return out;
}

}  // namespace

void check_query(const ParetoQuery& query) {
  axis(query.x);
  if (query.y != "accuracy") throw Error("--y", "'" + query.y + "' is not supported (known: accuracy)");
  if (query.series != "target" && query.series != "sweep")
    throw Error("--by", "'" + query.series + "' is not a way to group the plot (known: target, sweep)");
}

void require_target_with_runs(const ResultsDb& db, const std::string& target) {
  sql::Statement targets(db.connection(), db.path().string(),
                         "SELECT DISTINCT target FROM architectures ORDER BY target");
  std::string known;
  while (targets.step()) {
    if (targets.text(0) == target) return;
    known += (known.empty() ? "" : ", ") + targets.text(0);
  }
  throw Error("--target", "no run in " + db.path().string() + " was searched for '" + target + "'" +
                              (known.empty() ? std::string(" (it has no searched runs yet)")
                                             : " (its runs are for: " + known + ")"));
}

std::vector<Candidate> pareto_candidates(const ResultsDb& db, const ParetoQuery& query) {
  check_query(query);
  const std::string where = db.path().string();
  sql::Statement runs(db.connection(), where,
                      "SELECT r.id, r.kind, a.target, coalesce(r.sweep, ''), r.seed, r.test_accuracy FROM runs r "
                      "JOIN architectures a ON a.run_id = r.id WHERE r.status = 'done' AND r.test_accuracy IS NOT "
                      "NULL AND (?1 IS NULL OR a.target = ?1) AND (?2 IS NULL OR r.sweep = ?2) ORDER BY r.id");
  if (query.target) runs.bind(1, *query.target); else runs.bind_null(1);
  if (query.sweep) runs.bind(2, *query.sweep); else runs.bind_null(2);
  std::vector<Candidate> out;
  while (runs.step()) {
    Candidate c;
    c.run_id = runs.integer(0);
    c.kind = runs.text(1);
    c.target = runs.text(2);
    c.sweep = runs.text(3);
    c.seed = static_cast<uint64_t>(runs.integer(4));
    c.accuracy = runs.real(5);
    out.push_back(std::move(c));
  }
  for (auto& c : out) {
    // Budgets the user gave start with the flag ("--max-latency 50ms"); the board's own limits do not.
    sql::Statement costs(db.connection(), where,
                         "SELECT metric, value, coalesce(budget_source, '') FROM costs WHERE run_id = ? ORDER BY "
                         "CASE metric WHEN 'latency' THEN 0 WHEN 'ram' THEN 1 WHEN 'flash' THEN 2 ELSE 3 END");
    costs.bind(1, c.run_id);
    while (costs.step()) {
      c.costs[costs.text(0)] = costs.real(1);
      const std::string source = costs.text(2);
      if (source.rfind("--", 0) == 0) c.budgets += (c.budgets.empty() ? "" : " ") + source;
    }
  }
  if (query.measured)
    for (auto& c : out) {
      sql::Statement m(db.connection(), where,
                       "SELECT measured_latency_s, measured_energy_j FROM deployments WHERE run_id = ? AND target = ? "
                       "AND kind = 'qemu' AND measured_latency_s IS NOT NULL ORDER BY id DESC LIMIT 1");
      m.bind(1, c.run_id).bind(2, c.target);
      c.costs.erase("latency");
      c.costs.erase("energy");
      if (m.step()) {
        c.costs["latency"] = m.real(0);
        c.costs["energy"] = m.real(1);
      }
    }
  // A run without the x cost cannot be placed.
  std::erase_if(out, [&](const Candidate& c) { return std::isnan(cost(c, query.x)); });
  mark_dominated(out, query.x);
  return out;
}

std::string format_pareto(const std::vector<Candidate>& candidates, const ParetoQuery& query, bool all) {
  if (candidates.empty()) return "no finished searches match (nas runs lists the runs; nas sweep fills fronts)\n";
  std::string out = fmt::format("{:<8} {:>5}  {:<6} {:<10} {:>8}  {:>10} {:>10} {:>10} {:>10} {:>12}  {}\n",
                                "target", "run", "kind", "sweep", "accuracy", "latency", "ram", "flash", "energy",
                                "macs", "budgets");
  size_t shown = 0;
  for (const Candidate* c : ordered(candidates, query.x)) {
    if (c->dominated && !all) continue;
    ++shown;
    std::string row = fmt::format("{:<8} {:>5}  {:<6} {:<10} {:>7.2f}%", c->target, c->run_id, c->kind,
                                  c->sweep.empty() ? "-" : c->sweep, 100 * c->accuracy);
    for (const char* m : {"latency", "ram", "flash", "energy", "macs"}) {
      const std::string value = std::isnan(cost(*c, m))
                                    ? "-"
                                    : constraints::format_metric(*constraints::metric_named(m), cost(*c, m));
      row += fmt::format(" {:>{}}", value, std::string_view(m) == "macs" ? 12 : 10);
    }
    row += "  " + (c->budgets.empty() ? std::string(c->kind == "seed" ? "(seed network)" : "-") : c->budgets);
    if (all && c->dominated) row += "  (dominated)";
    out += row + "\n";
  }
  out += fmt::format("{} of {} candidates on the front of accuracy vs {}{}\n",
                     std::count_if(candidates.begin(), candidates.end(),
                                   [](const Candidate& c) { return !c.dominated; }),
                     candidates.size(), query.x, all || shown == candidates.size() ? "" : " (--all shows the others)");
  return out;
}

json pareto_json(const std::vector<Candidate>& candidates, const ParetoQuery& query) {
  json list = json::array();
  for (const Candidate* c : ordered(candidates, query.x)) {
    json costs = json::object();
    for (const auto& [metric, value] : c->costs) costs[metric] = value;
    list.push_back({{"run_id", c->run_id},
                    {"kind", c->kind},
                    {"target", c->target},
                    {"sweep", c->sweep.empty() ? json(nullptr) : json(c->sweep)},
                    {"seed", c->seed},
                    {"test_accuracy", c->accuracy},
                    {"costs", costs},
                    {"budgets", c->budgets},
                    {"dominated", c->dominated}});
  }
  return {{"x", query.x}, {"y", query.y}, {"candidates", list}};
}

FrontPlot pareto_plot(const std::vector<Candidate>& candidates, const ParetoQuery& query) {
  const Axis& a = axis(query.x);
  FrontPlot plot;
  plot.title = fmt::format("test accuracy vs {}{}{}", query.x, query.target ? " on " + *query.target : "",
                           query.sweep ? " (sweep " + *query.sweep + ")" : "");
  plot.x_label = a.label;
  plot.y_label = "test accuracy [%]";
  double lo = INFINITY, hi = 0;
  // Per sweep, the board is named only when there are several.
  const bool one_target = std::all_of(candidates.begin(), candidates.end(),
                                      [&](const Candidate& c) { return c.target == candidates.front().target; });
  const auto series_name = [&](const Candidate& c) {
    if (query.series == "target") return c.target;
    const std::string board = one_target ? "" : " (" + c.target + ")";
    if (c.kind == "seed") return "seed network" + board;
    return (c.sweep.empty() ? std::string("no sweep") : c.sweep) + board;
  };
  for (const Candidate* c : ordered(candidates, query.x)) {
    const std::string name = series_name(*c);
    auto series = std::find_if(plot.series.begin(), plot.series.end(), [&](const auto& s) { return s.name == name; });
    if (series == plot.series.end()) series = plot.series.insert(plot.series.end(), {name, {}});
    const double x = cost(*c, query.x) * a.scale;
    series->points.push_back({x, 100 * c->accuracy, c->dominated});
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  // Costs of searched nets often span two decades (a seed network against the tightest budget).
  plot.log_x = lo > 0 && hi / lo > 20;
  return plot;
}

}  // namespace nas::results
