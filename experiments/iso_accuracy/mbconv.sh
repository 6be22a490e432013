#!/usr/bin/env bash
# Inverted residuals against the best conv / depthwise-separable networks at the same latency budgets (issue 19):
# the operators + channels search of experiments/iso_accuracy/mbconv.yaml (search.yaml's space plus mbconv
# candidates) at 100 ms and 60 ms on nano33, seeds 1 and 2, as sweep iso-mbconv-latency; each found network
# counted in QEMU (nas profile); then docs/iso-mbconv.md from it and from the conv / dwsep sweeps kept in
# docs/results/iso_accuracy.db (experiments/iso_accuracy/run.sh).
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
name=iso-mbconv-latency
if [ -f "$db" ] && [ -n "$(sqlite3 "$db" "SELECT name FROM sweeps WHERE name = '$name'")" ]; then
  "$nas" sweep --resume "$name" --db "$db" --jobs 1 < /dev/null || [ $? -eq 1 ]
else
  "$nas" sweep --name "$name" --target nano33 --max-latency 100ms,60ms --seeds 2 \
    --config "$root/experiments/iso_accuracy/mbconv.yaml" --jobs 1 --db "$db" < /dev/null || [ $? -eq 1 ]
fi
# Each found network counted in QEMU (nas profile): measured latency against the estimate, host = QEMU bytes.
for run in $(sqlite3 "$db" "SELECT id FROM runs WHERE sweep = '$name' AND status = 'done' AND id NOT IN
    (SELECT run_id FROM deployments WHERE kind = 'qemu')"); do
  "$nas" profile "$run" --target nano33 --db "$db" > /dev/null < /dev/null
done
bash "$root/experiments/iso_accuracy/mbconv_table.sh" "$db" "$root/docs/results/iso_accuracy.db" \
  > "$root/docs/iso-mbconv.md"
echo "wrote docs/iso-mbconv.md from $db" >&2
