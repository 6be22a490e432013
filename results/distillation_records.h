// What knowledge distillation and `nas finetune` add to the results database (schema version 5;
// docs/results-schema.md): which teacher a run learnt from and with which α and T, where a search's fine-tuning
// started (the fixed network's weights inherited from the supernet, so that it can be fine-tuned again, e.g. with a
// teacher, without searching again), and which search a fine-tuning run started from. Runs are referred to by uid,
// which survives `nas merge`; the ids are resolved in the file being read.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "results/results_db.h"

namespace nas::results {

struct DistillationRecord {
  std::string teacher_uid;
  std::optional<int64_t> teacher_run_id;  // on read: the teacher's id in this file, if it is there
  double alpha = 0.5, temperature = 4.0;
  std::string phases;                     // "train", "finetune" or "search+finetune"
  std::string teacher_logits;             // "cached" or "on the fly"
};

// The run's uid; throws nas::Error (bad_input) for a run that does not exist.
std::string run_uid(const ResultsDb& db, int64_t run_id);

void store_distillation(ResultsDb& db, int64_t run_id, const DistillationRecord& record);
std::optional<DistillationRecord> distillation_of_run(const ResultsDb& db, int64_t run_id);

// A search's fine-tuning start point: the fixed network's θ_w and BatchNorm state right after weight inheritance
// (or its fresh initialisation, with search.finetune.start: scratch).
struct FinetuneStart {
  std::vector<float> weights, state;
};
void store_finetune_start(ResultsDb& db, int64_t run_id, const FinetuneStart& start);
std::optional<FinetuneStart> finetune_start_of_run(const ResultsDb& db, int64_t run_id);

// The search a `nas finetune` run started from: its uid, and its id in this file if it is there.
struct FinetuneSource {
  std::string search_uid;
  std::optional<int64_t> search_run_id;
};
void store_finetune_source(ResultsDb& db, int64_t run_id, const std::string& search_uid);
std::optional<FinetuneSource> finetune_source_of_run(const ResultsDb& db, int64_t run_id);

// The lines `nas show` prints for these records ("" when the run has none), and what `nas show --json` adds:
// {"distillation": {...} or null, "finetune_of": {...} or null}.
std::string distillation_lines(const ResultsDb& db, int64_t run_id);
nlohmann::json distillation_json(const ResultsDb& db, int64_t run_id);

}  // namespace nas::results
