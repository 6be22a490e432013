#!/usr/bin/env bash
# nas import --as-seed and nas search --seed-run through the real binary and a real SQLite file, with an ONNX model
# written by Debian's PyTorch (tests/data/onnx/make_small_cnn.py: a conv, a strided conv, a depthwise-separable
# block and an inverted residual, then a classifier head):
#   - the import stores a run of kind import with the network's four blocks, its weights and its float test
#     accuracy, which nas eval reproduces; nas eval --int8 quantises it like any run;
#   - a channel search from it (its blocks, its weights, its data) lands inside a latency budget that the imported
#     network itself misses, with every block keeping its operator;
#   - the same network exported as .tflite and imported as int8 is not a seed (no float network);
#   - an unsupported operator, a truncated file, a TFLite file with --as-seed, an .onnx without --as-seed and an
#     unknown --seed-run each give one line on stderr and exit status 2, and store nothing.
#
#   bash tests/integration/onnx_seed_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
onnx="$root/tests/data/onnx"
work="$(mktemp -d /tmp/mcunas-onnx.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools sqlite3:sqlite3 jq:jq
cd "$work"

# The model takes 12x12x1 images in 4 classes; the search's own settings come from the small search's config.
small_search_config search.yaml 2
cat > data.yaml <<'YAML'
data:
  format: synthetic
  synthetic: {count: 512, height: 12, width: 12, channels: 1, classes: 4, noise: 0.1, seed: 3}
YAML

"$nas" import "$onnx/small_cnn.onnx" --as-seed --data data.yaml --db runs.db --json > import.json 2> import.err ||
  fail "nas import --as-seed failed: $(cat import.err)"
check "the import is run 1" 1 "$(jq .run import.json)"
check "its kind" import "$(sqlite3 runs.db "SELECT kind FROM runs WHERE id = 1")"
check "its blocks" "conv3x3 conv5x5 dwsep3x3 mbconv3x3_e2" \
  "$(sqlite3 runs.db "SELECT arch_yaml FROM architectures WHERE run_id = 1" | grep -o 'op: [a-z0-9_]*' |
    cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')"
"$nas" eval 1 --json --db runs.db > eval.json 2> /dev/null
check "nas eval's float accuracy = the import's" "$(jq .float_accuracy import.json)" "$(jq .float_accuracy eval.json)"
"$nas" eval 1 --int8 --json --db runs.db > int8.json 2> /dev/null
awk -v a="$(jq .agreement int8.json)" 'BEGIN { exit !(a >= 0.9) }' ||
  fail "int8 agrees with float on $(jq .agreement int8.json) of the images"
echo "ok: the imported network evaluates in float and in int8 (agreement $(jq .agreement int8.json))"

"$nas" search --seed-run 1 --target nano33 --max-latency 2ms --config search.yaml --db runs.db --json \
  > search.json 2> search.err || fail "nas search --seed-run failed: $(tail -3 search.err)"
grep -q "the supernet starts from run 1's network and weights" search.err || fail "the search did not start from run 1"
seed_ms="$(grep -o 'largest network of the space:.*' search.err | grep -o 'latency [0-9.]* [mu]s' | head -1)"
echo "the imported network: $seed_ms"
case "$seed_ms" in
  *" ms") awk -v v="$(echo "$seed_ms" | cut -d' ' -f2)" 'BEGIN { exit !(v > 2) }' ||
    fail "the imported network already meets 2 ms ($seed_ms): the test shows nothing" ;;
  *) fail "the imported network's latency is not in ms: $seed_ms" ;;
esac
check "the search ended" done "$(jq -r .status search.json)"
awk -v v="$(jq .costs.latency.value search.json)" 'BEGIN { exit !(v <= 0.002) }' ||
  fail "the searched network needs $(jq .costs.latency.value search.json) s, over 2 ms"
check "the search kept every block's operator" "conv3x3 conv5x5 dwsep3x3 mbconv3x3_e2" \
  "$(sqlite3 runs.db "SELECT arch_yaml FROM architectures WHERE run_id = 2" | grep -o 'op: [a-z0-9_]*' |
    cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')"
echo "ok: the channel search from the import fits 2 ms ($(jq .costs.latency.value search.json) s, test accuracy" \
  "$(jq .test_accuracy search.json))"

"$nas" export 1 --format tflite --out seed.tflite --db runs.db > /dev/null 2>&1
"$nas" import seed.tflite --data data.yaml --db runs.db > /dev/null 2>&1
refused "--seed-run of an int8 import" "--seed-run: run 3 (import) has no fixed network" \
  search --seed-run 3 --target nano33 --max-latency 2ms --config search.yaml --db runs.db

before="$(dump)"
head -c 5000 "$onnx/small_cnn.onnx" > cut.onnx
refused "an unsupported operator" "is Sigmoid" import "$onnx/unsupported.onnx" --as-seed --data data.yaml --db runs.db
refused "a truncated ONNX file" "cut.onnx: " import cut.onnx --as-seed --data data.yaml --db runs.db
refused "a TFLite file as a seed" "--as-seed: takes a float ONNX model" import seed.tflite --as-seed --db runs.db
refused "an ONNX file without --as-seed" "add --as-seed" import "$onnx/small_cnn.onnx" --db runs.db
refused "an unknown --seed-run" "--seed-run: no run 42" \
  search --seed-run 42 --target nano33 --max-latency 2ms --config search.yaml --db runs.db
check "refused commands left the database as it was" "$before" "$(dump)"
echo "all ONNX seed checks passed"
