#!/usr/bin/env bash
# Arm NN against our kernels on networks larger than the unit test's: the four MLPerf Tiny reference networks of
# bench/mlperf_tiny (each trained 1 epoch on synthetic data of its shape, 400 items so that 100 are test images)
# and the PyTorch-made network of tests/data/onnx imported with `nas import --as-seed`. Each is lowered to int8 as
# `nas export --format tflite` does (512 calibration images, or all there are), loaded by Arm NN 20.08 (TfLite
# parser, CpuRef) and compared with our host kernels on its 100 test images, and op by op on 20 random int8 inputs
# (tests/armnn/tflite_armnn_check.cpp). Prints a markdown table: per network the logits (outputs) that differ, by
# how much at most, how often both pick the same class, and the worst single op. CpuRef computes in float where our
# kernels use TFLite's integer multipliers, so an op may round one LSB the other way; a network sums its ops'.
# About two minutes. Needs a build (scripts/build.sh) with Arm NN (scripts/setup.sh).
#   bash bench/tflite_armnn/run.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
nas="$build/nas" check="$build/tests/tflite_armnn_check"
for tool in "$nas" "$check"; do
  [ -x "$tool" ] || { echo "tflite_armnn: no $tool; run scripts/build.sh first" >&2; exit 2; }
done
command -v jq > /dev/null || { echo "tflite_armnn: jq not found; run scripts/setup.sh" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="$work/armnn.db"

runs=() names=()
for entry in "resnet8|ResNet-8" "dscnn|DS-CNN" "mobilenet_v1_025|MobileNetV1 0.25" "fc_autoencoder|FC autoencoder"; do
  IFS='|' read -r file name <<< "$entry"
  sed -E 's/count: [0-9]+/count: 400/' "$root/bench/mlperf_tiny/$file.yaml" > "$work/$file.yaml"
  run="$("$nas" train --config "$work/$file.yaml" --db "$db" --json < /dev/null 2> "$work/train.log" |
    jq -r .run_id)" || { cat "$work/train.log" >&2; exit 1; }
  runs+=("$run") names+=("$name (MLPerf Tiny, 1 epoch)")
done
cat > "$work/onnx_data.yaml" <<'YAML'
data:
  format: synthetic
  synthetic: {count: 400, height: 12, width: 12, channels: 1, classes: 4, noise: 0.1, seed: 3}
YAML
run="$("$nas" import "$root/tests/data/onnx/small_cnn.onnx" --as-seed --data "$work/onnx_data.yaml" --db "$db" \
  --json < /dev/null 2> "$work/import.log" | jq -r .run)" || { cat "$work/import.log" >&2; exit 1; }
runs+=("$run") names+=("PyTorch CNN via ONNX (random weights)")

echo "| network | ops | test images | outputs differing | at most (LSB) | same class | worst op alone: outputs differing, at most | depthwise behind a PAD |"
echo "|---|---|---|---|---|---|---|---|"
for i in "${!runs[@]}"; do
  line="$("$check" "$db" "${runs[$i]}" 100 512)"
  value() { echo "$line" | grep -o "$1=[^ ]*" | cut -d= -f2; }
  differing="$(value differing)"
  share="$(awk -v d="${differing%/*}" -v n="${differing#*/}" 'BEGIN { printf "%.2f %%", 100 * d / n }')"
  op_share="$(awk -v s="$(value worst_op_share)" 'BEGIN { printf "%.2f %%", 100 * s }')"
  printf '| %s | %s | %s | %s (%s) | %s | %s of %s | %s, %s | %s |\n' "${names[$i]}" "$(value ops)" \
    "$(value images)" "$differing" "$share" "$(value max_difference)" "$(value same_class)" "$(value images)" \
    "$op_share" "$(value worst_op_difference)" "$(value padded_depthwise)"
done
