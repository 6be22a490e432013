#!/usr/bin/env bash
# Prints the markdown table of docs/search-budgets.md for the given search runs of a results database:
# per run the target, each budget with the exact cost of the fixed network and cost/budget, and test accuracy.
#   bash experiments/budgets/table.sh DB RUN [RUN ...]
set -euo pipefail
db="$1"; shift
ids=$(IFS=,; echo "$*")
cat <<'HEADER'
# One search, several budgets: results

Each row is one `nas search` run of `experiments/fmnist_search.yaml` (Fashion-MNIST) with the budgets shown; the
combinations are listed in `experiments/budgets/combinations.txt` and this file is written by
`bash experiments/budgets/run.sh`. Costs are the cost model's exact figures for the fixed network (RAM and flash
include what the board's firmware keeps: see `nas targets`); "c/b" is cost/budget; budgets not given on the command
line are the board's own SRAM and flash. The binding budget is the one with the largest c/b.

HEADER
sqlite3 -batch "$db" <<SQL
.mode markdown
SELECT r.id AS run, a.target AS target,
  (SELECT group_concat(substr(c.budget_source, 1), '; ') FROM costs c WHERE c.run_id = r.id AND c.budget_source LIKE '--%') AS budgets,
  (SELECT printf('%.1f KiB (%.2f)', c.value / 1024.0, c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.metric = 'ram') AS "RAM (c/b)",
  (SELECT printf('%.1f KiB (%.2f)', c.value / 1024.0, c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.metric = 'flash') AS "flash (c/b)",
  (SELECT printf('%.2f ms', c.value * 1e3) || CASE WHEN c.budget IS NULL THEN '' ELSE printf(' (%.2f)', c.value / c.budget) END FROM costs c WHERE c.run_id = r.id AND c.metric = 'latency') AS "latency (c/b)",
  (SELECT printf('%.1f uJ', c.value * 1e6) || CASE WHEN c.budget IS NULL THEN '' ELSE printf(' (%.2f)', c.value / c.budget) END FROM costs c WHERE c.run_id = r.id AND c.metric = 'energy') AS "energy (c/b)",
  printf('%.2f', 100 * r.test_accuracy) AS "test acc %",
  (SELECT count(*) FROM epochs e WHERE e.run_id = r.id AND e.phase = 'finetune') AS "fine-tune epochs",
  printf('%.0f', (julianday(r.finished_at) - julianday(r.started_at)) * 86400) AS "wall s",
  a.repaired_channels || ' / ' || a.added_channels AS "channels removed / added"
FROM runs r JOIN architectures a ON a.run_id = r.id
WHERE r.id IN ($ids) ORDER BY r.id;
SQL

# Runs whose binding budget is used below 0.85, with the fit step's reason for stopping: a block that cannot grow
# is either at its channel limit (the space's `out`) or would break a budget by growing.
echo
echo "Binding budgets used below 0.85 of their limit:"
echo
sqlite3 -batch "$db" <<SQL
SELECT '- run ' || r.id || ' (' || a.target || '): largest cost/budget ' ||
       printf('%.2f', (SELECT max(c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.budget IS NOT NULL)) ||
       '. The fit step stops when no block can take one more channel (each is at its channel limit or would '
       || 'break a budget), so only costlier operators could use more; the search chose the cheapest ones '
       || '(docs/search.md, Figures; nas show ' || r.id || ' gives the architecture).'
FROM runs r JOIN architectures a ON a.run_id = r.id
WHERE r.id IN ($ids)
  AND (SELECT max(c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.budget IS NOT NULL) < 0.85;
SELECT '- none' WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id IN ($ids)
  AND (SELECT max(c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.budget IS NOT NULL) < 0.85);
SQL
