// A finished run of the results database as the distillation teacher of `nas train`, `nas search` and
// `nas finetune` (--teacher RUN): loaded, checked against the student's data, and turned into the teacher logits
// every distilled step reads (supernet/teacher_logits.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "results/distillation_records.h"
#include "results/results_db.h"
#include "results/stored_network.h"
#include "search/progress.h"
#include "supernet/teacher_logits.h"

namespace nas::search {

struct TeacherSpec {
  int64_t run_id = 0;
  supernet::DistillationSettings settings;
  bool in_search = false;  // nas search: distil in the warm-up and search phases too, not only in fine-tuning
};

// Refuses α outside [0, 1] and T <= 0, naming --alpha / --temperature.
void check_distillation_settings(const supernet::DistillationSettings& settings);

class Teacher {
 public:
  // Loads run `spec.run_id` and checks that it can teach a student trained on `student`: a finished run with
  // weights, the same input shape, the same output classes and the same input normalisation. Anything else is one
  // nas::Error (bad_input) that starts with "--teacher N:".
  Teacher(const results::ResultsDb& db, const TeacherSpec& spec, const supernet::DataSplits& student);
  Teacher(const Teacher&) = delete;  // distillation() points into it
  Teacher& operator=(const Teacher&) = delete;

  // Makes the logits for the student's training split: cached when `augments` is false (one inference pass over
  // `train` now), else on the fly in every step.
  void prepare(const supernet::Dataset& train, bool augments, int32_t batch_size, Progress& progress);

  // Valid after prepare().
  const supernet::Distillation* distillation() const { return &distillation_; }
  results::DistillationRecord record(const std::string& phases) const;

  int64_t run_id() const { return spec_.run_id; }
  std::optional<double> test_accuracy() const { return stored_.run.test_accuracy; }

 private:
  TeacherSpec spec_;
  std::string uid_;
  results::StoredNetwork stored_;
  std::optional<supernet::TeacherLogits> logits_;
  supernet::Distillation distillation_;
};

}  // namespace nas::search
