// What `nas deploy` measured, in the results database (tables deployments and deployment_layers, schema version 4;
// docs/results-schema.md): for a board image its flash and RAM from arm-none-eabi-size next to the cost model's
// estimate; for a QEMU check also how many images were compared, how many differed, and the instructions of every
// layer (mean over the images) next to the cost model's cycles.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "results/results_db.h"

namespace nas::results {

struct DeploymentLayer {
  int32_t layer = 0;          // 0-based, in execution order
  std::string name;           // the op's name
  std::string kernel_path;    // its kernel as the cost model prices it: "conv", "conv1x1", "depthwise", ...
  int64_t macs = 0;
  double instructions = 0;    // measured in QEMU, mean over the images
  double estimated_cycles = 0;
  int64_t parameter_bytes = 0;  // its weights, biases and requantisation parameters in flash
  int64_t live_bytes = 0;       // activations and scratch live while it runs (the memory planner's count)
};

struct DeploymentRecord {
  int64_t id = 0;             // set by store_deployment
  int64_t run_id = 0;
  std::string created_at;     // set by the database
  std::string target;         // the target YAML's name
  std::string kind;           // "board" or "qemu"
  std::string machine;        // "nano33" for a board image, the QEMU machine for a check
  std::string core;
  int64_t flash_bytes = 0, ram_bytes = 0;                      // arm-none-eabi-size: text + data, data + bss
  int64_t estimated_flash_bytes = 0, estimated_ram_bytes = 0;  // cost model: model flash, arena
  std::optional<int64_t> images, differing_images;             // qemu
  std::optional<double> instructions_per_inference, estimated_cycles_per_inference;
  // qemu: measured = instructions × cycles_per_instruction / clock; estimated from the cost model's cycles; energy
  // = latency × the target's active power; the stack's high-water mark measured in QEMU.
  std::optional<double> cycles_per_instruction, measured_latency_s, estimated_latency_s, measured_energy_j,
      estimated_energy_j;
  std::optional<int64_t> stack_bytes;
  // qemu: flash the model adds to the image (the check firmware built again with a stub model, subtracted):
  // parameters, layer calls and kernels, what estimated_flash_bytes estimates.
  std::optional<int64_t> model_flash_bytes;
  std::string out_dir;
  std::vector<DeploymentLayer> layers;                         // qemu
};

// Stores the record and its layers in one transaction; returns its id. The run must exist.
int64_t store_deployment(ResultsDb& db, const DeploymentRecord& record);

// A run's deployments, oldest first, with their layers.
std::vector<DeploymentRecord> deployments_of_run(const ResultsDb& db, int64_t run_id);

// One record as JSON (layers included), and the records as the lines `nas show` prints ("" for none).
nlohmann::json deployment_json(const DeploymentRecord& record);
std::string deployment_lines(const std::vector<DeploymentRecord>& records);

}  // namespace nas::results
