#!/usr/bin/env bash
# The seed-path trial of docs/search.md ("Seed path"): the two iso-accuracy searches that fell furthest behind
# channels only (100 ms seed 2, 60 ms seed 1) run again with `search.weights.seed_path: true`, everything else as in
# experiments/iso_accuracy/search.yaml. Prints each run's test accuracy (`nas show RUN --db seed_path.db` the rest).
#
#   bash experiments/iso_accuracy/seed_path.sh [--db seed_path.db]
#
# About 10 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="seed_path.db"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) echo "seed_path.sh: unknown option '$1' (known: --db FILE)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"
[ -x "$nas" ] || { echo "seed_path.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The warm-up schedule line gains `seed_path: true` beside it (search.weights).
sed -E 's/^(    schedule: \{type: cosine, lr: 0.2.*)$/\1\n    seed_path: true/' \
  "$root/experiments/iso_accuracy/search.yaml" > "$work/search.yaml"
grep -q "seed_path: true" "$work/search.yaml" || { echo "seed_path.sh: search.yaml changed; fix the sed" >&2; exit 2; }
for job in "100ms 2" "60ms 1"; do
  set -- $job
  "$nas" search --target nano33 --max-latency "$1" --config "$work/search.yaml" --seed "$2" --db "$db" \
    < /dev/null > /dev/null
  echo "$1 seed $2: $(sqlite3 "$db" "SELECT printf('%.2f %%', 100 * test_accuracy) FROM runs ORDER BY id DESC LIMIT 1")"
done
