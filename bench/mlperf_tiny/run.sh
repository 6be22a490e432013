#!/usr/bin/env bash
# The four MLPerf Tiny reference networks on our int8 kernels in QEMU, against the closed division's leaders
# (mlcommons tiny_results v1.1-v1.3, NUCLEO-L4R5ZI, Cortex-M4 at 120 MHz; DESIGN.md, "Facts"): each network is
# built from its published architecture as a `nas train` model YAML here, trained 1 epoch on synthetic data of its
# input shape (instructions do not depend on the weights), int8-quantised and run by `nas profile` on the M4
# (l4r5: QEMU mps2-an386) and the M7 (f746: mps2-an500), host against QEMU, instructions counted by our plugin.
# Prints per model and target: MACs, instructions per inference, MACs per instruction, the arena (with depthwise
# layers written over their inputs), the arena with none in place, the liveness lower bound, model flash, the
# images run and how many were bit-exact, and on the M4 our cycles estimated from the instructions by timing class
# (the Cortex-M4 manual's timings, cost_models/core_timing.h), the leader's latency in cycles at 120 MHz and our
# instructions and our cycles over it, and the latency model's error against the count (whole network / worst
# layer, the target's calibration). Instructions are a lower bound on cycles (a load or a taken branch takes 2 or
# more on a Cortex-M4), so a ratio of 1.0 is not yet parity; the manual's timings assume zero wait states, which the
# leaders' measured boards need not have. Last two lines: mlperf_trm_cycles_over_leader_cycles= and
# mlperf_instr_over_leader_cycles=<geometric mean>.
# Needs a build (scripts/build.sh) and the firmware tools (scripts/setup.sh).
#   bash bench/mlperf_tiny/run.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
nas="${1:-$root/build}/nas"
[ -x "$nas" ] || { echo "mlperf_tiny: no $nas; run scripts/build.sh first" >&2; exit 2; }
for tool in jq arm-none-eabi-gcc qemu-system-arm; do
  command -v "$tool" > /dev/null || { echo "mlperf_tiny: $tool not found; run scripts/setup.sh" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="$work/mlperf.db"

# model file, name, leader's latency in ms on the NUCLEO-L4R5ZI at 120 MHz, leader
models=(
  "resnet8.yaml|ResNet-8|165.1|ST X-CUBE-AI"
  "dscnn.yaml|DS-CNN|43.2|ST X-CUBE-AI"
  "mobilenet_v1_025.yaml|MobileNetV1 0.25|88.9|ST X-CUBE-AI"
  "fc_autoencoder.yaml|FC autoencoder|4.05|Plumerai"
)
printf '%-17s %-6s %10s %12s %10s %12s %9s %11s %9s %10s %10s %13s %7s %7s %12s\n' model target MACs instructions \
  MAC/instr "TRM cycles" "arena B" "no-inpl. B" "bound B" "flash B" "bit-exact" "leader cyc" "ratio" "cyc r." \
  "model err %"
ratios=() cycle_ratios=()
declare -A names  # run id -> model name
failed=0
for entry in "${models[@]}"; do
  IFS='|' read -r file name leader_ms leader <<< "$entry"
  run="$("$nas" train --config "$here/$file" --db "$db" --json < /dev/null 2> "$work/train.log" | jq -r '.run_id')" ||
    { cat "$work/train.log" >&2; exit 1; }
  names[$run]="$name"
  for target in l4r5 f746; do
    json="$work/$target-$run.json"
    "$nas" profile "$run" --target "$target" --db "$db" --images 2 --calibration-images 64 --json > "$json" \
      2> "$work/profile.log" < /dev/null || { cat "$work/profile.log" >&2; exit 1; }
    read -r macs instr cycles arena out_of_place bound flash images differing net_err layer_err < <(jq -r '[
      ([.layers[].macs] | add), .instructions_per_inference, (.trm_cycles_per_inference // 0), .arena_bytes,
      .arena_bytes_out_of_place,
      .liveness_lower_bound_bytes, .model_flash_bytes, .images, .differing_images, 100 * .whole_network_error,
      100 * .worst_layer_error] | @tsv' "$json")
    [ "$differing" -eq 0 ] || failed=1
    leader_cycles="" ratio="" cycle_ratio=""
    if [ "$target" = l4r5 ]; then
      leader_cycles="$(awk -v ms="$leader_ms" 'BEGIN { printf "%.0f", ms * 1e-3 * 120e6 }')"
      ratio="$(awk -v i="$instr" -v c="$leader_cycles" 'BEGIN { printf "%.2f", i / c }')"
      cycle_ratio="$(awk -v i="$cycles" -v c="$leader_cycles" 'BEGIN { printf "%.2f", i / c }')"
      # the geometric means from the unrounded ratios
      ratios+=("$(awk -v i="$instr" -v c="$leader_cycles" 'BEGIN { printf "%.6f", i / c }')")
      cycle_ratios+=("$(awk -v i="$cycles" -v c="$leader_cycles" 'BEGIN { printf "%.6f", i / c }')")
    fi
    printf '%-17s %-6s %10d %12d %10.3f %12s %9d %11d %9d %10d %10s %13s %7s %7s %12s\n' "$name" "$target" "$macs" \
      "$instr" "$(awk -v m="$macs" -v i="$instr" 'BEGIN { print m / i }')" \
      "$(awk -v c="$cycles" 'BEGIN { if (c > 0) printf "%.0f", c; else printf "-" }')" "$arena" "$out_of_place" \
      "$bound" "$flash" "$((images - differing))/$images" "$leader_cycles" "$ratio" "$cycle_ratio" \
      "$(awk -v n="$net_err" -v l="$layer_err" 'BEGIN { printf "%.1f / %.1f", n, l }')"
  done
done
# Where the M4's instructions go: per model and kernel path, the share of the inference and instructions per MAC.
echo
printf '%-17s %-16s %8s %10s\n' model "kernel path" "share" "instr/MAC"
for json in "$work"/l4r5-*.json; do
  name="$(jq -r '.run' "$json")"
  jq -r --arg name "${names[$name]}" '(.instructions_per_inference) as $total | .layers | group_by(.kernel_path)[] |
    [$name, .[0].kernel_path, 100 * ([.[].instructions] | add) / $total,
     ([.[].instructions] | add) / ([.[].macs] | add)] | @tsv' "$json" |
    awk -F '\t' '{ printf "%-17s %-16s %7.1f%% %10.2f\n", $1, $2, $3, $4 }'
done
echo
echo "leaders (l4r5, 120 MHz): ResNet-8 165.1 ms, DS-CNN 43.2 ms, MobileNetV1 0.25 88.9 ms (ST X-CUBE-AI), FC"
echo "autoencoder 4.05 ms (Plumerai); instructions are a lower bound on our cycles; TRM cycles: the measured"
echo "instructions by timing class with the Cortex-M4 manual's timings (cost_models/core_timing.h; none for the M7)"
printf '%s\n' "${cycle_ratios[@]}" | awk '{ s += log($1); n++ } END {
  printf "mlperf_trm_cycles_over_leader_cycles=%.3f\n", exp(s / n) }'
[ "$failed" -eq 0 ] || { echo "mlperf_tiny: host and QEMU outputs differ (see bit-exact)" >&2; exit 1; }
printf '%s\n' "${ratios[@]}" | awk '{ s += log($1); n++ } END { printf "mlperf_instr_over_leader_cycles=%.3f\n", exp(s / n) }'
