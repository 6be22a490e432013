#!/usr/bin/env bash
# Runs every budget combination of experiments/budgets/combinations.txt as one `nas search` each (the reference
# config, experiments/fmnist_search.yaml, with the fine-tuning epochs given below), all into one results database,
# then writes the table of docs/search-budgets.md from that database.
#
#   bash experiments/budgets/run.sh [--db budgets.db] [--finetune-epochs N]
#
# About 7 minutes per combination on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="budgets.db"
finetune=10
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --finetune-epochs) finetune="$2"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE, --finetune-epochs N)" >&2; exit 2 ;;
  esac
done
nas="$root/build/nas"
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }

ids=()
while read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  echo "== nas search --target $line" >&2
  # shellcheck disable=SC2086  # the line holds several flags
  out=$("$nas" search --target $line --finetune-epochs "$finetune" --db "$db" --json)
  ids+=("$(echo "$out" | sed -E 's/.*"run_id":([0-9]+).*/\1/')")
done < "$root/experiments/budgets/combinations.txt"

bash "$root/experiments/budgets/table.sh" "$db" "${ids[@]}" > "$root/docs/search-budgets.md"
echo "wrote docs/search-budgets.md (runs ${ids[*]} in $db)" >&2
