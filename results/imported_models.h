// What `nas import` adds to the results database (schema version 10; docs/results-schema.md): a model that came
// from outside as a file. An int8 TFLite model is kept as the file's bytes, so that the run is the model itself and
// `nas export` can give it back unchanged: no epochs, no float weights. A float ONNX model (a seed network) is kept
// as what it became: a fixed architecture with weights. Both runs have kind "import" and a config that holds the
// `data:` section their test images come from and where the file was read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "results/results_db.h"

namespace nas::results {

inline constexpr const char* kImportKind = "import";

struct ImportedModel {
  std::string format;     // "tflite"
  std::string file_name;  // the file's name as given, for reports
  std::vector<uint8_t> bytes;
};

// Stores the run (status done, its int8 test accuracy) and the model's bytes in one transaction; returns its id.
int64_t store_imported_run(ResultsDb& db, const RunStart& start, const ImportedModel& model,
                           std::optional<double> test_accuracy);

// A float network from an ONNX file (`nas import --as-seed`): the run (status done, its float test accuracy) with its
// fixed architecture (no target, no costs), weights and BatchNorm statistics, in one transaction. It has no
// imported_models row: load_stored_network rebuilds it like a search's network, and `nas search --seed-run` starts
// from it.
int64_t store_imported_network(ResultsDb& db, const RunStart& start, const ArchitectureRecord& arch,
                               std::vector<float> weights, std::vector<float> state,
                               std::optional<double> test_accuracy);

// The model a `nas import` run holds; nullopt for every other run.
std::optional<ImportedModel> imported_model_of_run(const ResultsDb& db, int64_t run_id);

}  // namespace nas::results
