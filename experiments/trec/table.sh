#!/usr/bin/env bash
# docs/trec.md from finished runs of experiments/trec/run.sh: the first run is the dense network, the others its
# reuse variants. Per run: float and int8 test accuracy (`nas eval --int8`, the whole test set), and the int8
# network counted in QEMU on the M4 (nano33) and M7 (f746) stand-ins (`nas profile`, 5 test images, bit-exact
# with the host). Needs jq.
#   bash experiments/trec/table.sh DB DENSE_RUN REUSE_RUN...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
db="$1"; shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for run in "$@"; do
  "$nas" eval "$run" --int8 --json --db "$db" > "$work/eval_$run.json" 2> /dev/null
  for target in nano33 f746; do
    "$nas" profile "$run" --target "$target" --images 5 --json --db "$db" > "$work/${target}_$run.json" 2> /dev/null
  done
done
dense="$1"
variant() {  # run -> its label from the stored config
  local name
  name="$(sqlite3 "$db" "SELECT config_yaml FROM runs WHERE id = $1" | sed -n 's/^name: //p' | head -1)"
  case "$name" in
    trec_dense) echo "dense" ;;
    trec_L*) echo "$name" | sed 's/trec_L\([0-9]*\)_H\([0-9]*\)/reuse L=\1, H=\2/' ;;
    *) echo "$name" ;;
  esac
}
total() { jq -r '.instructions_per_inference' "$1"; }

cat <<HEAD
# TREC: transient redundancy elimination in mcunas

