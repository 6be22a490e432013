#!/usr/bin/env bash
# Inverted residuals against the best conv / depthwise-separable networks at the same latency budgets (issue 19):
# the operators + channels search of experiments/iso_accuracy/mbconv.yaml (search.yaml's space plus mbconv
# candidates) at 100 ms and 60 ms on nano33, seeds 1 and 2, as sweep iso-mbconv-latency, and the same with the
# expansions sharing weights (mbconv_shared.yaml) as sweep iso-mbconv-shared-latency; each found network
# counted in QEMU (nas profile); then docs/iso-mbconv.md from it (kept without weights as
# docs/results/iso_mbconv.db) and from the conv / dwsep sweeps kept in docs/results/iso_accuracy.db
# (experiments/iso_accuracy/run.sh).
#
#   bash experiments/iso_accuracy/mbconv.sh [--db iso_mbconv.db]
#
# Safe to run again: an interrupted sweep is resumed. About 15 minutes per search on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="iso_mbconv.db"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) echo "mbconv.sh: unknown option '$1' (known: --db FILE)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"   # NAS=path runs another build (e.g. a copy kept while rebuilding)
[ -x "$nas" ] || { echo "mbconv.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
# The mbconv space with each expansion its own weights (mbconv.yaml), and with the expansions of a kernel sharing
# one set of hidden channels (mbconv_shared.yaml).
sweeps="iso-mbconv-latency:mbconv.yaml iso-mbconv-shared-latency:mbconv_shared.yaml"
for sweep in $sweeps; do
  name="${sweep%%:*}"
  config="$root/experiments/iso_accuracy/${sweep#*:}"
  if [ -f "$db" ] && [ -n "$(sqlite3 "$db" "SELECT name FROM sweeps WHERE name = '$name'")" ]; then
    "$nas" sweep --resume "$name" --db "$db" --jobs 1 < /dev/null || [ $? -eq 1 ]
  else
    "$nas" sweep --name "$name" --target nano33 --max-latency 100ms,60ms --seeds 2 --config "$config" --jobs 1 \
      --db "$db" < /dev/null || [ $? -eq 1 ]
  fi
done
# Each found network counted in QEMU (nas profile): measured latency against the estimate, host = QEMU bytes.
for run in $(sqlite3 "$db" "SELECT id FROM runs WHERE sweep LIKE 'iso-mbconv-%' AND status = 'done' AND id NOT IN
    (SELECT run_id FROM deployments WHERE kind = 'qemu')"); do
  "$nas" profile "$run" --target nano33 --db "$db" > /dev/null < /dev/null
done
# The conv / dwsep networks it is compared with were searched under the calibration of their commit (39d0592), which
# priced convolutions of input channel counts that are not multiples of 4 up to 22 % low (docs/latency-model.md):
# each is counted in QEMU too, as the seed network of a one-candidate space with its operators and widths (weights
# trained 1 epoch on synthetic data; the instruction count does not depend on them), into this database.
iso_db="$root/docs/results/iso_accuracy.db"
mkdir -p baselines
# "  - {name: b1, op: conv3x3, out: 12, stride: 1}" of an architecture -> "    - {name: b1, out: 12, stride: 1,
# ops: [conv3x3]}" of a space
block='^  - {name: \([^,]*\), op: \([^,]*\), out: \([0-9]*\), stride: \([12]\)}$'
as_space='    - {name: \1, out: \3, stride: \4, ops: [\2]}'
budgets="$(sqlite3 "$db" "SELECT group_concat(quote(budget_source)) FROM (SELECT DISTINCT budget_source FROM costs
  WHERE metric = 'latency' AND run_id IN (SELECT id FROM runs WHERE sweep LIKE 'iso-mbconv-%'))")"
for id in $(sqlite3 "$iso_db" "SELECT r.id FROM runs r JOIN costs c ON c.run_id = r.id AND c.metric = 'latency'
    WHERE r.sweep IN ('iso-latency', 'iso-prune-latency') AND r.status = 'done' AND c.budget_source IN ($budgets)"); do
  config="$PWD/baselines/baseline_$id.yaml"
  [ -z "$(sqlite3 "$db" "SELECT id FROM runs WHERE config_path = '$config' AND status = 'done'")" ] || continue
  {
    echo "name: baseline_$id"
    echo "data: {format: synthetic, synthetic: {count: 256, height: 28, width: 28, channels: 1, classes: 10, seed: 1}}"
    echo "search_space:"
    echo "  blocks:"
    sqlite3 "$iso_db" "SELECT arch_yaml FROM architectures WHERE run_id = $id" | sed -n "s/$block/$as_space/p"
    echo "search: {epochs: {warmup: 1, search: 1, finetune: 1}, batch_size: 64, seed: 1, threads: 2}"
  } > "$config"
  "$nas" search --target nano33 --seed-network --config "$config" --db "$db" > /dev/null < /dev/null
done
for run in $(sqlite3 "$db" "SELECT id FROM runs WHERE kind = 'seed' AND config_path LIKE '%/baseline_%.yaml'
    AND status = 'done' AND id NOT IN (SELECT run_id FROM deployments WHERE kind = 'qemu')"); do
  "$nas" profile "$run" --target nano33 --db "$db" > /dev/null < /dev/null
done
commit="$(git -C "$root" describe --always --dirty 2> /dev/null || echo unknown)"
bash "$root/experiments/front_page/keep_results.sh" "$db" "$root/docs/results/iso_mbconv.db" "$commit"
bash "$root/experiments/iso_accuracy/mbconv_table.sh" "$root/docs/results/iso_mbconv.db" \
  "$root/docs/results/iso_accuracy.db" > "$root/docs/iso-mbconv.md"
echo "wrote docs/iso-mbconv.md and docs/results/iso_mbconv.db (without weights) from $db" >&2
