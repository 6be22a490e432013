#include "results/distillation_records.h"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "common/error.h"
#include "results/sqlite_statement.h"

namespace nas::results {

using sql::Statement;
using sql::Transaction;

namespace {

std::optional<int64_t> run_with_uid(const ResultsDb& db, const std::string& uid) {
  Statement q(db.connection(), db.path().string(), "SELECT id FROM runs WHERE uid = ?");
  q.bind(1, uid);
  if (!q.step()) return std::nullopt;
  return q.integer(0);
}

}  // namespace

std::string run_uid(const ResultsDb& db, int64_t run_id) {
  Statement q(db.connection(), db.path().string(), "SELECT uid FROM runs WHERE id = ?");
  q.bind(1, run_id);
  if (!q.step())
    throw Error("run " + std::to_string(run_id), "no such run in " + db.path().string() + " (nas runs lists them)");
  return q.text(0);
}

void store_distillation(ResultsDb& db, int64_t run_id, const DistillationRecord& r) {
  const std::string where = db.path().string();
  Transaction tx(db.connection(), where);
  Statement insert(db.connection(), where,
                   "INSERT OR REPLACE INTO distillations (run_id, teacher_uid, alpha, temperature, phases, "
                   "teacher_logits) VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, run_id).bind(2, r.teacher_uid).bind(3, r.alpha).bind(4, r.temperature).bind(5, r.phases);
  insert.bind(6, r.teacher_logits).run();
  tx.commit();
}

std::optional<DistillationRecord> distillation_of_run(const ResultsDb& db, int64_t run_id) {
  Statement q(db.connection(), db.path().string(),
              "SELECT teacher_uid, alpha, temperature, phases, teacher_logits FROM distillations WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.step()) return std::nullopt;
  DistillationRecord r;
  r.teacher_uid = q.text(0);
  r.alpha = q.real(1);
  r.temperature = q.real(2);
  r.phases = q.text(3);
  r.teacher_logits = q.text(4);
  r.teacher_run_id = run_with_uid(db, r.teacher_uid);
  return r;
}

void store_finetune_start(ResultsDb& db, int64_t run_id, const FinetuneStart& start) {
  const std::string where = db.path().string();
  Transaction tx(db.connection(), where);
  const std::array<std::pair<const char*, const std::vector<float>*>, 2> blobs{
      {{"theta_w", &start.weights}, {"state", &start.state}}};
  for (const auto& [name, values] : blobs) {
    Statement insert(db.connection(), where,
                     "INSERT OR REPLACE INTO finetune_starts (run_id, name, count, data) VALUES (?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, std::string(name)).bind(3, static_cast<int64_t>(values->size()));
    insert.bind_floats(4, *values).run();
  }
  tx.commit();
}

std::optional<FinetuneStart> finetune_start_of_run(const ResultsDb& db, int64_t run_id) {
  const std::string where = db.path().string();
  Statement q(db.connection(), where, "SELECT name, count, data FROM finetune_starts WHERE run_id = ?");
  q.bind(1, run_id);
  std::optional<FinetuneStart> start;
  while (q.step()) {
    std::vector<float> values = q.floats(2);
    if (static_cast<int64_t>(values.size()) != q.integer(1))
      throw Error(where, fmt::format("the fine-tuning start '{}' of run {} is damaged ({} float32 values, expected {})",
                                     q.text(0), run_id, values.size(), q.integer(1)),
                  Error::Kind::failure);
    if (!start) start.emplace();
    (q.text(0) == "state" ? start->state : start->weights) = std::move(values);
  }
  return start;
}

void store_finetune_source(ResultsDb& db, int64_t run_id, const std::string& search_uid) {
  const std::string where = db.path().string();
  Transaction tx(db.connection(), where);
  Statement insert(db.connection(), where,
                   "INSERT OR REPLACE INTO finetune_sources (run_id, search_uid) VALUES (?, ?)");
  insert.bind(1, run_id).bind(2, search_uid).run();
  tx.commit();
}

std::optional<FinetuneSource> finetune_source_of_run(const ResultsDb& db, int64_t run_id) {
  Statement q(db.connection(), db.path().string(), "SELECT search_uid FROM finetune_sources WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.step()) return std::nullopt;
  FinetuneSource s{q.text(0), std::nullopt};
  s.search_run_id = run_with_uid(db, s.search_uid);
  return s;
}

std::string distillation_lines(const ResultsDb& db, int64_t run_id) {
  std::string out;
  const auto refer = [](const std::optional<int64_t>& id, const std::string& uid) {
    return id ? fmt::format("run {}", *id) : fmt::format("run uid {} (not in this file)", uid);
  };
  if (const auto source = finetune_source_of_run(db, run_id))
    out += fmt::format("fine-tuned from: {}'s fixed network and inherited weights\n",
                       refer(source->search_run_id, source->search_uid));
  if (const auto d = distillation_of_run(db, run_id))
    out += fmt::format("distilled from: {} (alpha {:g}, T {:g}, in {}, teacher logits {})\n",
                       refer(d->teacher_run_id, d->teacher_uid), d->alpha, d->temperature, d->phases,
                       d->teacher_logits);
  return out;
}

nlohmann::json distillation_json(const ResultsDb& db, int64_t run_id) {
  const auto id = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json out = {{"distillation", nullptr}, {"finetune_of", nullptr}};
  if (const auto d = distillation_of_run(db, run_id))
    out["distillation"] = {{"teacher_run", id(d->teacher_run_id)}, {"teacher_uid", d->teacher_uid},
                           {"alpha", d->alpha},   {"temperature", d->temperature},
                           {"phases", d->phases}, {"teacher_logits", d->teacher_logits}};
  if (const auto source = finetune_source_of_run(db, run_id))
    out["finetune_of"] = {{"search_run", id(source->search_run_id)}, {"search_uid", source->search_uid}};
  return out;
}

}  // namespace nas::results
