// A target's calibrated latency model: the file `nas calibrate` writes beside the target YAML
// (<name>.calibration.yaml), so the hand-written YAML and its comments stay as they are. It holds instructions per
// unit of each kernel_work.h quantity for every kernel path, fitted to counts of our own kernels in QEMU, with
// where and when they were measured and how well the fit matches. load_target reads it when present and prices
// latency as instructions × the target's cycles_per_instruction, so the search uses it with no further step.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "cost_models/latency_fit.h"
#include "cost_models/target.h"

namespace nas::cost_models {

struct TargetCalibration {
  std::string target, core, qemu_machine;
  std::string commit;  // of the source tree whose kernels were counted ("unknown" outside git)
  std::string date;    // YYYY-MM-DD
  std::array<LatencyCoefficients, kKernelPathCount> instructions{};
  std::array<LatencyFit, kKernelPathCount> fit{};  // samples, errors (written for the reader; not read back)
  // Flash: each path's kernel code as linked (the paths of one kernel source share it: kernel_path.h), and one
  // generated layer's call (code, argument structs) beside its parameters.
  std::array<int64_t, kKernelPathCount> code_bytes{};
  int64_t per_layer_code_bytes = 0;
};

// <dir>/<stem>.calibration.yaml for <dir>/<stem>.yaml.
std::filesystem::path calibration_path(const std::filesystem::path& target_yaml);

std::string calibration_yaml(const TargetCalibration& c);

// Throws nas::Error (bad_input) naming the file and key when it is not a calibration this mcunas can read.
TargetCalibration read_calibration(const std::filesystem::path& file);

// The target with its latency replaced by the calibration's (instructions × cycles_per_instruction) and its code
// sizes by the measured ones.
void apply_calibration(Target& target, const TargetCalibration& c, const std::filesystem::path& file);

}  // namespace nas::cost_models
