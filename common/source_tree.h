// The source tree nas reads its run-time files from: the int8 kernels it copies next to generated code
// (deploy/kernels), the firmware it builds for QEMU (deploy/firmware) and the boards' YAML files
// (cost_models/targets). By default the tree this nas was built from; $MCUNAS_SOURCE_DIR names another, so a copy
// of nas kept for a long experiment can read a snapshot of the tree while the working tree changes under it (the
// kernels, the firmware and the calibrated coefficients must be the ones the binary's C++ mirrors were built with).
#pragma once

#include <filesystem>

namespace nas {

std::filesystem::path source_tree();

}  // namespace nas