Written by \`bash experiments/trec/run.sh\` (this table: \`experiments/trec/table.sh\`) from its runs; every figure
below is what those runs gave. Network (\`experiments/trec/cifarnet.yaml\`): a CifarNet-like net on Fashion-MNIST —
conv 5×5 32 (28×28), max pool, conv 5×5 64 (14×14), max pool, conv 3×3 64 (7×7), each with BatchNorm and ReLU,
global average pooling, linear — trained 2 epochs from scratch; the reuse variants make every convolution a
\`reuse_conv2d\` (supernet/reuse_conv2d.h) with sub-vectors of L values and H hash bits and train the same way
(the clustering is part of training). int8: post-training quantisation on 512 training images; the reuse rate
(clusters per sub-vector) is measured on them. Instructions: the int8 network counted in QEMU (5 test images,
every output byte equal to the host's), M4 = nano33 (mps2-an386), M7 = f746 (mps2-an500). *MACs done* counts the
multiply-adds a reuse layer runs (hashing: H per input value, and the clusters' products) against the dense
convolution's.

## Whole network

| network | float % | int8 % | MACs done | M4 instructions | M4 speed-up | M7 instructions | M7 speed-up | estimate error M4 |
|---|---|---|---|---|---|---|---|---|
HEAD
for run in "$@"; do
  e="$work/eval_$run.json"; m4="$work/nano33_$run.json"; m7="$work/f746_$run.json"
  jq -r --arg net "$(variant "$run")" --argjson d4 "$(total "$work/nano33_$dense.json")" \
        --argjson d7 "$(total "$work/f746_$dense.json")" --slurpfile m7 "$m7" --slurpfile e "$e" '
    def done: [.layers[] | (.reuse_macs // .macs)] | add;
    def dense: [.layers[] | .macs] | add;
    "| \($net) | \($e[0].float_accuracy * 100 | . * 100 | round / 100) | \($e[0].int8_accuracy * 100 | . * 100 | round / 100) | \((done / dense * 1000 | round) / 10) % | \(.instructions_per_inference | round) | \(($d4 / .instructions_per_inference * 100 | round) / 100)× | \($m7[0].instructions_per_inference | round) | \(($d7 / $m7[0].instructions_per_inference * 100 | round) / 100)× | \((.whole_network_error * 1000 | round) / 10) % |"
  ' "$m4"
done
cat <<MID

## Per convolution

*Removed* is the share of the dense MACs a reuse layer does not run; *rate* its clusters per sub-vector on the
calibration images; speed-ups are against the same layer of the dense network.

| network | layer | dense MACs | rate | MACs removed | M4 instructions | M4 speed-up | M7 instructions | M7 speed-up |
|---|---|---|---|---|---|---|---|---|
MID
for run in "${@:2}"; do
  jq -r --arg net "$(variant "$run")" --slurpfile m7 "$work/f746_$run.json" \
        --slurpfile d4 "$work/nano33_$dense.json" --slurpfile d7 "$work/f746_$dense.json" '
    . as $m4 | range(0; .layers | length) as $j | $m4.layers[$j] | select(.kernel_path == "reuse_conv") |
    "| \($net) | \(.name) | \(.macs) | \((.reuse_rate * 1000 | round) / 1000) | \(((1 - .reuse_macs / .macs) * 1000 | round) / 10) % | \(.instructions | round) | \((($d4[0].layers[$j].instructions / .instructions) * 100 | round) / 100)× | \($m7[0].layers[$j].instructions | round) | \((($d7[0].layers[$j].instructions / $m7[0].layers[$j].instructions) * 100 | round) / 100)× |"
  ' "$work/nano33_$run.json"
done

# The best figures of these runs, next to the paper's.
best_removed="$(jq -s '[.[].layers[] | select(.kernel_path == "reuse_conv") | 1 - .reuse_macs / .macs] | max * 1000
                       | round / 10' $(for run in "${@:2}"; do echo "$work/nano33_$run.json"; done))"
best_speedup="$(for run in "${@:2}"; do
  jq -n --argjson d "$(total "$work/nano33_$dense.json")" --argjson r "$(total "$work/nano33_$run.json")" \
     '$d / $r * 100 | round / 100'
done | sort -g | tail -1)"
epoch_ratios="$(sqlite3 "$db" "SELECT printf('%.1f', AVG(seconds) / (SELECT AVG(seconds) FROM epochs WHERE run_id = $dense))
                              FROM epochs WHERE run_id IN ($(IFS=,; echo "${*:2}")) GROUP BY run_id" | sort -g)"
fastest="$(echo "$epoch_ratios" | head -1)" slowest="$(echo "$epoch_ratios" | tail -1)"
cat <<TAIL

## Next to Liu et al.

Liu et al. (IEEE Transactions on Computers 73(12), 2024) remove more than 96 % of the convolution work of CifarNet,
ZfNet and SqueezeNet and run them 3.4–5× faster on STM32F469NI and F746ZG at little accuracy loss. Here the most a
reuse layer removes is ${best_removed} % of its MACs, and the best whole-network speed-up on the M4 stand-in is
${best_speedup}×, with the accuracy cost in the first table. Why ours differ:

- **Our dense baseline is faster.** The speed-ups are against mcunas's own dense kernels, whose DSP path runs a
  3×3 convolution at about 1.0–1.3 instructions per MAC (bench/kernels_m4: 0.55× CMSIS-NN's instructions); the
  paper compares with a conventional dense implementation. Every instruction the reuse kernel spends on hashing,
  gathering and adding table rows (docs/latency-model.md, reuse_conv) weighs against a cheaper reference.
- **Smaller maps, fewer members per cluster.** Fashion-MNIST's 28×28 images give 784, 196 and 49 pixels per layer;
  a block's clusters are shared by at most that many sub-vectors, so the deepest layer (49 pixels) keeps a large
  share of clusters (rates in the second table).
- **Short training.** Each network trains 2 epochs (an epoch of the reuse networks took ${slowest}× the dense
  network's wall time here, at most, and ${fastest}× at least: supernet/reuse_conv2d.cpp hashes and clusters every
  image on the CPU); the accuracy gap to the dense network is measured at equal epochs, not at convergence.
- **The work left is not only MACs.** *MACs done* counts hashing and the clusters' products; the kernel also adds
  one table row per pixel, block and output channel, which no MAC count shows (Heim et al.: measure the deployed
  code), so the instruction speed-up is below the MAC reduction.
TAIL
