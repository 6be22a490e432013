#include "search/results_db.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "supernet/error.h"

namespace nas::search {

namespace {

constexpr int kSchemaVersion = 1;

// Every table; CREATE IF NOT EXISTS so opening an existing database is a no-op. docs/results-schema.md explains
// each column.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS mcunas_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  started_at TEXT NOT NULL,
  finished_at TEXT,
  config_path TEXT NOT NULL,
  config_yaml TEXT NOT NULL,
  command_line TEXT NOT NULL,
  seed INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  test_accuracy REAL,
  error TEXT,
  peak_rss_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS epochs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  phase TEXT NOT NULL,
  learning_rate REAL NOT NULL,
  train_loss REAL NOT NULL,
  train_accuracy REAL NOT NULL,
  val_loss REAL,
  val_accuracy REAL,
  test_loss REAL,
  test_accuracy REAL,
  seconds REAL NOT NULL,
  images_per_second REAL NOT NULL,
  PRIMARY KEY (run_id, phase, epoch)
);
CREATE TABLE IF NOT EXISTS weights (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, name)
);
)sql";

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// A prepared statement that finalises itself. Values are always bound, never pasted into SQL text.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& where) : db_(db), where_(where) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) fail();
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int i, const std::optional<double>& v) { return v ? bind(i, *v) : check(sqlite3_bind_null(stmt_, i)); }
  Statement& bind_floats(int i, const std::vector<float>& v) {
    // float32 in the host's byte order; every host we build on (x86-64, AArch64) is little-endian, as documented.
    return check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size() * sizeof(float), SQLITE_TRANSIENT));
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail();
    return false;
  }
  void run() {
    while (step()) {
    }
  }

  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::optional<double> optional_real(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return real(col);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::vector<float> floats(int col) const {
    std::vector<float> out(static_cast<size_t>(sqlite3_column_bytes(stmt_, col)) / sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), sqlite3_column_blob(stmt_, col), out.size() * sizeof(float));
    return out;
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail();
    return *this;
  }
  [[noreturn]] void fail() const { throw Error(where_, sqlite3_errmsg(db_), Error::Kind::failure); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string where_;
};

void exec(sqlite3* db, const char* sql, const std::string& where) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw Error(where, text, Error::Kind::failure);
  }
}

// BEGIN IMMEDIATE … COMMIT, rolled back if anything throws before commit().
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& where) : db_(db), where_(where) {
    exec(db_, "BEGIN IMMEDIATE", where_);
  }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT", where_);
    committed_ = true;
  }

 private:
  sqlite3* db_;
  std::string where_;
  bool committed_ = false;
};

// Refuses, before SQLite touches anything, paths that cannot hold our database: a missing or unwritable
// directory, a directory in place of the file, a file that is not SQLite.
void check_path(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(parent, ec))
    throw Error(where, "cannot create the results database: directory " + parent.string() + " does not exist");
  if (std::filesystem::is_directory(path, ec))
    throw Error(where, "is a directory; pass --db with a file path, e.g. --db " + (path / "mcunas.db").string());
  if (std::filesystem::exists(path, ec)) {
    char header[16] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(header, sizeof header);
    if (in.gcount() > 0 && std::memcmp(header, "SQLite format 3", 16) != 0)
      throw Error(where, "is not an SQLite database (left untouched); pass --db with another path");
    if (access(path.c_str(), R_OK | W_OK) != 0)
      throw Error(where, "cannot open the results database for writing: permission denied");
  } else if (access(parent.c_str(), W_OK) != 0) {
    throw Error(where, "cannot create the results database: directory " + parent.string() + " is not writable");
  }
}

}  // namespace

