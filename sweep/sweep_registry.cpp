#include "sweep/sweep_registry.h"

#include "common/error.h"
#include "results/sqlite_statement.h"

namespace nas::sweep {

namespace {

using results::sql::Statement;

constexpr const char* kSelect =
    "SELECT name, created_at, executor, dir, jobs, command_line, coalesce(slurm_job_id, '') FROM sweeps";

SweepRecord read_sweep(const Statement& row) {
  return {row.text(0), row.text(1), row.text(2), row.text(3), static_cast<int32_t>(row.integer(4)), row.text(5),
          row.text(6)};
}

}  // namespace

void record_sweep(results::ResultsDb& db, const SweepRecord& s) {
  const std::string where = db.path().string();
  if (find_sweep(db, s.name))
    throw Error("--name", "a sweep named '" + s.name + "' is already in " + where +
                              " (pick another name, or follow it with nas sweep --status " + s.name + ")");
  results::sql::Transaction tx(db.connection(), where);
  Statement insert(db.connection(), where,
                   "INSERT INTO sweeps (name, created_at, executor, dir, jobs, command_line) VALUES "
                   "(?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?)");
  insert.bind(1, s.name).bind(2, s.executor).bind(3, s.dir.string()).bind(4, int64_t{s.jobs});
  insert.bind(5, s.command_line).run();
  tx.commit();
}

void forget_sweep(results::ResultsDb& db, const std::string& name) {
  const std::string where = db.path().string();
  results::sql::Transaction tx(db.connection(), where);
  Statement remove(db.connection(), where, "DELETE FROM sweeps WHERE name = ?");
  remove.bind(1, name).run();
  tx.commit();
}

void set_slurm_job_id(results::ResultsDb& db, const std::string& name, const std::string& job_id) {
  const std::string where = db.path().string();
  results::sql::Transaction tx(db.connection(), where);
  Statement update(db.connection(), where, "UPDATE sweeps SET slurm_job_id = ? WHERE name = ?");
  update.bind(1, job_id).bind(2, name).run();
  tx.commit();
}

std::optional<SweepRecord> find_sweep(const results::ResultsDb& db, const std::string& name) {
  Statement query(db.connection(), db.path().string(), std::string(kSelect) + " WHERE name = ?");
  query.bind(1, name);
  if (!query.step()) return std::nullopt;
  return read_sweep(query);
}

SweepRecord require_sweep(const results::ResultsDb& db, const std::string& name) {
  if (auto found = find_sweep(db, name)) return *found;
  std::string known;
  for (const auto& s : list_sweeps(db)) known += (known.empty() ? "" : ", ") + s.name;
  throw Error(name, "no such sweep in " + db.path().string() +
                        (known.empty() ? std::string(" (it has none)") : " (known: " + known + ")"));
}

std::vector<SweepRecord> list_sweeps(const results::ResultsDb& db) {
  Statement query(db.connection(), db.path().string(), std::string(kSelect) + " ORDER BY created_at, name");
  std::vector<SweepRecord> out;
  while (query.step()) out.push_back(read_sweep(query));
  return out;
}

std::string next_sweep_name(const results::ResultsDb& db) {
  for (int n = 1;; ++n) {
    const std::string name = "sweep-" + std::to_string(n);
    if (!find_sweep(db, name)) return name;
  }
}

std::vector<std::pair<int32_t, int64_t>> merged_runs(const results::ResultsDb& db, const std::string& sweep) {
  Statement query(db.connection(), db.path().string(),
                  "SELECT sweep_job, id FROM runs WHERE sweep = ? ORDER BY sweep_job, id");
  query.bind(1, sweep);
  std::vector<std::pair<int32_t, int64_t>> out;
  while (query.step()) out.emplace_back(static_cast<int32_t>(query.integer(0)), query.integer(1));
  return out;
}

}  // namespace nas::sweep
