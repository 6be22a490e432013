// A target board as the cost models see it: memory sizes, what the firmware itself keeps, per-kernel-path latency
// coefficients, kernel code sizes and active power. Loaded from cost_models/targets/<name>.yaml, where every
// number carries its source (DESIGN.md, "Targets").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cost_models/kernel_path.h"

namespace nas::cost_models {

// Cycles of one kernel call: per_mac·executed MACs + per_output·output elements + per_call, plus the terms
// nas calibrate fits (kernel_work.h says what each quantity counts; hand-written targets may leave them 0).
struct LatencyCoefficients {
  double per_mac = 0;
  double per_output = 0;
  double per_call = 0;
  double per_pixel = 0;
  double per_patch_value = 0;
  double per_scalar_patch_value = 0;
  double per_window_row = 0;
  double per_tail_mac = 0;
  double per_tail_output = 0;
  double per_valid_mac = 0;
  double per_valid_row_output = 0;
  double per_scalar_tap = 0;
  double per_plane_sum = 0;
};

// The keys of LatencyCoefficients in a target YAML, in the order above; the first three are required.
inline constexpr std::array<const char*, 13> kLatencyTermNames = {
    "per_mac",         "per_output",    "per_call",      "per_pixel",           "per_patch_value",
    "per_scalar_patch_value", "per_window_row", "per_tail_mac", "per_tail_output", "per_valid_mac",
    "per_valid_row_output", "per_scalar_tap", "per_plane_sum"};
double& term(LatencyCoefficients& c, size_t index);
double term(const LatencyCoefficients& c, size_t index);

// Where a firmware image for the board goes (deploy's linker script): the application's flash region (after any
// bootloader) and its RAM. Absent for boards mcunas cannot link a bootable image for (e.g. the RP2040, whose XIP
// flash needs a second-stage boot loader); those still run in QEMU.
struct ImageLayout {
  int64_t flash_origin = 0, flash_bytes = 0;
  int64_t ram_origin = 0, ram_bytes = 0;
};

struct Target {
  std::string name;         // "nano33"
  std::string description;  // one line for `nas targets`
  std::string core;         // "cortex-m4f", "cortex-m7", "cortex-m0plus"
  std::string source_path;  // the YAML it was loaded from
  double clock_hz = 0;
  int64_t sram_bytes = 0;
  int64_t flash_bytes = 0;
  int64_t ram_reserved_bytes = 0;    // firmware's own RAM: stacks, heap, OS, radio stack
  int64_t flash_reserved_bytes = 0;  // bootloader, runtime, application code other than the model
  bool dsp = false;                  // Armv7E-M DSP extension (SMLAD etc.)
  double active_power_w = 0;         // while running inference
  std::string qemu_machine;          // nearest qemu-system-arm machine, for deploy's measurements
  std::optional<ImageLayout> image;  // `image:` in the YAML
  // Cycles per executed instruction on the board, which turns instruction counts from QEMU into cycles (the YAML
  // cites its basis); 1 when the YAML has none.
  double cycles_per_instruction = 1.0;
  // Where the latency coefficients come from when a calibration file was applied (target_calibration.h); "" for
  // the YAML's own, hand-written ones.
  std::string calibration;
  std::array<LatencyCoefficients, kKernelPathCount> latency{};
  std::array<int64_t, kKernelPathCount> code_bytes{};  // kernel code, counted once if any layer uses the path
  int64_t per_layer_code_bytes = 0;                    // call site and layer descriptor, per layer

  int64_t ram_available() const { return sram_bytes - ram_reserved_bytes; }
  int64_t flash_available() const { return flash_bytes - flash_reserved_bytes; }
  const LatencyCoefficients& latency_of(KernelPath path) const { return latency[index_of(path)]; }
  int64_t code_bytes_of(KernelPath path) const { return code_bytes[index_of(path)]; }
};

// `MCUNAS_TARGETS_DIR` when set, else the source tree's cost_models/targets.
std::string targets_dir();

// Names of the YAML files in targets_dir(), sorted ("f746", "l4r5", "nano33", "rp2040").
std::vector<std::string> known_targets();

// A name resolves to <targets_dir>/<name>.yaml; anything containing '/' or ending in .yaml is a path. Throws
// nas::Error (bad_input) for an unknown name and for any malformed file, naming the file and the key. With
// `calibrated`, a <name>.calibration.yaml beside the file replaces the latency and code-size figures
// (target_calibration.h); nas calibrate itself loads without it, so an outdated file can be rewritten.
Target load_target(const std::string& name_or_path, bool calibrated = true);

}  // namespace nas::cost_models
