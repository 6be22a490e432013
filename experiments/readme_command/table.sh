#!/usr/bin/env bash
# Prints docs/readme-command.md from a results database: the README command's run and its channels-only
# restriction, each with its test accuracy, estimated and QEMU-counted latency, MACs, parameters and wall time.
#   bash experiments/readme_command/table.sh DB SEARCH_RUN CHANNELS_RUN
set -euo pipefail
db="$1" search="$2" channels="$3"
cat <<HEADER
# The README command against channel pruning of its own space

Written by \`bash experiments/readme_command/run.sh\` (runs $search and $channels of its results database). Row 1 is \`nas search --target nano33 --max-ram 256K --max-latency 50ms\` on its defaults
(experiments/fmnist_search.yaml); row 2 the same command, schedule and seed with every block restricted to
\`ops: [conv3x3]\`, so only widths are searched. "QEMU" is \`nas profile\`: the int8 network's instructions counted
on QEMU's Cortex-M4 (mps2-an386) × 1.1 cycles per instruction at 64 MHz; the budget is met when it is ≤ 50 ms.

HEADER
sqlite3 -batch "$db" <<SQL
.mode markdown
SELECT CASE r.id WHEN $search THEN 'operators + widths (the README command)' ELSE 'widths only (conv3x3)' END AS search,
  printf('%.2f', 100 * r.test_accuracy) AS "test acc %",
  (SELECT printf('%.2f', c.value * 1e3) FROM costs c WHERE c.run_id = r.id AND c.metric = 'latency') AS "est. ms",
  (SELECT printf('%.2f', d.measured_latency_s * 1e3) FROM deployments d WHERE d.run_id = r.id
   ORDER BY d.id DESC LIMIT 1) AS "QEMU ms",
  (SELECT printf('%.1f', c.value / 1024.0) FROM costs c WHERE c.run_id = r.id AND c.metric = 'ram') AS "RAM KiB",
  (SELECT printf('%.0f K', c.value / 1e3) FROM costs c WHERE c.run_id = r.id AND c.metric = 'macs') AS MACs,
  (SELECT printf('%.1f K', c.value / 1e3) FROM costs c WHERE c.run_id = r.id AND c.metric = 'params') AS params,
  printf('%.0f', (julianday(r.finished_at) - julianday(r.started_at)) * 86400) AS "wall s"
FROM runs r WHERE r.id IN ($search, $channels) ORDER BY r.id;
SQL
echo
for run in "$search" "$channels"; do
  echo "Run $run's network (\`nas show $run\`):"
  echo
  sqlite3 -batch "$db" "SELECT arch_yaml FROM architectures WHERE run_id = $run" | grep -- '- {' | sed 's/^ */    /'
  echo
done