ResultsDb::ResultsDb(const std::filesystem::path& path) : path_(path) {
  check_path(path);
  const std::string where = path.string();
  if (sqlite3_open_v2(where.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error(where, "cannot open the results database: " + message);
  }
  try {
    exec(db_, "PRAGMA busy_timeout = 5000", where);
    // A database with tables but no mcunas_meta belongs to somebody else: leave it alone.
    {  // scoped: an unfinished statement holds a read transaction, and journal_mode cannot change inside one
      Statement tables(db_, "SELECT count(*), sum(name = 'mcunas_meta') FROM sqlite_master WHERE type = 'table'", where);
      tables.step();
      if (tables.integer(0) > 0 && tables.integer(1) == 0)
        throw Error(where, "is an SQLite database but not an mcunas results database (left untouched)");
    }
    exec(db_, "PRAGMA journal_mode = WAL", where);
    exec(db_, "PRAGMA foreign_keys = ON", where);
    Transaction tx(db_, where);
    exec(db_, kSchema, where);
    Statement version(db_, "INSERT OR IGNORE INTO mcunas_meta (key, value) VALUES ('schema_version', ?)", where);
    version.bind(1, std::to_string(kSchemaVersion)).run();
    tx.commit();
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

ResultsDb::~ResultsDb() { sqlite3_close(db_); }

int64_t ResultsDb::begin_run(const RunStart& start) {
  Transaction tx(db_, path_.string());
  Statement insert(db_,
                   std::string("INSERT INTO runs (kind, status, started_at, config_path, config_yaml, command_line, "
                               "seed, threads) VALUES (?, 'running', ") + kNow + ", ?, ?, ?, ?, ?)",
                   path_.string());
  insert.bind(1, start.kind)
      .bind(2, start.config_path)
      .bind(3, start.config_yaml)
      .bind(4, start.command_line)
      .bind(5, static_cast<int64_t>(start.seed))
      .bind(6, int64_t{start.threads})
      .run();
  const int64_t id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return id;
}

void ResultsDb::add_epoch(int64_t run_id, const EpochRecord& e) {
  Transaction tx(db_, path_.string());
  Statement insert(db_,
                   "INSERT OR REPLACE INTO epochs (run_id, epoch, phase, learning_rate, train_loss, train_accuracy, "
                   "val_loss, val_accuracy, test_loss, test_accuracy, seconds, images_per_second) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   path_.string());
  insert.bind(1, run_id)
      .bind(2, int64_t{e.epoch})
      .bind(3, e.phase)
      .bind(4, e.learning_rate)
      .bind(5, e.train_loss)
      .bind(6, e.train_accuracy)
      .bind(7, e.val_loss)
      .bind(8, e.val_accuracy)
      .bind(9, e.test_loss)
      .bind(10, e.test_accuracy)
      .bind(11, e.seconds)
      .bind(12, e.images_per_second)
      .run();
  tx.commit();
}

void ResultsDb::finish_run(int64_t run_id, const RunEnd& end) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  Statement update(db_,
                   std::string("UPDATE runs SET status = ?, finished_at = ") + kNow +
                       ", test_accuracy = ?, error = ?, peak_rss_bytes = ? WHERE id = ?",
                   where);
  update.bind(1, end.status)
      .bind(2, end.test_accuracy)
      .bind(3, end.error)
      .bind(4, end.peak_rss_bytes)
      .bind(5, run_id)
      .run();
  for (const auto& [name, values] : {std::pair{"theta_w", &end.weights}, std::pair{"state", &end.state}}) {
    if (values->empty()) continue;
    Statement blob(db_, "INSERT OR REPLACE INTO weights (run_id, name, count, data) VALUES (?, ?, ?, ?)", where);
    blob.bind(1, run_id).bind(2, std::string(name)).bind(3, static_cast<int64_t>(values->size()));
    blob.bind_floats(4, *values).run();
  }
  tx.commit();
}

namespace {
constexpr const char* kSummaryColumns =
    "SELECT r.id, r.kind, r.status, r.started_at, coalesce(r.finished_at, ''), r.config_path, r.seed, r.threads, "
    "(SELECT count(*) FROM epochs e WHERE e.run_id = r.id), r.test_accuracy, r.config_yaml, r.command_line, "
    "coalesce(r.error, ''), coalesce(r.peak_rss_bytes, 0) FROM runs r";

RunSummary read_summary(const Statement& row) {
  RunSummary s;
  s.id = row.integer(0);
  s.kind = row.text(1);
  s.status = row.text(2);
  s.started_at = row.text(3);
  s.finished_at = row.text(4);
  s.config_path = row.text(5);
  s.seed = static_cast<uint64_t>(row.integer(6));
  s.threads = static_cast<int32_t>(row.integer(7));
  s.epochs_done = static_cast<int32_t>(row.integer(8));
  s.test_accuracy = row.optional_real(9);
  return s;
}
}  // namespace

std::vector<RunSummary> ResultsDb::list_runs() const {
  Statement query(db_, std::string(kSummaryColumns) + " ORDER BY r.id DESC", path_.string());
  std::vector<RunSummary> runs;
  while (query.step()) runs.push_back(read_summary(query));
  return runs;
}

std::optional<RunDetail> ResultsDb::get_run(int64_t run_id) const {
  const std::string where = path_.string();
  Statement query(db_, std::string(kSummaryColumns) + " WHERE r.id = ?", where);
  query.bind(1, run_id);
  if (!query.step()) return std::nullopt;
  RunDetail detail;
  detail.summary = read_summary(query);
  detail.config_yaml = query.text(10);
  detail.command_line = query.text(11);
  detail.error = query.text(12);
  detail.peak_rss_bytes = query.integer(13);

  Statement epochs(db_,
                   "SELECT epoch, phase, learning_rate, train_loss, train_accuracy, val_loss, val_accuracy, test_loss, "
                   "test_accuracy, seconds, images_per_second FROM epochs WHERE run_id = ? ORDER BY rowid",
                   where);
  epochs.bind(1, run_id);
  while (epochs.step()) {
    EpochRecord e;
    e.epoch = static_cast<int32_t>(epochs.integer(0));
    e.phase = epochs.text(1);
    e.learning_rate = epochs.real(2);
    e.train_loss = epochs.real(3);
    e.train_accuracy = epochs.real(4);
    e.val_loss = epochs.optional_real(5);
    e.val_accuracy = epochs.optional_real(6);
    e.test_loss = epochs.optional_real(7);
    e.test_accuracy = epochs.optional_real(8);
    e.seconds = epochs.real(9);
    e.images_per_second = epochs.real(10);
    detail.epochs.push_back(e);
  }
  Statement weights(db_, "SELECT name, data FROM weights WHERE run_id = ?", where);
  weights.bind(1, run_id);
  while (weights.step()) (weights.text(0) == "state" ? detail.state : detail.weights) = weights.floats(1);
  return detail;
}

}  // namespace nas::search
