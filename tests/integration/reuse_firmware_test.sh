#!/usr/bin/env bash
# Reuse convolutions (TREC, issue 20) on the board: three small networks with reuse_conv2d layers (1- and 3-channel
# images, strides 1 and 2, sub-vectors shorter and longer than a window row, 2 to 8 hash bits) trained on synthetic
# data with `nas train`, quantised, built for QEMU and run by nas profile. For each: the firmware's int8 outputs
# equal the host's byte for byte, the RAM estimate equals the planned arena (the kernel's int32 sums in scratch),
# every reuse layer reports a reuse rate below 1 (clusters did form), and the latency model's whole-network estimate
# is within ±15 % of QEMU's count. One of them also on the Cortex-M7 (f746). A .tflite export is refused by name.
#
#   bash tests/integration/reuse_firmware_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-reuse.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm jq:jq
cd "$work"

networks=(
  # image channels | layers: type out kernel stride [sub_len hash_bits]
  "1|reuse 8 3 1 4 3;pool;reuse 16 3 1 8 4;conv 16 3 2"
  "3|conv 8 3 1;reuse 12 5 2 16 6;reuse 12 3 1 5 8"
  "1|reuse 6 5 1 25 2;reuse 10 3 2 9 5;pool;reuse 10 1 1 7 3"
)
n=0
for network in "${networks[@]}"; do
  n=$((n + 1))
  channels="${network%%|*}"
  {
    echo "name: reuse_$n"
    echo "data:"
    echo "  format: synthetic"
    echo "  synthetic: {count: 384, height: 12, width: 12, channels: $channels, classes: 4, noise: 0.1, seed: $n}"
    echo "model:"
    echo "  layers:"
    IFS=';' read -ra layers <<< "${network#*|}"
    for layer in "${layers[@]}"; do
      read -r kind out k stride len bits <<< "$layer"
      case "$kind" in
        pool) echo "    - {type: max_pool, kernel: 2}"; continue ;;
        reuse) echo "    - {type: reuse_conv2d, out: $out, kernel: $k, stride: $stride, padding: $((k / 2))," \
                    "bias: false, sub_len: $len, hash_bits: $bits}" ;;
        conv) echo "    - {type: conv2d, out: $out, kernel: $k, stride: $stride, padding: $((k / 2)), bias: false}" ;;
      esac
      echo "    - {type: batchnorm}"
      echo "    - {type: relu}"
    done
    echo "    - {type: global_avg_pool}"
    echo "    - {type: linear, out: classes}"
    echo "train: {epochs: 2, batch_size: 32, seed: $n, threads: 1}"
  } > "net$n.yaml"
  "$nas" train --config "net$n.yaml" --db runs.db > /dev/null 2> "net$n.log" ||
    fail "network $n: training failed: $(tail -2 "net$n.log")"
  run="$(sqlite3 runs.db 'SELECT max(id) FROM runs')"
  for target in nano33 $( [ "$n" -eq 2 ] && echo f746 ); do
    "$nas" profile "$run" --target "$target" --images 4 --db runs.db --json > "net$n.$target.json" \
      2> "net$n.$target.log" || fail "network $n on $target: nas profile failed: $(tail -2 "net$n.$target.log")"
    p="net$n.$target.json"
    reuse="$(jq '[.layers[] | select(.kernel_path == "reuse_conv")] | length' "$p")"
    [ "$reuse" -ge 1 ] || fail "network $n on $target: no reuse_conv layer in the deployed network"
    [ "$(jq '[.layers[] | select(.kernel_path == "reuse_conv") | .reuse_rate < 1 and .reuse_rate > 0] | all' "$p")" \
      = true ] || fail "network $n on $target: a reuse layer's rate is not in (0, 1): $(jq -c \
      '[.layers[] | select(.kernel_path == "reuse_conv") | .reuse_rate]' "$p")"
    [ "$(jq .differing_images "$p")" -eq 0 ] ||
      fail "network $n on $target: $(jq .differing_images "$p") of $(jq .images "$p") images differ from the host's"
    [ "$(jq '.estimated_ram_bytes == .arena_bytes' "$p")" = true ] ||
      fail "network $n on $target: RAM estimate $(jq .estimated_ram_bytes "$p") B, arena $(jq .arena_bytes "$p") B"
    error="$(jq '100 * .whole_network_error | . * 10 | round / 10' "$p")"
    [ "$(jq '.whole_network_error | fabs <= 0.15' "$p")" = true ] ||
      fail "network $n on $target: instruction estimate $error % off QEMU's count (more than ±15 %)"
    echo "ok: network $n on $target: $reuse reuse layers (rates $(jq -c \
      '[.layers[] | select(.kernel_path == "reuse_conv") | .reuse_rate * 1000 | round / 1000]' "$p")), $(jq .images \
      "$p") images bit-exact, arena $(jq .arena_bytes "$p") B = estimate, estimate $error %"
  done
done
if "$nas" export 1 --format tflite --out model.tflite --db runs.db > export.out 2>&1; then
  fail "a network with reuse convolutions was exported to .tflite"
fi
grep -q "reuse convolution (TREC), which TFLite has no operator for" export.out ||
  fail "the refused .tflite export did not say why: $(cat export.out)"
[ ! -e model.tflite ] || fail "the refused export left model.tflite behind"
echo "all reuse firmware checks passed"
