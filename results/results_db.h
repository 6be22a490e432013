// The results database: one SQLite file (default ./mcunas.db) in WAL mode. Every write is one transaction, so an
// interrupted run loses at most the epoch in flight, and a failed open never touches an existing file's contents.
// Schema and example queries: docs/results-schema.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace nas::results {

struct RunStart {
  std::string kind;          // "train" or "search"
  std::string config_yaml;   // the full effective config, so a run can be reproduced from the database alone
  std::string config_path;   // where it came from ("" for built-in)
  std::string command_line;
  uint64_t seed = 0;
  int32_t threads = 0;
};

struct EpochRecord {
  int32_t epoch = 0;         // 1-based
  std::string phase;         // "train"; for searches "warmup", "search", "finetune"
  double learning_rate = 0;
  double train_loss = 0, train_accuracy = 0;
  std::optional<double> val_loss, val_accuracy;
  std::optional<double> test_loss, test_accuracy;
  double seconds = 0;
  double images_per_second = 0;
};

struct RunEnd {
  std::string status;                      // "done", "failed", "interrupted"
  std::optional<double> test_accuracy;     // final
  std::string error;                       // for "failed"
  std::vector<float> weights;              // flat θ_w (may be empty)
  std::vector<float> state;                // flat non-trained state, e.g. BN running statistics (may be empty)
  int64_t peak_rss_bytes = 0;
  bool keep_checkpoint = false;            // a done run's checkpoint is removed unless this is set
};

// What a run needs to continue after its process ended (kill -9, pre-emption, Ctrl-C): the last complete epoch's
// training state, replaced at the end of every epoch in that epoch's own transaction, so it always matches the
// epochs table. `request` is what the run was asked (YAML: board, budgets, ...), `state` a supernet::StateWriter
// blob whose layout the phase defines.
struct CheckpointRecord {
  std::string phase;                       // the phase of the last complete epoch: "warmup", "search", "finetune"
  int32_t epoch = 0;                       // that epoch, 1-based within its phase (0: before the phase's first)
  std::string request = {};
  std::vector<uint8_t> state = {};
};

struct RunSummary {
  int64_t id = 0;
  std::string kind, status;                // status: running, done, failed, interrupted, or stale (still marked
                                           // running, but its process has ended: results/process_identity.h)
  std::string started_at, finished_at;     // ISO 8601 UTC, finished_at "" while running
  std::string config_path;
  uint64_t seed = 0;
  int32_t threads = 0;
  int32_t epochs_done = 0;
  std::optional<double> test_accuracy;
  std::string target;                      // the board a search ran for ("" for plain training)
};

// The exact cost of a fixed architecture on one metric, against its budget when the search had one.
struct CostRecord {
  std::string metric;                      // "ram", "flash", "latency", "energy"
  double value = 0;                        // bytes, seconds, joules
  std::optional<double> budget;
  std::string budget_source;               // "--max-latency 50ms", "nano33 SRAM"
};

// What a search ends with: the fixed architecture (as YAML), its exact costs, and the board.
struct ArchitectureRecord {
  std::string target;
  std::string arch_yaml;                   // blocks: op, channels, stride (supernet::fixed_arch_yaml)
  std::string model_yaml;                  // the same net as layers (supernet::fixed_model_yaml)
  int32_t repaired_channels = 0;           // channels removed after fixing to meet the budgets
  int32_t added_channels = 0;              // masked channels added back while every budget still held
  std::vector<CostRecord> costs;
};

// One budget at the end of one search epoch: the expected (soft) cost the penalty saw, the exact cost of the
// architecture if it were fixed now, and the penalty strength.
struct BudgetTrace {
  int32_t epoch = 0;
  std::string metric;
  double expected = 0, fixed = 0, budget = 0, lambda = 0;
};

// Where one block's architecture gradient came from in one search epoch: the mean absolute value per logit and
// architecture step of the task loss's part (accuracy) and of the budget terms' part (penalty), for the operator
// logits and the width logits.
struct ArchGradientTrace {
  int32_t epoch = 0;
  std::string block;
  double op_accuracy = 0, op_penalty = 0, width_accuracy = 0, width_penalty = 0;
};

// One operator of one block, as trained in the supernet after warm-up (supernet/candidate_accuracy.h).
struct CandidateAccuracyRecord {
  std::string block, op;
  double accuracy = 0;
};

