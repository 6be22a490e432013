// nas calibrate: the target's latency model fitted to instruction counts of our own kernels on its QEMU stand-in.
// Builds firmware/benchmark_main.c over deploy/kernel_benchmark.h's grid with the target's compiler flags (so the
// DSP path where the core has one), counts every call with our plugin, fits each kernel path's coefficients
// (cost_models/latency_fit.h) and writes them beside the target YAML (cost_models/target_calibration.h), where
// load_target picks them up.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "cost_models/target.h"
#include "cost_models/target_calibration.h"

namespace nas::runner {

struct CalibrationOutcome {
  cost_models::TargetCalibration calibration;
  std::filesystem::path written;
  int64_t calls = 0;
};

// `out` empty: cost_models::calibration_path(target.source_path). Throws nas::Error (bad_input) for missing tools
// (the package to install), nas::Error (failure) when a tool fails.
CalibrationOutcome calibrate_target(const cost_models::Target& target, const std::filesystem::path& out,
                                    const std::function<void(const std::string&)>& step);

}  // namespace nas::runner
