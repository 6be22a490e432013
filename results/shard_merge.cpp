#include "results/shard_merge.h"

#include <fmt/core.h>

#include <vector>

#include "common/error.h"
#include "results/sqlite_statement.h"

namespace nas::results {

namespace {

using sql::exec;
using sql::Statement;

// The tables that hang off a run, in the order they are copied. Their columns are read from the schema, so a
// column added later is merged without touching this file.
constexpr const char* kRunTables[] = {"epochs",        "weights",         "architectures",   "costs",
                                     "budget_trace",  "arch_gradient_trace", "distillations", "finetune_starts",
                                     "finetune_sources", "candidate_accuracy", "shortlist", "imported_models"};

std::vector<std::string> columns_except(sqlite3* db, const std::string& where, const std::string& table,
                                        const std::vector<std::string>& skip) {
  std::vector<std::string> columns;
  Statement info(db, where, "PRAGMA main.table_info(" + table + ")");
  while (info.step()) {
    const std::string name = info.text(1);
    bool skipped = false;
    for (const auto& s : skip) skipped = skipped || s == name;
    if (!skipped) columns.push_back(name);
  }
  return columns;
}

std::string joined(const std::vector<std::string>& columns, const std::string& prefix) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + prefix + c;
  return out;
}

int32_t count(sqlite3* db, const std::string& where, const std::string& sql) {
  Statement query(db, where, sql);
  return query.step() ? static_cast<int32_t>(query.integer(0)) : 0;
}

// ATTACH and DETACH cannot run inside a transaction, so the shard is attached for the whole merge and detached on
// every way out.
class AttachedShard {
 public:
  AttachedShard(sqlite3* db, const std::string& where, const std::filesystem::path& shard) : db_(db) {
    Statement attach(db, where, "ATTACH DATABASE ? AS shard");
    attach.bind(1, shard.string()).run();
  }
  ~AttachedShard() { sqlite3_exec(db_, "DETACH DATABASE shard", nullptr, nullptr, nullptr); }
  AttachedShard(const AttachedShard&) = delete;
  AttachedShard& operator=(const AttachedShard&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace

MergeResult merge_shard(ResultsDb& main, const std::filesystem::path& shard, const std::optional<SweepTag>& tag,
                        const MergeStepHook& after_table) {
  namespace fs = std::filesystem;
  const std::string where = shard.string();
  std::error_code ec;
  if (!fs::exists(shard, ec)) throw Error(where, "no such shard (nas sweep --status names each job's shard)");
  if (fs::equivalent(shard, main.path(), ec))
    throw Error(where, "is the main database itself; pass a shard written by another job");
  // Opening the shard on its own checks that it is an mcunas database and brings it to the current schema, so the
  // column lists below hold for both files.
  { const ResultsDb checked(shard); }

  sqlite3* db = main.connection();
  const std::string main_where = main.path().string();
  const AttachedShard attached(db, where, shard);
  sql::Transaction tx(db, main_where);
  exec(db, main_where, "CREATE TEMP TABLE IF NOT EXISTS merge_uids (uid TEXT PRIMARY KEY)");
  exec(db, main_where, "DELETE FROM temp.merge_uids");
  exec(db, main_where,
       "INSERT INTO temp.merge_uids SELECT uid FROM shard.runs "
       "WHERE status = 'done' AND uid NOT IN (SELECT uid FROM main.runs)");

  MergeResult result;
  result.added = count(db, main_where, "SELECT count(*) FROM temp.merge_uids");
  result.already = count(db, main_where,
                         "SELECT count(*) FROM shard.runs WHERE status = 'done' AND uid IN (SELECT uid FROM main.runs)");
  result.not_done = count(db, main_where, "SELECT count(*) FROM shard.runs WHERE status != 'done'");

  // Runs get new ids in the main database; everything else is matched through the uid.
  const auto run_columns = columns_except(db, main_where, "runs", {"id", "sweep", "sweep_job"});
  Statement runs(db, main_where,
                 fmt::format("INSERT INTO main.runs ({0}, sweep, sweep_job) SELECT {0}, coalesce(?, sweep), "
                             "coalesce(?, sweep_job) FROM shard.runs WHERE uid IN (SELECT uid FROM temp.merge_uids) "
                             "ORDER BY id",
                             joined(run_columns, "")));
  if (tag) {
    runs.bind(1, tag->sweep).bind(2, int64_t{tag->job});
  } else {
    runs.bind_null(1).bind_null(2);
  }
  runs.run();
  if (after_table) after_table("runs");

  for (const char* table : kRunTables) {
    const auto columns = columns_except(db, main_where, table, {"run_id"});
    // rowid order keeps the order rows were written in (nas show lists epochs in the order the phases ran).
    exec(db, main_where,
         fmt::format("INSERT INTO main.{0} (run_id, {1}) SELECT m.id, {2} FROM shard.{0} t "
                     "JOIN shard.runs s ON s.id = t.run_id JOIN main.runs m ON m.uid = s.uid "
                     "WHERE s.uid IN (SELECT uid FROM temp.merge_uids) ORDER BY t.rowid",
                     table, joined(columns, ""), joined(columns, "t."))
             .c_str());
    if (after_table) after_table(table);
  }
  tx.commit();
  return result;
}

}  // namespace nas::results
