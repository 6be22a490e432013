#!/usr/bin/env bash
# Installs every Debian package mcunas needs to build and test. Idempotent and non-interactive:
# packages already present are skipped, so a second run does no network work.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libopenblas-dev      # sgemm: Debian's default libblas is the generic reference (~6 GFLOP/s here)
  libtbb-dev           # parallel loops in the training engine
  libyaml-cpp-dev      # experiment configs, network descriptions
  libsqlite3-dev sqlite3
  libboost-dev libeigen3-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev
  zlib1g-dev           # reading the idx .gz files
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all ${#packages[@]} packages present" >&2
