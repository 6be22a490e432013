#!/usr/bin/env bash
# Inverted residuals on the board: six small networks of mbconv blocks (expansions 1 to 6, kernels 3 to 7, strided
# and residual blocks, an expanding first layer on 1- and 3-channel images) trained one epoch on synthetic data
# (each the seed network of a one-candidate space: nas search --seed-network), quantised, built for QEMU and run by
# nas profile. For each: the int8 outputs of the firmware equal the host's byte for byte, the RAM estimate equals
# the planned arena (the residual branch kept alive), and the latency model's whole-network instruction estimate
# is within ±10 % of QEMU's count (issue 19's acceptance). Two of them also on the Cortex-M7 (f746).
#
#   bash tests/integration/mbconv_firmware_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-mbconv.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm jq:jq
cd "$work"

networks=(
  # image channels | blocks (name, out, stride, op; the space joins the input where stride is 1 and in = out)
  "1|b1 8 1 mbconv3x3_e3;b2 16 2 mbconv3x3_e6;b3 16 1 mbconv3x3_e6;b4 16 1 mbconv5x5_e3"
  "1|b1 8 1 conv3x3;b2 8 1 mbconv3x3_e1;b3 16 2 mbconv5x5_e4;b4 16 1 mbconv7x7_e2"
  "3|b1 6 2 mbconv3x3_e2;b2 6 1 mbconv3x3_e6;b3 12 2 mbconv3x3_e3;b4 12 1 mbconv3x3_e1"
  "3|b1 16 1 conv5x5;b2 24 2 mbconv3x3_e4;b3 24 1 mbconv5x5_e6;b4 32 2 mbconv3x3_e6;b5 32 1 mbconv3x3_e3"
  "1|b1 4 1 conv3x3;b2 4 1 mbconv7x7_e6;b3 4 1 mbconv3x3_e5;b4 12 2 mbconv5x5_e1"
  "3|b1 10 1 mbconv5x5_e1;b2 10 1 mbconv3x3_e4;b3 20 2 mbconv3x3_e2;b4 20 1 mbconv5x5_e2;b5 20 1 mbconv3x3_e6"
)
n=0
for network in "${networks[@]}"; do
  n=$((n + 1))
  channels="${network%%|*}"
  {
    echo "name: mbconv_$n"
    echo "data:"
    echo "  format: synthetic"
    echo "  synthetic: {count: 512, height: 16, width: 16, channels: $channels, classes: 4, noise: 0.1, seed: $n}"
    echo "search_space:"
    echo "  blocks:"
    IFS=';' read -ra blocks <<< "${network#*|}"
    for block in "${blocks[@]}"; do
      read -r name out stride op <<< "$block"
      echo "    - {name: $name, out: $out, stride: $stride, ops: [$op]}"
    done
    echo "search:"
    echo "  epochs: {warmup: 1, search: 1, finetune: 1}"
    echo "  batch_size: 64"
    echo "  seed: $n"
    echo "  threads: 1"
  } > "net$n.yaml"
  "$nas" search --target nano33 --seed-network --config "net$n.yaml" --db runs.db > /dev/null 2> "net$n.log" ||
    fail "network $n: training failed: $(tail -2 "net$n.log")"
  run="$(sqlite3 runs.db 'SELECT max(id) FROM runs')"
  for target in nano33 $( [ $((n % 3)) -eq 1 ] && echo f746 ); do
    "$nas" profile "$run" --target "$target" --db runs.db --json > "net$n.$target.json" 2> "net$n.$target.log" ||
      fail "network $n on $target: nas profile failed: $(tail -2 "net$n.$target.log")"
    p="net$n.$target.json"
    joins="$(jq '[.layers[] | select(.kernel_path == "add")] | length' "$p")"
    expansions="$(jq '[.layers[] | select(.name | endswith(".expand"))] | length' "$p")"
    [ "$(jq .differing_images "$p")" -eq 0 ] ||
      fail "network $n on $target: $(jq .differing_images "$p") of $(jq .images "$p") images differ from the host's"
    [ "$(jq '.estimated_ram_bytes == .arena_bytes' "$p")" = true ] ||
      fail "network $n on $target: RAM estimate $(jq .estimated_ram_bytes "$p") B, arena $(jq .arena_bytes "$p") B"
    error="$(jq '100 * .whole_network_error | . * 10 | round / 10' "$p")"
    [ "$(jq '.whole_network_error | fabs <= 0.10' "$p")" = true ] ||
      fail "network $n on $target: instruction estimate $error % off QEMU's count (more than ±10 %)"
    echo "ok: network $n on $target: $(jq '.layers | length' "$p") layers ($joins residual joins, $expansions" \
      "expansions), $(jq .images "$p") images bit-exact, arena $(jq .arena_bytes "$p") B = estimate," \
      "$(jq .instructions_per_inference "$p") instructions measured, estimate $error %"
  done
done
joins="$(jq -s '[.[].layers[] | select(.kernel_path == "add")] | length' ./*.nano33.json)"
[ "$joins" -ge 8 ] || fail "only $joins residual joins in the six networks"
echo "all mbconv firmware checks passed"
