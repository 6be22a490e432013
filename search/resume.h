// `nas search --resume RUN` and `nas train --resume RUN`: what a run's checkpoints keep of its request (for a search
// the board, the budgets as typed, the seed-network flag; the teacher) and the request rebuilt from them and from
// the run's stored config, so a run killed at any point continues from its last complete epoch with nothing given
// again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "results/results_db.h"
#include "search/finetune_driver.h"
#include "search/search_driver.h"
#include "search/train_config.h"

namespace nas::search {

// The YAML every checkpoint of the search carries as its `request`.
std::string search_request_yaml(const SearchRequest& request);

// The request that continues run `run_id`: its stored config, what it was asked, and its checkpoint. Throws
// nas::Error (bad input, one line naming the run and what to do) for a run that is missing, not a search, done, or
// without a checkpoint (stopped before its first epoch ended).
// `take_over`: also a run still marked running on another host (a requeued sweep job's own run).
SearchRequest resume_request(const results::ResultsDb& db, int64_t run_id, std::string command_line,
                             bool take_over = false);

// The newest run of `db` that `--resume` could continue (a search not done, its process gone, with a checkpoint):
// what a sweep job rerun after a kill or a Slurm requeue continues in its shard instead of starting over.
// A run still marked running counts when `take_over` (the job's earlier process cannot be alive).
std::optional<int64_t> resumable_run(const results::ResultsDb& db, bool take_over);

// A `nas train` run to continue: its stored config, its teacher and its checkpoint.
struct TrainResume {
  int64_t run_id = 0;
  TrainConfig config;
  std::optional<TeacherSpec> teacher;
  results::CheckpointRecord checkpoint;
};

// The YAML every checkpoint of a `nas train` run carries as its `request` (its teacher, if any).
std::string train_request_yaml(const std::optional<TeacherSpec>& teacher);

// Throws nas::Error (bad input) as resume_request does, for a run that is not a `nas train` run too.
TrainResume train_resume(const results::ResultsDb& db, int64_t run_id);

// The YAML every checkpoint of a `nas finetune` run carries: the search it fine-tunes, the overrides, the teacher.
std::string finetune_request_yaml(const FinetuneRequest& request);

// The request that continues `nas finetune` run `run_id`; refused as resume_request does.
FinetuneRequest finetune_resume_request(const results::ResultsDb& db, int64_t run_id, std::string command_line);

}  // namespace nas::search
