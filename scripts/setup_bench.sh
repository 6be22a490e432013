#!/usr/bin/env bash
# Installs what the benchmarks need and the product does not: PyTorch and NumPy from Debian (the peer of
# bench/train_vs_torch). Idempotent.
set -euo pipefail
bash "$(dirname "$0")/apt_install.sh" python3-torch python3-numpy
