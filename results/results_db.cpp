#include "results/results_db.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <utility>

#include "common/error.h"
#include "common/file_bytes.h"
#include "results/process_identity.h"
#include "results/sqlite_statement.h"

namespace nas::results {

// Weight blobs are the host's float32 bytes as they are; docs/results-schema.md promises little-endian, so a
// big-endian host must not silently write blobs that read back wrong elsewhere.
static_assert(std::endian::native == std::endian::little, "weight blobs are stored as little-endian float32");

namespace {

using sql::exec;
using sql::Statement;
using sql::Transaction;

constexpr const char* kSchemaVersion = "10";
// How long a connection waits for another's lock before it fails: a writer holds it for one epoch's row or one
// checkpoint (megabytes for a README-sized supernet, written and synced), which on a loaded machine or a network
// filesystem can take seconds; failing a run of minutes or hours after a short wait would be the worse outcome.
constexpr int kBusyTimeoutMs = 60000;
// Older files are upgraded in place: versions 2, 4 and 5 only added tables, version 3 added tables and three
// columns of runs, version 6 added tables and let the costs table hold macs and params (create_costs_table),
// version 7 added the columns of runs that say which process runs it (add_run_columns), versions 8, 9 and 10 only
// a table each.
bool upgradable(const std::string& version) {
  return version == "1" || version == "2" || version == "3" || version == "4" || version == "5" || version == "6" ||
         version == "7" || version == "8" || version == "9";
}

// Every table, CREATE IF NOT EXISTS so that opening an existing database changes nothing. Version 2 added
// architectures, costs and budget_trace for `nas search`; version 3 the runs' uid, sweep and sweep_job columns
// (added to older files by add_run_columns) and the sweeps table for `nas sweep` / `nas merge`; version 4 the
// deployments and deployment_layers tables for `nas deploy` (results/deployment_records.h); version 5 the
// distillations, finetune_starts and finetune_sources tables for knowledge distillation and `nas finetune`
// (results/distillation_records.h); version 6 arch_gradient_trace (where each block's architecture gradient comes
// from, per search epoch) and candidate_accuracy (each operator's held-out accuracy in the supernet after warm-up);
// version 7 the runs' pid, host and process_start (results/process_identity.h), so that a run whose process was
// killed reads as stale; version 8 checkpoints (one per unfinished run: what `--resume` continues from); version 9
// shortlist (the fix step's candidate networks and their probe accuracies, search/shortlist.h); version 10
// imported_models (the file a `nas import` run holds, results/imported_models.h).
// docs/results-schema.md explains each column.
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
  peak_rss_bytes INTEGER,
  uid TEXT,
  sweep TEXT,
  sweep_job INTEGER,
  pid INTEGER,
  host TEXT,
  process_start TEXT
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
  name TEXT NOT NULL CHECK (name IN ('theta_w', 'state')),
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS architectures (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  target TEXT NOT NULL,
  arch_yaml TEXT NOT NULL,
  model_yaml TEXT NOT NULL,
  repaired_channels INTEGER NOT NULL,
  added_channels INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_trace (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  metric TEXT NOT NULL,
  expected REAL NOT NULL,
  fixed REAL NOT NULL,
  budget REAL NOT NULL,
  lambda REAL NOT NULL,
  PRIMARY KEY (run_id, epoch, metric)
);
CREATE TABLE IF NOT EXISTS arch_gradient_trace (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  block TEXT NOT NULL,
  op_accuracy REAL NOT NULL,
  op_penalty REAL NOT NULL,
  width_accuracy REAL NOT NULL,
  width_penalty REAL NOT NULL,
  PRIMARY KEY (run_id, epoch, block)
);
CREATE TABLE IF NOT EXISTS candidate_accuracy (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  block TEXT NOT NULL,
  op TEXT NOT NULL,
  accuracy REAL NOT NULL,
  PRIMARY KEY (run_id, block, op)
);
CREATE TABLE IF NOT EXISTS shortlist (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rank INTEGER NOT NULL,
  arch_yaml TEXT NOT NULL,
  log_probability REAL NOT NULL,
  holdout_accuracy REAL NOT NULL,
  holdout_loss REAL NOT NULL,
  chosen INTEGER NOT NULL CHECK (chosen IN (0, 1)),
  PRIMARY KEY (run_id, rank)
);
CREATE TABLE IF NOT EXISTS sweeps (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  executor TEXT NOT NULL CHECK (executor IN ('local', 'slurm')),
  dir TEXT NOT NULL,
  jobs INTEGER NOT NULL,
  command_line TEXT NOT NULL,
  slurm_job_id TEXT
);
CREATE TABLE IF NOT EXISTS deployments (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('board', 'qemu')),
  machine TEXT NOT NULL,
  core TEXT NOT NULL,
  flash_bytes INTEGER NOT NULL,
  ram_bytes INTEGER NOT NULL,
  estimated_flash_bytes INTEGER NOT NULL,
  estimated_ram_bytes INTEGER NOT NULL,
  images INTEGER,
  differing_images INTEGER,
  instructions_per_inference REAL,
  estimated_cycles_per_inference REAL,
  cycles_per_instruction REAL,
  measured_latency_s REAL,
  estimated_latency_s REAL,
  measured_energy_j REAL,
  estimated_energy_j REAL,
  stack_bytes INTEGER,
  model_flash_bytes INTEGER,
  out_dir TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deployment_layers (
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  name TEXT NOT NULL,
  kernel_path TEXT NOT NULL,
  macs INTEGER NOT NULL,
  instructions REAL NOT NULL,
  estimated_cycles REAL NOT NULL,
  parameter_bytes INTEGER NOT NULL,
  live_bytes INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, layer)
);
CREATE TABLE IF NOT EXISTS distillations (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  teacher_uid TEXT NOT NULL,
  alpha REAL NOT NULL,
  temperature REAL NOT NULL,
  phases TEXT NOT NULL,
  teacher_logits TEXT NOT NULL CHECK (teacher_logits IN ('cached', 'on the fly'))
);
CREATE TABLE IF NOT EXISTS finetune_starts (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (name IN ('theta_w', 'state')),
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS finetune_sources (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  search_uid TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  phase TEXT NOT NULL CHECK (phase IN ('warmup', 'search', 'finetune', 'train')),
  epoch INTEGER NOT NULL,
  request TEXT NOT NULL,
  state BLOB NOT NULL,
  saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS imported_models (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  format TEXT NOT NULL CHECK (format IN ('tflite')),
  file_name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL
);
)sql";

// A new random run identity, unique across databases: what makes `nas merge` idempotent.
constexpr const char* kNewUid = "lower(hex(randomblob(16)))";

// The costs table under `name`; its metrics are constraints::kMetrics (macs and params from version 6 on).
std::string costs_table_sql(const std::string& name) {
  return "CREATE TABLE IF NOT EXISTS " + name + R"sql( (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL CHECK (metric IN ('ram', 'flash', 'latency', 'energy', 'macs', 'params')),
  value REAL NOT NULL,
  budget REAL,
  budget_source TEXT,
  PRIMARY KEY (run_id, metric)
))sql";
}

// Creates the costs table, or rebuilds one of version 5 or older, whose CHECK does not admit macs and params
// (SQLite cannot change a CHECK in place); its rows are kept.
void create_costs_table(sqlite3* db, const std::string& where) {
  std::string existing;
  {
    // Finalised before the table is dropped: an open read of sqlite_master would lock it.
    Statement table(db, where, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'costs'");
    if (table.step()) existing = table.text(0);
  }
  if (!existing.empty() && existing.find("'macs'") == std::string::npos) {
    exec(db, where, costs_table_sql("costs_v6").c_str());
    exec(db, where, "INSERT INTO costs_v6 SELECT run_id, metric, value, budget, budget_source FROM costs");
    exec(db, where, "DROP TABLE costs");
    exec(db, where, "ALTER TABLE costs_v6 RENAME TO costs");
  }
  exec(db, where, costs_table_sql("costs").c_str());
}

// Version 3 and 7 columns for files made by older versions (ALTER TABLE cannot add them conditionally), then a uid
// for every run that has none, and the index that keeps uids unique.
void add_run_columns(sqlite3* db, const std::string& where) {
  std::vector<std::string> have;
  Statement info(db, where, "PRAGMA table_info(runs)");
  while (info.step()) have.push_back(info.text(1));
  for (const char* column : {"uid TEXT", "sweep TEXT", "sweep_job INTEGER", "pid INTEGER", "host TEXT",
                             "process_start TEXT"}) {
    const std::string name = std::string(column).substr(0, std::string(column).find(' '));
    if (std::find(have.begin(), have.end(), name) == have.end())
      exec(db, where, ("ALTER TABLE runs ADD COLUMN " + std::string(column)).c_str());
  }
  exec(db, where, (std::string("UPDATE runs SET uid = ") + kNewUid + " WHERE uid IS NULL").c_str());
  exec(db, where, "CREATE UNIQUE INDEX IF NOT EXISTS runs_uid ON runs(uid)");
}

// SQL text, not a value: the current time as ISO 8601 UTC with milliseconds, e.g. 2026-11-24T10:23:10.376Z.
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// A connection that closes itself; used for the read-only look at an existing file.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

// The folder the file is in (where SQLite keeps its -wal and -shm files).
std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

// Refuses, before SQLite opens anything, paths that cannot hold our database. The directory must be writable even
// for an existing file: WAL mode keeps its -wal and -shm files beside the database.
void check_path(const std::filesystem::path& path, const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = folder_of(path);
  const bool exists = fs::exists(path, ec);
  const std::string verb = exists ? "cannot write the results database" : "cannot create the results database";
  if (!fs::exists(parent, ec)) throw Error(where, verb + ": directory " + parent.string() + " does not exist");
  if (!fs::is_directory(parent, ec)) throw Error(where, verb + ": " + parent.string() + " is not a directory");
  if (fs::is_directory(path, ec)) throw Error(where, "is a directory, not a results database file");
  if (exists && !fs::is_regular_file(path, ec)) throw Error(where, "is not a regular file");
  if (!can_create_in(parent)) throw Error(where, verb + ": directory " + parent.string() + " is not writable");
  if (exists && (!can_write_file(path) || access(path.c_str(), R_OK) != 0))
    throw Error(where, "cannot write the results database: the file is not writable");
}

// The schema version an existing file declares; "" for an SQLite file with no tables at all (e.g. an empty file),
// which we may adopt.
std::string read_schema_version(sqlite3* db, const std::string& where) {
  bool has_tables = false, has_meta = false;
  Statement list(db, where, "SELECT name FROM sqlite_master WHERE type = 'table'");
  while (list.step()) {
    has_tables = true;
    has_meta = has_meta || list.text(0) == "mcunas_meta";
  }
  if (!has_tables) return "";
  if (!has_meta) throw Error(where, "is an SQLite database but not an mcunas results database (left untouched)");
  Statement version(db, where, "SELECT value FROM mcunas_meta WHERE key = 'schema_version'");
  if (!version.step()) throw Error(where, "has an mcunas_meta table without a schema_version (left untouched)");
  return version.text(0);
}

// A URI path: the characters a URI gives a meaning to are escaped (https://www.sqlite.org/uri.html).
std::string uri_path(const std::string& path) {
  std::string out;
  for (const char c : path) {
    if (c == '%') out += "%25";
    else if (c == '?') out += "%3f";
    else if (c == '#') out += "%23";
    else out += c;
  }
  return out;
}

// A read-only connection. One to a WAL database needs the -shm file, which it creates where the folder is writable
// or uses where it exists; in a read-only folder with neither, the file is opened as immutable (no locks, no -shm),
// which is right there: nothing can write a file in a folder nobody may write (root aside).
sqlite3* open_reading(const std::filesystem::path& path, const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool shm_usable = can_create_in(folder_of(path)) || fs::exists(path.string() + "-shm", ec);
  const std::string uri =
      "file:" + uri_path(fs::absolute(path, ec).string()) + (shm_usable ? "?mode=ro" : "?immutable=1");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    throw Error(where, "cannot read the results database: " + message);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return db;
}

// Looks at an existing file through a read-only connection, so that a file we refuse is never modified.
std::string existing_schema_version(const std::string& where) {
  Connection probe;
  probe.db = open_reading(where, where);
  try {
    return read_schema_version(probe.db, where);
  } catch (const Error& e) {
    // SQLite reads lazily: a file that is not a database only shows when the first query reads its header.
    const int code = sqlite3_errcode(probe.db);
    if (e.kind() == Error::Kind::failure && (code == SQLITE_NOTADB || code == SQLITE_CORRUPT))
      throw Error(where, "is not an SQLite database (left untouched)");
    throw;
  }
}

// The first 16 bytes of every SQLite 3 database file (https://www.sqlite.org/fileformat.html, section 1.3.1).
constexpr std::array<char, 16> kSqliteMagic = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                               'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

// The smallest page, so the smallest non-empty database file (fileformat.html, section 1.3.2).
constexpr std::uintmax_t kMinPageBytes = 512;

// SQLite itself takes any file shorter than one page for an empty database and would overwrite it, so the magic
// and the size are checked here first. An empty file is the one thing we adopt as it is.
bool looks_like_sqlite(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return false;
  if (size == 0) return true;
  std::array<char, 16> header{};
  std::ifstream in(path, std::ios::binary);
  in.read(header.data(), header.size());
  return size >= kMinPageBytes && header == kSqliteMagic;
}

void check_existing_file(const std::filesystem::path& path, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  if (!looks_like_sqlite(path)) throw Error(where, "is not an SQLite database (left untouched)");
  const std::string version = existing_schema_version(where);
  if (!version.empty() && version != kSchemaVersion && !upgradable(version))
    throw Error(where, "results database has schema version " + version + ", this mcunas reads version " +
                           kSchemaVersion + " (left untouched)");
}

// Throws unless run `run_id` exists and is still running: epochs and the final result are written once.
void require_running(sqlite3* db, const std::string& where, int64_t run_id) {
  Statement query(db, where, "SELECT status FROM runs WHERE id = ?");
  query.bind(1, run_id);
  if (!query.step()) throw Error(where, "no run " + std::to_string(run_id));
  const std::string status = query.text(0);
  if (status != "running")
    throw Error(where, "run " + std::to_string(run_id) + " is " + status + " (expected running); its record is final");
}

// Connection settings, then the schema. journal_mode and foreign_keys only take effect outside a transaction.
void configure(sqlite3* db, const std::string& where) {
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  exec(db, where, "PRAGMA foreign_keys = ON");
  {
    Statement wal(db, where, "PRAGMA journal_mode = WAL");
    // SQLite answers with the mode it is really in; a file system without shared memory refuses WAL silently.
    if (!wal.step() || wal.text(0) != "wal")
      throw Error(where, "cannot switch the results database to WAL mode (got journal mode " + wal.text(0) + ")",
                  Error::Kind::failure);
  }
  Transaction tx(db, where);
  exec(db, where, kSchema);
  create_costs_table(db, where);
  add_run_columns(db, where);
  Statement version(db, where, "INSERT OR REPLACE INTO mcunas_meta (key, value) VALUES ('schema_version', ?)");
  version.bind(1, std::string(kSchemaVersion)).run();
  tx.commit();
}

constexpr const char* kSummarySelect =
    "SELECT r.id, r.kind, r.status, r.started_at, coalesce(r.finished_at, ''), r.config_path, r.seed, r.threads, "
    "(SELECT count(*) FROM epochs e WHERE e.run_id = r.id), r.test_accuracy, "
    "r.config_yaml, r.command_line, coalesce(r.error, ''), coalesce(r.peak_rss_bytes, 0), "
    "coalesce((SELECT a.target FROM architectures a WHERE a.run_id = r.id), ''), "
    "coalesce(r.pid, 0), coalesce(r.host, ''), coalesce(r.process_start, '') FROM runs r";

RunSummary read_summary(const Statement& row) {
  RunSummary s;
  s.id = row.integer(0);
  s.kind = row.text(1);
  s.status = row.text(2);
  s.started_at = row.text(3);
  s.finished_at = row.text(4);
  s.config_path = row.text(5);
  s.seed = static_cast<uint64_t>(row.integer(6));  // stored as its two's-complement int64 bits
  s.threads = static_cast<int32_t>(row.integer(7));
  s.epochs_done = static_cast<int32_t>(row.integer(8));
  s.test_accuracy = row.optional_real(9);
  s.target = row.text(14);
  // A run still marked running whose process has ended (killed, or its machine went down) will never finish.
  if (s.status == "running" && process_gone({row.integer(15), row.text(16), row.text(17)})) s.status = "stale";
  return s;
}

EpochRecord read_epoch(const Statement& row) {
  EpochRecord e;
  e.epoch = static_cast<int32_t>(row.integer(0));
  e.phase = row.text(1);
  e.learning_rate = row.real(2);
  e.train_loss = row.real(3);
  e.train_accuracy = row.real(4);
  e.val_loss = row.optional_real(5);
  e.val_accuracy = row.optional_real(6);
  e.test_loss = row.optional_real(7);
  e.test_accuracy = row.optional_real(8);
  e.seconds = row.real(9);
  e.images_per_second = row.real(10);
  return e;
}

}  // namespace

ResultsDb::ResultsDb(const std::filesystem::path& path, Access access) : path_(path) {
  if (path.empty()) throw Error("--db", "empty path (give the results database's file, e.g. --db mcunas.db)");
  const std::string where = path.string();
  if (access == Access::read_only) {
    open_read_only(path, where);
    return;
  }
  check_path(path, where);
  check_existing_file(path, where);
  if (sqlite3_open_v2(where.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    throw Error(where, "cannot open the results database: " + message);
  }
  try {
    configure(db_, where);
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

void ResultsDb::open_read_only(const std::filesystem::path& path, const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(where, "no such results database (a search or training run creates it; --db names another file)");
  if (fs::is_directory(path, ec)) throw Error(where, "is a directory, not a results database file");
  if (access(path.c_str(), R_OK) != 0) throw Error(where, "cannot read the results database: the file is not readable");
  if (!looks_like_sqlite(path) || fs::file_size(path, ec) == 0)
    throw Error(where, "is not an SQLite database (left untouched)");
  const std::string version = existing_schema_version(where);
  if (version != kSchemaVersion) {
    if (!upgradable(version))
      throw Error(where, "results database has schema version " + version + ", this mcunas reads version " +
                             kSchemaVersion + " (left untouched)");
    // An older file is upgraded once by a writing open, where it may be written; else the query cannot read it.
    if (!can_write_file(path) || !can_create_in(folder_of(path)))
      throw Error(where, "results database has schema version " + version + " and is read-only here; this mcunas "
                             "reads version " + kSchemaVersion + ": open a writable copy once to upgrade it");
    ResultsDb upgrade(path);
  }
  db_ = open_reading(path, where);
}

ResultsDb::~ResultsDb() { sqlite3_close_v2(db_); }

int64_t ResultsDb::begin_run(const RunStart& start) {
  Transaction tx(db_, path_.string());
  const int64_t id = insert_run(start);
  tx.commit();
  return id;
}

int64_t ResultsDb::insert_run(const RunStart& start) {
  const std::string where = path_.string();
  Statement insert(db_, where,
                   std::string("INSERT INTO runs (kind, status, started_at, config_path, config_yaml, command_line, "
                               "seed, threads, uid, pid, host, process_start) VALUES (?, 'running', ") +
                       kNow + ", ?, ?, ?, ?, ?, " + kNewUid + ", ?, ?, ?)");
  const ProcessIdentity self = this_process();
  insert.bind(1, start.kind)
      .bind(2, start.config_path)
      .bind(3, start.config_yaml)
      .bind(4, start.command_line)
      .bind(5, static_cast<int64_t>(start.seed))
      .bind(6, int64_t{start.threads})
      .bind(7, self.pid)
      .bind(8, self.host)
      .bind(9, self.start)
      .run();
  return sqlite3_last_insert_rowid(db_);
}

int64_t ResultsDb::add_finished_run(const RunStart& start, const RunEnd& end, const ArchitectureRecord* architecture,
                                    const std::function<void(int64_t)>& records) {
  Transaction tx(db_, path_.string());
  const int64_t id = insert_run(start);
  if (architecture) write_architecture(id, *architecture);
  if (records) records(id);
  write_end(id, end);
  tx.commit();
  return id;
}

void ResultsDb::insert_epoch(int64_t run_id, const EpochRecord& e) {
  const std::string where = path_.string();
  require_running(db_, where, run_id);
  Statement insert(db_, where,
                   "INSERT INTO epochs (run_id, epoch, phase, learning_rate, train_loss, train_accuracy, val_loss, "
                   "val_accuracy, test_loss, test_accuracy, seconds, images_per_second) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
}

void ResultsDb::write_checkpoint(int64_t run_id, const CheckpointRecord& c) {
  const std::string where = path_.string();
  Statement insert(db_, where,
                   std::string("INSERT OR REPLACE INTO checkpoints (run_id, phase, epoch, request, state, saved_at) "
                               "VALUES (?, ?, ?, ?, ?, ") + kNow + ")");
  insert.bind(1, run_id).bind(2, c.phase).bind(3, int64_t{c.epoch}).bind(4, c.request);
  insert.bind_bytes(5, c.state).run();
}

void ResultsDb::add_epoch(int64_t run_id, const EpochRecord& e, const CheckpointRecord* checkpoint) {
  Transaction tx(db_, path_.string());
  insert_epoch(run_id, e);
  if (checkpoint) write_checkpoint(run_id, *checkpoint);
  tx.commit();
}

void ResultsDb::store_checkpoint(int64_t run_id, const CheckpointRecord& checkpoint) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  require_running(db_, where, run_id);
  write_checkpoint(run_id, checkpoint);
  tx.commit();
}

std::optional<CheckpointRecord> ResultsDb::checkpoint(int64_t run_id) const {
  Statement q(db_, path_.string(), "SELECT phase, epoch, request, state FROM checkpoints WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.step()) return std::nullopt;
  return CheckpointRecord{q.text(0), static_cast<int32_t>(q.integer(1)), q.text(2), q.bytes(3)};
}

void ResultsDb::reopen_run(int64_t run_id, bool take_over) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  Statement query(db_, where, "SELECT status, coalesce(pid, 0), coalesce(host, ''), coalesce(process_start, '') "
                              "FROM runs WHERE id = ?");
  query.bind(1, run_id);
  const std::string id = std::to_string(run_id);
  if (!query.step()) throw Error("--resume", "no run " + id + " in " + where + " (nas runs lists them)");
  const std::string status = query.text(0);
  const ProcessIdentity owner{query.integer(1), query.text(2), query.text(3)};
  if (status == "done") throw Error("--resume", "run " + id + " is done; there is nothing to resume");
  if (status == "running" && !take_over && !process_gone(owner))
    throw Error("--resume", "run " + id + " is still running (process " + std::to_string(owner.pid) + " on " +
                                owner.host + "); stop it first, or wait for it");
  const ProcessIdentity self = this_process();
  Statement update(db_, where, "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL, "
                               "test_accuracy = NULL, pid = ?, host = ?, process_start = ? WHERE id = ?");
  update.bind(1, self.pid).bind(2, self.host).bind(3, self.start).bind(4, run_id).run();
  tx.commit();
}

void ResultsDb::finish_run(int64_t run_id, const RunEnd& end) {
  Transaction tx(db_, path_.string());
  write_end(run_id, end);
  tx.commit();
}

void ResultsDb::write_end(int64_t run_id, const RunEnd& end) {
  const std::string where = path_.string();
  if (end.status != "done" && end.status != "failed" && end.status != "interrupted")
    throw Error(where, "cannot finish run " + std::to_string(run_id) + " as '" + end.status +
                           "' (expected done, failed or interrupted)");
  require_running(db_, where, run_id);
  Statement update(db_, where,
                   std::string("UPDATE runs SET status = ?, finished_at = ") + kNow +
                       ", test_accuracy = ?, error = ?, peak_rss_bytes = ? WHERE id = ?");
  update.bind(1, end.status)
      .bind(2, end.test_accuracy)
      .bind(3, end.error)
      .bind(4, end.peak_rss_bytes)
      .bind(5, run_id)
      .run();
  const std::array<std::pair<const char*, const std::vector<float>*>, 2> blobs{
      {{"theta_w", &end.weights}, {"state", &end.state}}};
  for (const auto& [name, values] : blobs) {
    if (values->empty()) continue;
    // OR REPLACE: a resumed run that was interrupted once stored the weights it had then.
    Statement insert(db_, where, "INSERT OR REPLACE INTO weights (run_id, name, count, data) VALUES (?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, std::string(name)).bind(3, static_cast<int64_t>(values->size()));
    insert.bind_floats(4, *values).run();
  }
  if (end.status == "done" && !end.keep_checkpoint) {
    Statement drop(db_, where, "DELETE FROM checkpoints WHERE run_id = ?");
    drop.bind(1, run_id).run();
  }
}

void ResultsDb::add_search_epoch(int64_t run_id, const EpochRecord& epoch, const std::vector<BudgetTrace>& trace,
                                 const std::vector<ArchGradientTrace>& gradients,
                                 const CheckpointRecord* checkpoint) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  insert_epoch(run_id, epoch);
  for (const auto& t : trace) {
    Statement insert(db_, where,
                     "INSERT INTO budget_trace (run_id, epoch, metric, expected, fixed, budget, lambda) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, int64_t{t.epoch}).bind(3, t.metric).bind(4, t.expected).bind(5, t.fixed);
    insert.bind(6, t.budget).bind(7, t.lambda).run();
  }
  for (const auto& g : gradients) {
    Statement insert(db_, where,
                     "INSERT INTO arch_gradient_trace (run_id, epoch, block, op_accuracy, op_penalty, width_accuracy, "
                     "width_penalty) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, int64_t{g.epoch}).bind(3, g.block).bind(4, g.op_accuracy).bind(5, g.op_penalty);
    insert.bind(6, g.width_accuracy).bind(7, g.width_penalty).run();
  }
  if (checkpoint) write_checkpoint(run_id, *checkpoint);
  tx.commit();
}

void ResultsDb::add_candidate_accuracies(int64_t run_id, const std::vector<CandidateAccuracyRecord>& candidates) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  require_running(db_, where, run_id);
  for (const auto& c : candidates) {
    Statement insert(db_, where, "INSERT OR REPLACE INTO candidate_accuracy (run_id, block, op, accuracy) VALUES "
                                 "(?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, c.block).bind(3, c.op).bind(4, c.accuracy).run();
  }
  tx.commit();
}

void ResultsDb::store_shortlist(int64_t run_id, const std::vector<ShortlistRecord>& candidates) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  require_running(db_, where, run_id);
  Statement clear(db_, where, "DELETE FROM shortlist WHERE run_id = ?");
  clear.bind(1, run_id).run();
  for (const auto& c : candidates) {
    Statement insert(db_, where, "INSERT INTO shortlist (run_id, rank, arch_yaml, log_probability, holdout_accuracy, "
                                 "holdout_loss, chosen) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, int64_t{c.rank}).bind(3, c.arch_yaml).bind(4, c.log_probability)
        .bind(5, c.holdout_accuracy).bind(6, c.holdout_loss).bind(7, int64_t{c.chosen ? 1 : 0}).run();
  }
  tx.commit();
}

std::vector<ShortlistRecord> ResultsDb::shortlist(int64_t run_id) const {
  const std::string where = path_.string();
  Statement query(db_, where, "SELECT rank, arch_yaml, log_probability, holdout_accuracy, holdout_loss, chosen "
                              "FROM shortlist WHERE run_id = ? ORDER BY rank");
  query.bind(1, run_id);
  std::vector<ShortlistRecord> records;
  while (query.step())
    records.push_back({static_cast<int32_t>(query.integer(0)), query.text(1), query.real(2), query.real(3),
                       query.real(4), query.integer(5) != 0});
  return records;
}

void ResultsDb::store_architecture(int64_t run_id, const ArchitectureRecord& arch) {
  const std::string where = path_.string();
  Transaction tx(db_, where);
  require_running(db_, where, run_id);
  write_architecture(run_id, arch);
  tx.commit();
}

void ResultsDb::write_architecture(int64_t run_id, const ArchitectureRecord& arch) {
  const std::string where = path_.string();
  Statement insert(db_, where,
                   "INSERT OR REPLACE INTO architectures (run_id, target, arch_yaml, model_yaml, repaired_channels, "
                   "added_channels) VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, run_id).bind(2, arch.target).bind(3, arch.arch_yaml).bind(4, arch.model_yaml);
  insert.bind(5, int64_t{arch.repaired_channels}).bind(6, int64_t{arch.added_channels}).run();
  for (const auto& c : arch.costs) {
    Statement cost(db_, where,
                   "INSERT OR REPLACE INTO costs (run_id, metric, value, budget, budget_source) VALUES (?, ?, ?, ?, ?)");
    cost.bind(1, run_id).bind(2, c.metric).bind(3, c.value).bind(4, c.budget);
    if (c.budget_source.empty())
      cost.bind_null(5);  // no budget on this metric
    else
      cost.bind(5, c.budget_source);
    cost.run();
  }
}

std::vector<RunSummary> ResultsDb::list_runs() const {
  // Ids grow with every run, so id order is start order even when two runs start in the same millisecond.
  Statement query(db_, path_.string(), std::string(kSummarySelect) + " ORDER BY r.id DESC");
  std::vector<RunSummary> runs;
  while (query.step()) runs.push_back(read_summary(query));
  return runs;
}

std::optional<RunDetail> ResultsDb::get_run(int64_t run_id) const {
  const std::string where = path_.string();
  Statement query(db_, where, std::string(kSummarySelect) + " WHERE r.id = ?");
  query.bind(1, run_id);
  if (!query.step()) return std::nullopt;
  RunDetail detail;
  detail.summary = read_summary(query);
  detail.config_yaml = query.text(10);
  detail.command_line = query.text(11);
  detail.error = query.text(12);
  detail.peak_rss_bytes = query.integer(13);

  // Insertion order is the order the phases ran in (warm-up, search, fine-tune), which sorting by name is not.
  Statement epochs(db_, where,
                   "SELECT epoch, phase, learning_rate, train_loss, train_accuracy, val_loss, val_accuracy, "
                   "test_loss, test_accuracy, seconds, images_per_second FROM epochs WHERE run_id = ? ORDER BY rowid");
  epochs.bind(1, run_id);
  while (epochs.step()) detail.epochs.push_back(read_epoch(epochs));

  Statement weights(db_, where, "SELECT name, count, data FROM weights WHERE run_id = ?");
  weights.bind(1, run_id);
  while (weights.step()) {
    std::vector<float> values = weights.floats(2);
    if (static_cast<int64_t>(values.size()) != weights.integer(1))
      throw Error(where,
                  "weights '" + weights.text(0) + "' of run " + std::to_string(run_id) + " are damaged (got " +
                      std::to_string(values.size()) + " float32 values, expected " +
                      std::to_string(weights.integer(1)) + ")",
                  Error::Kind::failure);
    (weights.text(0) == "state" ? detail.state : detail.weights) = std::move(values);
  }

  Statement arch(db_, where,
                 "SELECT target, arch_yaml, model_yaml, repaired_channels, added_channels FROM architectures "
                 "WHERE run_id = ?");
  arch.bind(1, run_id);
  if (arch.step()) {
    ArchitectureRecord a{arch.text(0), arch.text(1), arch.text(2), static_cast<int32_t>(arch.integer(3)),
                         static_cast<int32_t>(arch.integer(4)), {}};
    // Metrics in the order people read them: memory first, then time and energy.
    Statement costs(db_, where,
                    "SELECT metric, value, budget, coalesce(budget_source, '') FROM costs WHERE run_id = ? ORDER BY "
                    "CASE metric WHEN 'ram' THEN 0 WHEN 'flash' THEN 1 WHEN 'latency' THEN 2 ELSE 3 END");
    costs.bind(1, run_id);
    while (costs.step()) a.costs.push_back({costs.text(0), costs.real(1), costs.optional_real(2), costs.text(3)});
    detail.architecture = std::move(a);
  }
  Statement trace(db_, where,
                  "SELECT epoch, metric, expected, fixed, budget, lambda FROM budget_trace WHERE run_id = ? "
                  "ORDER BY epoch, rowid");
  trace.bind(1, run_id);
  while (trace.step())
    detail.budget_trace.push_back({static_cast<int32_t>(trace.integer(0)), trace.text(1), trace.real(2),
                                   trace.real(3), trace.real(4), trace.real(5)});
  detail.shortlist = shortlist(run_id);
  return detail;
}

}  // namespace nas::results
