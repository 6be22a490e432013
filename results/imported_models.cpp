#include "results/imported_models.h"

#include "results/sqlite_statement.h"

namespace nas::results {

using sql::Statement;

int64_t store_imported_run(ResultsDb& db, const RunStart& start, const ImportedModel& model,
                           std::optional<double> test_accuracy) {
  RunEnd end;
  end.status = "done";
  end.test_accuracy = test_accuracy;
  return db.add_finished_run(start, end, nullptr, [&](int64_t run_id) {
    Statement insert(db.connection(), db.path().string(),
                     "INSERT INTO imported_models (run_id, format, file_name, bytes, data) VALUES (?, ?, ?, ?, ?)");
    insert.bind(1, run_id).bind(2, model.format).bind(3, model.file_name);
    insert.bind(4, static_cast<int64_t>(model.bytes.size())).bind_bytes(5, model.bytes).run();
  });
}

int64_t store_imported_network(ResultsDb& db, const RunStart& start, const ArchitectureRecord& arch,
                               std::vector<float> weights, std::vector<float> state,
                               std::optional<double> test_accuracy) {
  RunEnd end;
  end.status = "done";
  end.test_accuracy = test_accuracy;
  end.weights = std::move(weights);
  end.state = std::move(state);
  return db.add_finished_run(start, end, &arch, {});
}

std::optional<ImportedModel> imported_model_of_run(const ResultsDb& db, int64_t run_id) {
  Statement q(db.connection(), db.path().string(),
              "SELECT format, file_name, data FROM imported_models WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.step()) return std::nullopt;
  return ImportedModel{q.text(0), q.text(1), q.bytes(2)};
}

}  // namespace nas::results
