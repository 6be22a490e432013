// A finished run lowered to int8 on the host: the stored network (stored_network.h) folded, calibrated and
// quantised (deploy/post_training.h), with the static memory plan of its arena. `nas eval --int8` and
// `nas export` are thin layers over this.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "cost_models/arena_plan.h"
#include "deploy/calibration.h"
#include "deploy/int8_model.h"
#include "deploy/post_training.h"
#include "results/imported_models.h"
#include "results/results_db.h"
#include "results/stored_network.h"

namespace nas::runner {

struct Int8Deployment {
  results::StoredNetwork stored;  // an imported model's has no float network (stored.net is null)
  deploy::Int8Model model;
  cost_models::ArenaPlan plan;
  int64_t parameter_bytes = 0;  // int8 weights, int32 biases, multipliers and shifts
  int64_t arena_bytes_out_of_place = 0;  // the arena were no depthwise layer written over its input (the saving)
  std::string description;               // an imported model's TFLite description, given back by nas export
};

// Folds, calibrates on the run's training images and quantises; plans the arena.
Int8Deployment prepare_int8(results::StoredNetwork stored, const deploy::CalibrationSpec& calibration);

// A `nas import` run's model (results/imported_models.h) read back and planned; `stored` is load_stored_data's.
Int8Deployment imported_int8(results::StoredNetwork stored, const results::ImportedModel& model);

// The arena plan (and its size with no depthwise layer in place) and the parameter bytes of d.model.
void plan_int8(Int8Deployment& d);

// "run 12 (search for nano33)"
std::string run_label(const results::RunSummary& run);

// The memory plan and parameter bytes in words, and as JSON.
std::string memory_line(const Int8Deployment& d);
nlohmann::json memory_json(const Int8Deployment& d);

}  // namespace nas::runner
