#!/usr/bin/env bash
# Prints docs/iso-accuracy.md from a results database filled by experiments/iso_accuracy/run.sh: the seed network
# (mean ± std over its seed runs), every searched candidate against it, and the iso-accuracy reductions next to
# Burrello et al.'s. Reads `nas targets --json` for the firmware's share of RAM and flash, so that "weights" and
# "activations" are the network's own bytes.
#   bash experiments/iso_accuracy/table.sh DB
set -euo pipefail
db="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
targets="$("$nas" targets --json)"
# Accuracy loss allowed at "iso-accuracy", in percentage points of test accuracy.
tolerance=0.5

sql() {
  sqlite3 -batch "$db" <<SQL
CREATE TEMP TABLE board AS SELECT json_extract(value, '\$.flash_reserved_bytes') AS flash_reserve,
  json_extract(value, '\$.ram_reserved_bytes') AS ram_reserve
  FROM json_each('$(sed "s/'/''/g" <<< "$targets")', '\$.targets') WHERE json_extract(value, '\$.name') = 'nano33';
CREATE TEMP TABLE cand AS SELECT r.id, r.kind, coalesce(r.sweep, '') AS sweep, r.seed, 100 * r.test_accuracy AS acc,
  CASE WHEN r.config_path LIKE '%prune.yaml' THEN 'channels only' ELSE 'operators + channels' END AS search,
  (SELECT value FROM costs c WHERE c.run_id = r.id AND c.metric = 'latency') AS latency,
  (SELECT value FROM costs c WHERE c.run_id = r.id AND c.metric = 'ram') - (SELECT ram_reserve FROM board) AS act,
  (SELECT value FROM costs c WHERE c.run_id = r.id AND c.metric = 'flash') - (SELECT flash_reserve FROM board) AS weights,
  (SELECT group_concat(budget_source, ' ') FROM costs c WHERE c.run_id = r.id AND c.budget_source LIKE '--%') AS budgets,
  (SELECT max(c.value / c.budget) FROM costs c WHERE c.run_id = r.id AND c.budget_source LIKE '--%') AS use_after,
  (SELECT max(t.fixed / t.budget) FROM budget_trace t JOIN costs c ON c.run_id = t.run_id AND c.metric = t.metric
     AND c.budget_source LIKE '--%' WHERE t.run_id = r.id
     AND t.epoch = (SELECT max(epoch) FROM budget_trace WHERE run_id = r.id)) AS use_before,
  trim(replace(replace(replace(replace(replace(replace(replace(substr(a.arch_yaml, instr(a.arch_yaml, 'blocks:')), 'blocks:', ''), '  - {name: ', ''),
    ', op: ', ' '), ', out: ', ' '), ', stride: 1}', ''), ', stride: 2}', '/2'), char(10), ', '), ', ') AS arch
  FROM runs r JOIN architectures a ON a.run_id = r.id WHERE r.status = 'done' AND a.target = 'nano33';
CREATE TEMP TABLE seed AS SELECT count(*) AS n, avg(acc) AS acc,
  CASE WHEN count(*) > 1 THEN sqrt((sum(acc * acc) - count(*) * avg(acc) * avg(acc)) / (count(*) - 1)) END AS std,
  avg(latency) AS latency, avg(act) AS act, avg(weights) AS weights FROM cand WHERE kind = 'seed';
$1
SQL
}

cat <<HEADER
# Iso-accuracy: mcunas against its seed network (after Burrello et al.)

Written by \`bash experiments/iso_accuracy/run.sh\` from its results database; every figure below is what those
runs gave. Setting (\`experiments/iso_accuracy/search.yaml\`): Fashion-MNIST (55,000 training images, 5,000 more
held out for the architecture steps, 10,000 test images), costs from the nano33 cost model (Arduino Nano 33 BLE
Sense, Cortex-M4F at 64 MHz; \`nas targets\`).

- **Seed network**: every block's first operator with all its channels (conv3x3, 16-32-32-64-64 channels,
  global average pooling, linear), trained from scratch for 14 epochs (\`nas search --seed-network\`), three
  seeds. Every searched network is trained the same way after its search (3 warm-up + 2 search epochs of the
  supernet, then \`search.finetune.start: scratch\` and 14 epochs), so the networks of the table differ only by
  their architecture. The operators + channels searches also train each network of their fix step's shortlist
  for 1 epoch from the supernet's weights (5 to 9 per search, docs/search.md, "Shortlist") to choose among them,
  and discard those probes.
- **Searches**, from the same seed network, one per budget and seed (seeds 1 and 2 on latency budgets, seed 1 on
  flash budgets; the operators + channels sweep is plotted against MACs below):
  - *channels only* (\`prune.yaml\`, as in Burrello et al., who prune the seed's channels): one operator per block
    (conv3x3), the search chooses how many channels each block keeps; sweeps \`iso-prune-latency\` (latency
    budgets) and \`iso-prune-flash\` (flash budgets).
  - *operators + channels* (\`search.yaml\`): each block also chooses among conv / depthwise-separable 3x3 and 5x5
    (the stem b1 among convolutions only; skip in b3, b5), and the fix step probes a shortlist of the 8 most
    probable operator sets and the seed's; sweep \`iso-latency\`.
- **Memory** is the network's own bytes as the cost model counts them on the board: *weights* = flash − the
  firmware's reserve (int8 weights, int32 biases, requantisation constants), *activations* = peak RAM − the
  firmware's reserve (tensor arena at the peak, kernel scratch). Burrello et al. count memory as the model's
  size, which *weights* corresponds to.
- **Iso-accuracy** means a test accuracy no more than ${tolerance} points below the seed's mean.
- **Latency** is what each search's cost model priced its network at: instructions from the calibration of the
  commit the runs were made at (docs/results/iso_accuracy.db keeps it) × 1.1 cycles per instruction at 64 MHz
  (docs/latency-model.md).

## Seed network
HEADER
echo
sql ".mode markdown --wrap 0
SELECT n AS runs, printf('%.2f ± %.2f', acc, coalesce(std, 0)) AS \"test acc % (mean ± std)\",
  printf('%.1f', latency * 1e3) AS \"latency ms\", printf('%.1f', weights / 1024.0) AS \"weights KiB\",
  printf('%.1f', act / 1024.0) AS \"activations KiB\" FROM seed;"
echo
echo "## Searched networks"
echo
echo "Reductions are against the seed's figures above; Δ acc against the seed's mean accuracy. *Use* is the"
echo "binding budget's cost over its limit: *before fit* for the argmax architecture at the end of the search,"
echo "*after* for the network fixing, repair and fit end with."
echo
sql ".mode markdown --wrap 0
SELECT c.id AS run, c.search, c.budgets, printf('%.2f', c.acc) AS \"test acc %\", printf('%+.2f', c.acc - s.acc) AS \"Δ acc\",
  printf('%.2f', c.use_before) AS \"use before fit\", printf('%.2f', c.use_after) AS \"use after\",
  printf('%.2f', c.latency * 1e3) AS \"latency ms\", printf('%.1f%%', 100 * (c.latency / s.latency - 1)) AS \"Δ latency\",
  printf('%.1f', c.weights / 1024.0) AS \"weights KiB\", printf('%.1f%%', 100 * (c.weights / s.weights - 1)) AS \"Δ weights\",
  printf('%.1f', c.act / 1024.0) AS \"activations KiB\", printf('%.1f%%', 100 * (c.act / s.act - 1)) AS \"Δ activations\",
  c.arch AS architecture
FROM cand c, seed s WHERE c.kind = 'search' ORDER BY c.search, c.sweep, c.latency DESC;"
echo
echo "## Per latency budget"
echo
echo "Mean test accuracy of each search's runs at the same latency budget (seeds in brackets), against the seed"
echo "network's mean."
echo
sql ".mode markdown --wrap 0
SELECT b.budget_source AS budget, c.search,
  printf('%.2f', avg(c.acc)) AS \"mean test acc %\", '(' || group_concat(printf('%.2f', c.acc), ', ') || ')' AS runs,
  printf('%+.2f', avg(c.acc) - s.acc) AS \"Δ acc vs seed\", printf('%.2f', avg(c.use_after)) AS \"mean use\"
FROM cand c JOIN costs b ON b.run_id = c.id AND b.metric = 'latency' AND b.budget_source LIKE '--%', seed s
WHERE c.kind = 'search' GROUP BY b.budget, c.search ORDER BY b.budget DESC, c.search;"
echo
echo "## At iso-accuracy, next to the paper"
echo
echo "Per search, the largest reduction of each cost among its networks within ${tolerance} points of the seed's mean"
echo "accuracy (each may come from a different network; the run is named). Burrello et al.'s figures are their"
echo "seed-network comparisons at non-inferior accuracy as the issue quotes them, on their own tasks and hardware."
echo
best() {  # search, cost column, label, format of the value, scale, paper's figure
  echo "SELECT '$1' AS search, '$3' AS cost,
    coalesce((SELECT printf('%.1f%% (run %d: $4, %.2f%%)', 100 * (o.$2 / s.$2 - 1), o.id, o.$2 * $5, o.acc)
              FROM cand o, seed s WHERE o.kind = 'search' AND o.search = '$1' AND o.acc >= s.acc - $tolerance
              ORDER BY o.$2 LIMIT 1), 'none within ${tolerance} pt') AS mcunas, '$6' AS \"Burrello et al.\""
}
rows=""
for search in "channels only" "operators + channels"; do
  for metric in "latency|latency|%.2f ms|1e3|-54.2%" "weights|memory (weights)|%.1f KiB|1.0 / 1024|-87.4%" \
                "act|activations|%.1f KiB|1.0 / 1024|-"; do
    IFS='|' read -r column label format scale paper <<< "$metric"
    rows+="${rows:+ UNION ALL }$(best "$search" "$column" "$label" "$format" "$scale" "$paper")"
  done
done
sql ".mode markdown --wrap 0
$rows;"
echo
echo "## Reading it"
echo
sql "SELECT '- Channels only: the nets that keep the seed''s accuracy within ${tolerance} points reach ' ||
  coalesce((SELECT printf('%.1f%%', 100 * (min(o.latency) / s.latency - 1)) FROM cand o, seed s
            WHERE o.search = 'channels only' AND o.acc >= s.acc - $tolerance), 'no') ||
  ' latency; the paper''s memory figure (-87.4%) is not reached: the largest weight reduction within ${tolerance} points is ' ||
  coalesce((SELECT printf('%.1f%%', 100 * (min(o.weights) / s.weights - 1)) FROM cand o, seed s
            WHERE o.search = 'channels only' AND o.acc >= s.acc - $tolerance), 'none') ||
  ', and the tightest flash budget tried ' ||
  coalesce((SELECT printf('(%.1f%% weights) costs %.2f', 100 * (o.weights / s.weights - 1), s.acc - o.acc)
            FROM cand o, seed s WHERE o.search = 'channels only' ORDER BY o.weights LIMIT 1), '?') ||
  ' points of accuracy.';
CREATE TEMP TABLE per_budget AS SELECT b.budget, b.budget_source, c.search, avg(c.acc) AS acc, count(*) AS n,
  group_concat(c.arch, ' | ') AS archs
  FROM cand c JOIN costs b ON b.run_id = c.id AND b.metric = 'latency' AND b.budget_source LIKE '--%'
  WHERE c.kind = 'search' GROUP BY b.budget, c.search;
SELECT '- Operators + channels against channels only, mean over the same seeds at each latency budget both searched: ' ||
  group_concat(line, '; ') || '.'
  FROM (SELECT printf('%s %.2f against %.2f %% (%+.2f)', o.budget_source, o.acc, p.acc, o.acc - p.acc) AS line
        FROM per_budget o JOIN per_budget p ON p.budget = o.budget AND p.search = 'channels only'
        WHERE o.search = 'operators + channels' ORDER BY o.budget DESC);
SELECT '- The operators the search chose, per latency budget (every block of every seed): ' ||
  group_concat(budget_source || ' ' || ops, '; ') || '.'
  FROM (SELECT budget_source, budget,
          (SELECT group_concat(op || ' ×' || k, ', ') FROM (
             SELECT op, count(*) AS k FROM (
               SELECT trim(substr(part, instr(part, ' ') + 1, instr(substr(part, instr(part, ' ') + 1), ' ') - 1)) AS op
               FROM (WITH RECURSIVE split(part, rest) AS (
                       SELECT '', archs || ' | '
                       UNION ALL
                       SELECT substr(rest, 1, min(instr(rest || ', ', ', '), instr(rest, ' | ')) - 1),
                              substr(rest, min(instr(rest || ', ', ', '), instr(rest, ' | ')) + 2)
                       FROM split WHERE rest != '')
                     SELECT trim(part, ' |') AS part FROM split WHERE trim(part, ' |') != ''))
             GROUP BY op ORDER BY count(*) DESC)) AS ops
        FROM per_budget WHERE search = 'operators + channels' ORDER BY budget DESC);
SELECT '- The fix step''s shortlist (docs/search.md, \"Shortlist\"): ' || count(*) || ' operators + channels searches probed ' ||
  sum(n) || ' networks (' || min(n) || ' to ' || max(n) || ' each, 1 epoch each); ' || sum(chosen_rank > 0) ||
  ' fine-tuned another network than their argmax operators'' (their probe: ' ||
  group_concat(CASE WHEN chosen_rank > 0 THEN printf('%.2f over %.2f %%', chosen_acc, argmax_acc) END, ', ') ||
  '), ' || sum(chosen_seed) ||
  ' of them the seed''s operators (conv3x3 in every block).'
  FROM (SELECT s.run_id, count(*) AS n, max(CASE WHEN s.chosen THEN s.rank END) AS chosen_rank,
          100 * max(CASE WHEN s.chosen THEN s.holdout_accuracy END) AS chosen_acc,
          100 * max(CASE WHEN s.rank = 0 THEN s.holdout_accuracy END) AS argmax_acc,
          max(s.chosen AND s.arch_yaml NOT LIKE '%op: conv5x5%' AND s.arch_yaml NOT LIKE '%op: dwsep%'
              AND s.arch_yaml NOT LIKE '%op: skip%') AS chosen_seed
        FROM shortlist s JOIN cand c ON c.id = s.run_id GROUP BY s.run_id);"

cat <<'FOOTER'

## Fronts

Accuracy against latency and against flash on nano33, every candidate of the database, one colour per sweep and
the seed runs on their own (faint points are dominated on the board), drawn by
`nas pareto --target nano33 --x latency|flash --all --by sweep --plot`:

![accuracy vs latency](figures/iso_accuracy_latency.svg)

![accuracy vs flash](figures/iso_accuracy_flash.svg)

The operators + channels sweep alone (4 latency budgets × 2 seeds) against MACs, the cost other tools budget
(`nas pareto --target nano33 --sweep iso-latency --x macs --all --plot`):

![accuracy vs MACs](figures/iso_latency_macs.svg)
FOOTER
