#include "search/teacher.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace nas::search {

namespace {

std::string shape_text(const supernet::Dataset& d) { return fmt::format("{}x{}x{}", d.height, d.width, d.channels); }

std::string values_text(const std::vector<float>& v) {
  std::string out;
  for (const float x : v) out += (out.empty() ? "" : ", ") + fmt::format("{:.4g}", x);
  return "(" + out + ")";
}

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::fabs(a[i] - b[i]) > 1e-5f * std::max(1.0f, std::fabs(b[i]))) return false;
  return true;
}

results::StoredNetwork load_teacher_run(const results::ResultsDb& db, int64_t run_id, const std::string& where) {
  try {
    return results::load_stored_network(db, run_id);
  } catch (const Error& e) {
    throw Error(where, e.what(), e.kind());
  }
}

}  // namespace

void check_distillation_settings(const supernet::DistillationSettings& s) {
  if (!(s.alpha >= 0 && s.alpha <= 1))
    throw Error("--alpha", fmt::format("must be in [0, 1], the weight of the label term (got {:g})", s.alpha));
  if (!(s.temperature > 0) || !std::isfinite(s.temperature))
    throw Error("--temperature", fmt::format("must be a positive number, e.g. 4 (got {:g})", s.temperature));
}

Teacher::Teacher(const results::ResultsDb& db, const TeacherSpec& spec, const supernet::DataSplits& student)
    : spec_(spec), stored_(load_teacher_run(db, spec.run_id, "--teacher " + std::to_string(spec.run_id))) {
  const std::string where = "--teacher " + std::to_string(spec.run_id);
  check_distillation_settings(spec.settings);
  uid_ = results::run_uid(db, spec.run_id);
  const supernet::Dataset& mine = stored_.data.train;
  if (mine.num_classes != student.train.num_classes)
    throw Error(where, fmt::format("run {} has {} output classes but the student's data has {}; pick a teacher "
                                   "trained on the student's dataset",
                                   spec.run_id, mine.num_classes, student.train.num_classes));
  if (mine.height != student.train.height || mine.width != student.train.width ||
      mine.channels != student.train.channels)
    throw Error(where, fmt::format("run {} takes {} images but the student's are {}; pick a teacher trained on the "
                                   "student's dataset",
                                   spec.run_id, shape_text(mine), shape_text(student.train)));
  // The teacher reads the student's images: normalised otherwise, its logits would be of other inputs.
  if (!same_values(stored_.data.norm.mean, student.norm.mean) ||
      !same_values(stored_.data.norm.stddev, student.norm.stddev))
    throw Error(where, fmt::format("run {} was trained on inputs normalised with mean {} and deviation {}, the "
                                   "student's are normalised with {} and {}; train the teacher on the student's "
                                   "data: section",
                                   spec.run_id, values_text(stored_.data.norm.mean),
                                   values_text(stored_.data.norm.stddev), values_text(student.norm.mean),
                                   values_text(student.norm.stddev)));
  // Only the network is needed from here on.
  stored_.data = {};
  distillation_.settings = spec.settings;
}

void Teacher::prepare(const supernet::Dataset& train, bool augments, int32_t batch_size, Progress& progress) {
  if (augments) {
    logits_.emplace(supernet::TeacherLogits::on_the_fly(*stored_.net));
    progress.message(fmt::format("teacher: run {}, logits computed on the fly (the student's batches are augmented)",
                                 spec_.run_id));
  } else {
    progress.message(fmt::format("teacher: run {}, computing its logits of the {} training images once (the "
                                 "student's batches are not augmented)",
                                 spec_.run_id, train.count));
    logits_.emplace(supernet::TeacherLogits::cached(*stored_.net, train, batch_size));
    progress.message(fmt::format("teacher: logits cached in {:.1f} s", logits_->seconds()));
  }
  distillation_.teacher = &*logits_;
}

results::DistillationRecord Teacher::record(const std::string& phases) const {
  results::DistillationRecord r;
  r.teacher_uid = uid_;
  r.teacher_run_id = spec_.run_id;
  r.alpha = spec_.settings.alpha;
  r.temperature = spec_.settings.temperature;
  r.phases = phases;
  r.teacher_logits = logits_ && logits_->is_cached() ? "cached" : "on the fly";
  return r;
}

}  // namespace nas::search
