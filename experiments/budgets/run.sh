#!/usr/bin/env bash
# Runs every line of experiments/budgets/combinations.txt as one `nas search` (the reference config,
# experiments/fmnist_search.yaml), all into one results database, then writes the table of docs/search-budgets.md
# from that database.
#
#   bash experiments/budgets/run.sh [--db budgets.db] [--from K]
#
# --from K starts at the K-th combination (1-based), adding to runs already in the database; the table covers
# every search run in it. 7 to 11 minutes per combination on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="budgets.db"
from=1
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --from) from="$2"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE, --from K)" >&2; exit 2 ;;
  esac
done
nas="$root/build/nas"
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }

n=0
while read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  [ "$n" -ge "$from" ] || continue
  echo "== nas search --target $line" >&2
  # shellcheck disable=SC2086  # the line holds several flags
  "$nas" search --target $line --db "$db" --json < /dev/null
done < "$root/experiments/budgets/combinations.txt"

ids=$(sqlite3 "$db" "SELECT group_concat(run_id, ' ') FROM architectures")
# shellcheck disable=SC2086
bash "$root/experiments/budgets/table.sh" "$db" $ids > "$root/docs/search-budgets.md"
echo "wrote docs/search-budgets.md (runs $ids in $db)" >&2
