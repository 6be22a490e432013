#!/usr/bin/env bash
# Arm NN against our kernels on the architectures the search experiments found (every finished run with a fixed
# architecture in docs/results/*.db: iso_accuracy, iso_mbconv, readme_command; each distinct architecture once, the
# seed network's runs of several seeds are one). Those databases keep no weights, so
# each architecture is trained again for 1 epoch on Fashion-MNIST (experiments/iso_accuracy/retrain.sh --epochs 1),
# then lowered to int8 as `nas export --format tflite` does, run by Arm NN 20.08 (CpuRef) on 100 Fashion-MNIST test
# images and op by op on 20 random inputs (tests/armnn/tflite_armnn_check.cpp), against our host kernels. Prints a
# markdown table, one row per architecture, then a summary line:
#   experiments_armnn networks=<distinct architectures> with_padded_depthwise=<n> worst_max_difference_of_the_others=<lsb>
#     worst_op_difference=<lsb>
# A depthwise layer behind a PAD on a ReLU output is computed differently by Arm NN 20.08 (its PAD fills int8 with 0,
# not the zero point: tests/deploy/tflite_armnn_test.cpp); the table counts them per network, the worst op leaves
# them out, and the summary's worst network difference is over the networks without one.
# About half a minute per network on 2 cores. Needs a build (scripts/build.sh) and Fashion-MNIST (scripts/setup.sh).
#   bash bench/tflite_armnn/experiments.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
nas="${NAS:-$build/nas}" check="${CHECK:-$build/tests/tflite_armnn_check}"
for tool in "$nas" "$check"; do
  [ -x "$tool" ] || { echo "experiments_armnn: no $tool; run scripts/build.sh first" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trained="$work/trained.db"

echo "| experiment | run | architecture | ops | outputs differing | at most (LSB) | same class | worst op alone | depthwise behind a PAD |"
echo "|---|---|---|---|---|---|---|---|---|"
count=0 padded=0 worst=0 worst_op=0
declare -A seen  # model YAML checksum -> "experiment run"
for db in "$root"/docs/results/*.db; do
  for run in $(sqlite3 "$db" "SELECT r.id FROM runs r JOIN architectures a ON a.run_id = r.id WHERE r.status = 'done' ORDER BY r.id"); do
    sum="$(sqlite3 "$db" "SELECT model_yaml FROM architectures WHERE run_id = $run" | sha256sum | cut -c1-16)"
    [ -z "${seen[$sum]:-}" ] || continue
    seen[$sum]="$(basename "$db" .db) $run"
    NAS="$nas" bash "$root/experiments/iso_accuracy/retrain.sh" "$db" "$run" --epochs 1 --out "$trained" \
      > "$work/retrain.txt"
    new="$(sqlite3 "$trained" "SELECT max(id) FROM runs")"
    arch="$(sed 's/.*%  //' "$work/retrain.txt")"
    line="$("$check" "$trained" "$new" 100 512)"
    value() { echo "$line" | grep -o "$1=[^ ]*" | cut -d= -f2; }
    differing="$(value differing)"
    printf '| %s | %s | %s | %s | %s (%s) | %s | %s of %s | %s, %s | %s |\n' "$(basename "$db" .db)" "$run" "$arch" \
      "$(value ops)" "$differing" "$(awk -v d="${differing%/*}" -v n="${differing#*/}" 'BEGIN { printf "%.1f %%", 100 * d / n }')" \
      "$(value max_difference)" "$(value same_class)" "$(value images)" \
      "$(awk -v s="$(value worst_op_share)" 'BEGIN { printf "%.2f %%", 100 * s }')" "$(value worst_op_difference)" \
      "$(value padded_depthwise)"
    count=$((count + 1))
    if [ "$(value padded_depthwise)" -gt 0 ]; then
      padded=$((padded + 1))
    else
      worst=$(( $(value max_difference) > worst ? $(value max_difference) : worst ))
    fi
    worst_op=$(( $(value worst_op_difference) > worst_op ? $(value worst_op_difference) : worst_op ))
  done
done
echo "experiments_armnn networks=$count with_padded_depthwise=$padded worst_max_difference_of_the_others=$worst" \
  "worst_op_difference=$worst_op"
