#!/usr/bin/env bash
# TREC in the search (issue 20, docs/trec-search.md): experiments/trec/search.yaml (the CifarNet-like space whose
# two large convolutions may be reuse convolutions) searched for the Nano 33 BLE under tight latency budgets: as
# `nas search` runs it, and with the shortlist off (the search's most probable network is fine-tuned, whatever the
# held-out scores of the alternatives); as the reference, the same space with the dense convolutions only. Same
# budget, schedule and seed for all three. Each found
# network is then counted in QEMU (`nas profile`, nano33: the search's estimate against the counted instructions)
# and evaluated in int8 (`nas eval --int8`). Writes docs/trec-search.md (search_table.sh).
#
#   bash experiments/trec/search.sh [--db trec_search.db] [--budgets "60ms 25ms"] [--table-only]
#
# Safe to run again: a search with a finished run of its name and budget in the database is not run again;
# docs/results/trec_search.db holds the runs of docs/trec-search.md (--db docs/results/trec_search.db --table-only
# rewrites it from them). About 25 minutes per budget on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="trec_search.db"
budgets="60ms 25ms"
table_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --budgets) budgets="$2"; shift 2 ;;
    --table-only) table_only=1; shift ;;
    *) echo "search.sh: unknown option '$1' (known: --db FILE, --budgets \"LATENCY...\", --table-only)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"
[ -x "$nas" ] || { echo "search.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

reuse_config="$root/experiments/trec/search.yaml"
argmax_config="$work/search_argmax.yaml"  # the same, fine-tuning the search's most probable network (no shortlist)
sed -e 's/^name: trec_search/name: trec_search_argmax/' \
    -e 's/^  shortlist: .*/  shortlist: {candidates: 1, seed_ops: false}/' "$reuse_config" > "$argmax_config"
dense_config="$work/search_dense.yaml"  # the same space without the reuse candidates
sed -e 's/^name: trec_search/name: trec_search_dense/' -e 's/, conv[0-9]x[0-9]_reuse_l[0-9]*h[0-9]//g' \
  "$reuse_config" > "$dense_config"

run_of() {  # config name, budget -> the id of its finished search at that budget, or nothing
  [ -f "$db" ] || return 0
  sqlite3 "$db" "SELECT id FROM runs WHERE kind = 'search' AND status = 'done' AND config_yaml LIKE 'name: $1
%' AND command_line LIKE '%--max-latency $2 %' ORDER BY id DESC LIMIT 1"
}

runs=()  # per budget: the budget, then the runs of the three configs
for budget in $budgets; do
  runs+=("$budget")
  for config in "$reuse_config" "$argmax_config" "$dense_config"; do
    name="$(sed -n 's/^name: //p' "$config")"
    if [ -z "$(run_of "$name" "$budget")" ]; then
      [ "$table_only" -eq 0 ] || { echo "search.sh: no finished search $name at $budget in $db" >&2; exit 1; }
      echo "== searching $name under $budget" >&2
      "$nas" search --config "$config" --target nano33 --max-latency "$budget" --db "$db" < /dev/null >&2
    fi
    runs+=("$(run_of "$name" "$budget")")
  done
done
bash "$root/experiments/trec/search_table.sh" "$db" "${runs[@]}" > "$work/trec-search.md"
cp "$work/trec-search.md" "$root/docs/trec-search.md"
echo "wrote docs/trec-search.md" >&2
