#!/usr/bin/env bash
# Installs the Debian packages (scripts/setup.sh), configures and builds mcunas into ./build.
# In CI (CI=true) warnings are errors. Safe to run again: only what changed is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCUNAS_WERROR="$werror" > build.configure.log 2>&1 \
  || { cat build.configure.log >&2; echo "build: cmake configure failed (log above)" >&2; exit 1; }
cmake --build build --parallel "$(nproc)"
