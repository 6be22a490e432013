#!/usr/bin/env bash
# Installs the Debian packages (scripts/setup.sh), configures and builds mcunas into ./build.
# In CI (CI=true) warnings are errors. Safe to run again: only what changed is rebuilt.
#   bash scripts/build.sh              # ./build, Release
#   bash scripts/build.sh --sanitize   # ./build-sanitize: Clang with AddressSanitizer + UBSan, the tests and the fuzz
#                                      # targets (no benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
flags=(-DCMAKE_BUILD_TYPE=Release)
case "${1:-}" in
  "") ;;
  # Clang, so the same tree builds the libFuzzer targets (tests/fuzz) with its coverage instrumentation.
  --sanitize) dir=build-sanitize; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCUNAS_SANITIZE=ON -DMCUNAS_BUILD_BENCH=OFF
                                         -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "build.sh: unknown option '$1' (known: --sanitize)" >&2; exit 2 ;;
esac
bash scripts/setup.sh
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$dir" -G Ninja "${flags[@]}" -DMCUNAS_WERROR="$werror" > "$dir.configure.log" 2>&1 \
  || { cat "$dir.configure.log" >&2; echo "build: cmake configure failed (log above)" >&2; exit 1; }
cmake --build "$dir" --parallel "$(nproc)"
