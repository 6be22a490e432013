// `nas train`: plain training of a fixed network from an experiment config, every epoch stored in the results
// database as it finishes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "results/results_db.h"
#include "search/progress.h"
#include "search/teacher.h"
#include "search/train_config.h"
#include "supernet/network.h"

namespace nas::search {

struct TrainOutcome {
  int64_t run_id = 0;
  std::string status;               // "done" or "interrupted"
  int32_t epochs_done = 0;
  double test_accuracy = 0;         // after the last finished epoch
  double mean_epoch_seconds = 0;    // training time only, evaluation excluded
  double images_per_second = 0;
  int64_t parameters = 0;
  int64_t peak_rss_bytes = 0;
};

// Validates data and model before the run is recorded, so bad input leaves the database untouched. A failure
// mid-run marks the run "failed" with its error and rethrows; an interrupt marks it "interrupted".
// With a teacher, every step's loss is the distillation loss against that finished run (recorded in the
// distillations table).
// Every epoch's transaction also stores the run's checkpoint (weights, BatchNorm statistics, optimiser moments);
// with `resume` (that checkpoint of run `resume_run`, whose config and teacher these are: resume.h) the run
// continues after the checkpoint's epoch, bit for bit with the same threads.
TrainOutcome run_train(const TrainConfig& config, results::ResultsDb& db, Progress& progress,
                       const std::string& command_line, const std::optional<TeacherSpec>& teacher_spec = std::nullopt,
                       int64_t resume_run = 0,
                       const results::CheckpointRecord* resume = nullptr, bool keep_checkpoint = false);

// Peak resident set size of this process so far.
int64_t peak_rss_bytes();

// How a driver ends its run: status, error, the final test accuracy (none: not measured), `net`'s weights and
// BatchNorm state (none without a network) and this process's peak RSS. Shared by train, search and finetune.
results::RunEnd run_end(const std::string& status, const std::string& error, std::optional<double> test_accuracy,
                        const supernet::Network* net);

}  // namespace nas::search