// One network of the fix step's shortlist (search/shortlist.h): rank 0 is the search's most probable operators.
struct ShortlistRecord {
  int32_t rank = 0;
  std::string arch_yaml;
  double log_probability = 0;  // of its operators under the search's final distribution (τ = 1)
  double holdout_accuracy = 0, holdout_loss = 0;  // after the probe's short training
  bool chosen = false;
};

struct RunDetail {
  RunSummary summary;
  std::string config_yaml, command_line, error;
  int64_t peak_rss_bytes = 0;
  std::vector<EpochRecord> epochs;
  std::vector<float> weights, state;
  std::optional<ArchitectureRecord> architecture;  // search runs
  std::vector<BudgetTrace> budget_trace;
  std::vector<ShortlistRecord> shortlist;  // searches that probed more than one network
};

class ResultsDb {
 public:
  // read_write opens or creates the file and its schema (upgrading an older one). read_only, for the commands that
  // only query (runs, show, pareto, eval, export), opens an existing file without writing to it or needing its
  // folder to be writable, so a shared, read-only results file can be queried; only a file of an older schema is
  // upgraded first, where it is writable. Throws nas::Error (bad_input) with one line naming the path and the
  // cause when the directory is missing or unwritable (read_write), the file is missing (read_only), or the file
  // is not an mcunas database.
  enum class Access { read_write, read_only };
  explicit ResultsDb(const std::filesystem::path& path, Access access = Access::read_write);
  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  int64_t begin_run(const RunStart& start);             // status "running"
  // An epoch, and with `checkpoint` the state after it, in one transaction.
  void add_epoch(int64_t run_id, const EpochRecord& epoch, const CheckpointRecord* checkpoint = nullptr);
  void finish_run(int64_t run_id, const RunEnd& end);
  // A run that is over as soon as it is stored (nas import): begun, given its architecture (when it has one) and its
  // other records by `records(id)` (the room's record modules, writing inside this transaction) and finished, all in
  // one transaction, so that an interrupted store leaves nothing behind.
  int64_t add_finished_run(const RunStart& start, const RunEnd& end, const ArchitectureRecord* architecture,
                           const std::function<void(int64_t)>& records);
  // A search epoch, its budget trace and its checkpoint in one transaction.
  void add_search_epoch(int64_t run_id, const EpochRecord& epoch, const std::vector<BudgetTrace>& trace,
                        const std::vector<ArchGradientTrace>& gradients = {},
                        const CheckpointRecord* checkpoint = nullptr);
  // Replaces a run's checkpoint on its own (a phase boundary that adds no epoch).
  void store_checkpoint(int64_t run_id, const CheckpointRecord& checkpoint);
  std::optional<CheckpointRecord> checkpoint(int64_t run_id) const;
  // Marks a stale, interrupted or failed run as running again in this process, to be resumed from its checkpoint.
  // Throws nas::Error (bad input) for a missing or finished run, and for one whose process may still be alive;
  // `take_over` skips that check, for a caller that knows the recorded process is gone although it cannot be seen
  // from here (a sweep job requeued onto another node: Slurm runs one instance of an array task at a time).
  void reopen_run(int64_t run_id, bool take_over = false);
  void store_architecture(int64_t run_id, const ArchitectureRecord& arch);
  void add_candidate_accuracies(int64_t run_id, const std::vector<CandidateAccuracyRecord>& candidates);
  // Replaces the run's shortlist (a resumed search probes again and writes the same rows).
  void store_shortlist(int64_t run_id, const std::vector<ShortlistRecord>& candidates);
  std::vector<ShortlistRecord> shortlist(int64_t run_id) const;

  std::vector<RunSummary> list_runs() const;             // newest first
  std::optional<RunDetail> get_run(int64_t run_id) const;

  const std::filesystem::path& path() const { return path_; }
  // The open connection, for the room's other SQL modules (shard merge, sweeps, Pareto queries), which use the
  // schema this class created and keep to its one-transaction-per-write rule.
  sqlite3* connection() const { return db_; }

 private:
  int64_t insert_run(const RunStart& start);                     // inside the caller's transaction
  void write_end(int64_t run_id, const RunEnd& end);              // the same
  void write_architecture(int64_t run_id, const ArchitectureRecord& arch);  // the same
  void insert_epoch(int64_t run_id, const EpochRecord& epoch);  // the same
  void write_checkpoint(int64_t run_id, const CheckpointRecord& checkpoint);  // the same
  void open_read_only(const std::filesystem::path& path, const std::string& where);

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace nas::results
