// `nas deploy`: a finished run's int8 network built into Cortex-M firmware with the real cross compiler, and, with
// --run-qemu, checked in the real QEMU against the host executor, byte for byte, with its instructions counted per
// layer by our plugin (deploy/firmware/qemu_icount_plugin.c). Everything is built in a staging folder beside the
// output and moved into place only when complete, so a failure leaves no half-built image that looks finished.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cost_models/core_timing.h"
#include "cost_models/target.h"
#include "deploy/firmware_image.h"
#include "results/deployment_records.h"
#include "runner/int8_deployment.h"

namespace nas::runner {

struct FirmwareDeployOptions {
  std::filesystem::path out;
  bool run_qemu = false;
  bool board = true;    // also the board image, where the target has an image: layout
  int32_t images = 20;  // test images checked in QEMU
  std::string origin;   // one line for the generated files: "run 12 of mcunas.db"
};

struct FirmwareDeployment {
  std::optional<results::DeploymentRecord> board;  // the board image (targets with an image: layout)
  std::optional<results::DeploymentRecord> qemu;   // the QEMU check (--run-qemu)
  // Its layers' instructions by timing class, mean over the images (cost_models/core_timing.h); not stored
  std::vector<cost_models::InstructionMix> qemu_layer_mix;
  std::vector<std::string> files;         // produced, relative to --out
};

// Throws nas::Error (bad_input) with one line naming the missing program and the Debian package to install:
// arm-none-eabi-gcc, -objcopy, -size and newlib always, qemu-system-arm and the plugin for --run-qemu. Also refuses
// a target that has neither an image layout nor --run-qemu.
void check_firmware_tools(const cost_models::Target& target, const FirmwareDeployOptions& options);

// Builds (and with run_qemu checks) the deployment; the records are filled but not stored. Reports each step
// through `step`. Throws nas::Error (failure) when a tool fails, with its message.
FirmwareDeployment deploy_firmware(const Int8Deployment& d, const cost_models::Target& target,
                                   const FirmwareDeployOptions& options,
                                   const std::function<void(const std::string&)>& step);

}  // namespace nas::runner
