#!/usr/bin/env bash
# TREC in the search (issue 20, docs/trec-search.md): experiments/trec/search.yaml (the CifarNet-like space whose
# two large convolutions may be reuse convolutions) searched for the Nano 33 BLE under a tight latency budget, and
# as the reference the same space with the dense convolutions only, same budget, schedule and seed. Each found
# network is then counted in QEMU (`nas profile`, nano33: the search's estimate against the counted instructions)
# and evaluated in int8 (`nas eval --int8`). Writes docs/trec-search.md (search_table.sh).
#
#   bash experiments/trec/search.sh [--db trec_search.db] [--budget 60ms] [--table-only]
#
# Safe to run again: a search with a finished run of its name and budget in the database is not run again;
# docs/results/trec_search.db holds the runs of docs/trec-search.md (--db docs/results/trec_search.db --table-only
# rewrites it from them). About 40 minutes on 2 cores for the two searches.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="trec_search.db"
budget="60ms"
table_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --table-only) table_only=1; shift ;;
    *) echo "search.sh: unknown option '$1' (known: --db FILE, --budget LATENCY, --table-only)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"
[ -x "$nas" ] || { echo "search.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

reuse_config="$root/experiments/trec/search.yaml"
dense_config="$work/search_dense.yaml"  # the same space without the reuse candidates
sed -e 's/^name: trec_search/name: trec_search_dense/' -e 's/, conv[0-9]x[0-9]_reuse_l[0-9]*h[0-9]//g' \
  "$reuse_config" > "$dense_config"

run_of() {  # config name -> the id of its finished search at this budget, or nothing
  [ -f "$db" ] || return 0
  sqlite3 "$db" "SELECT id FROM runs WHERE kind = 'search' AND status = 'done' AND config_yaml LIKE 'name: $1
%' AND command_line LIKE '%--max-latency $budget %' ORDER BY id DESC LIMIT 1"
}

runs=()
for config in "$reuse_config" "$dense_config"; do
  name="$(sed -n 's/^name: //p' "$config")"
  if [ -z "$(run_of "$name")" ]; then
    [ "$table_only" -eq 0 ] || { echo "search.sh: no finished search $name at $budget in $db" >&2; exit 1; }
    echo "== searching $name under $budget" >&2
    "$nas" search --config "$config" --target nano33 --max-latency "$budget" --db "$db" < /dev/null >&2
  fi
  runs+=("$(run_of "$name")")
done
bash "$root/experiments/trec/search_table.sh" "$db" "$budget" "${runs[@]}" > "$work/trec-search.md"
cp "$work/trec-search.md" "$root/docs/trec-search.md"
echo "wrote docs/trec-search.md" >&2
