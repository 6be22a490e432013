// `nas finetune RUN`: fine-tunes a finished search's fixed network again, from the weights it inherited from the
// supernet (stored by the search before its own fine-tuning), as a new run of kind "finetune". With --teacher it
// distils from a finished run; with another --seed it sees the data in another order. With neither, it repeats the
// search's own fine-tuning. The new run carries the search's architecture and costs, so nas eval, export, deploy,
// profile and pareto treat it like the search itself; finetune_sources records where it started.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "results/results_db.h"
#include "search/progress.h"
#include "search/teacher.h"

namespace nas::search {

struct FinetuneRequest {
  int64_t search_run = 0;
  std::optional<int32_t> epochs;    // default: the search's search.epochs.finetune
  std::optional<uint64_t> seed;     // default: the search's seed
  std::optional<int32_t> threads;   // default: the search's
  std::optional<TeacherSpec> teacher = std::nullopt;
  std::string command_line;
  // Continue `nas finetune` run `resume_run` from `resume`, its checkpoint (resume.h builds such a request).
  int64_t resume_run = 0;
  std::optional<results::CheckpointRecord> resume = std::nullopt;
  bool keep_checkpoint = false;     // keep the last checkpoint when the run is done (default: removed)
};

struct FinetuneOutcome {
  int64_t run_id = 0;
  std::string status;               // "done" or "interrupted"
  std::string target;
  double test_accuracy = 0;
  std::optional<double> search_test_accuracy;
  std::vector<results::CostRecord> cost_records;
  double seconds = 0;
};

// Checks the search run (finished, with an architecture and a stored start) and the teacher before anything is
// recorded; each refusal is one nas::Error line.
FinetuneOutcome run_finetune(const FinetuneRequest& request, results::ResultsDb& db, Progress& progress);

}  // namespace nas::search
