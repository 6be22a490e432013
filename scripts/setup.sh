#!/usr/bin/env bash
# Installs every Debian package mcunas needs to build and test. Idempotent and non-interactive: packages already
# present are skipped, so a second run does no network work.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libopenblas-dev      # BLAS fallback where the AVX-512 GEMM kernels are not built (Debian's libblas is ~6 GFLOP/s)
  libtbb-dev           # parallel loops in the training engine
  libyaml-cpp-dev      # experiment configs, network descriptions
  libsqlite3-dev sqlite3
  libboost-dev libeigen3-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev
  zlib1g-dev           # reading the idx .gz files
  libflatbuffers-dev   # nas export --format tflite writes TensorFlow Lite flatbuffers (deploy/tflite_export.cpp)
  libonnx-dev libprotobuf-dev  # nas import --as-seed reads ONNX models (supernet/onnx_import.cpp)
  libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22  # tests: Arm NN runs our .tflite files
  dataset-fashion-mnist
  slurm-wlm munge       # one-node cluster for the sweep integration test (scripts/slurm_cluster.sh)
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm  # Cortex-M firmware, run in QEMU (deploy/firmware)
  jq                   # experiments/latency/table.sh reads nas profile --json
  librsvg2-bin         # rsvg-convert: nas pareto --plot front.png (the SVG is drawn by mcunas itself)
  clang                # the sanitizer build and its libFuzzer targets (scripts/build.sh --sanitize, tests/fuzz)
)
bash "$(dirname "$0")/apt_install.sh" "${packages[@]}"
echo "setup: all ${#packages[@]} packages present" >&2
