#!/usr/bin/env bash
# The static memory plan of every searched network in the given results databases: for each finished run with a
# fixed architecture, the arena `nas export` plans (and what it would be with no depthwise layer written over its
# input), the liveness lower bound (the most bytes live at once), their ratio, and the search's own RAM estimate of
# the same network (its `ram` cost minus the board's reserved RAM), which must equal the arena when the search ran
# on the same planner. Prints a Markdown table (docs/deploy.md keeps the latest).
#   bash experiments/memory_plan/table.sh DB...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
targets="$("$nas" targets --json)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
field() { grep -o "\"$1\": *[^,}]*" "$out/export.json" | head -1 | sed 's/.*: *//; s/"//g'; }

echo "| database | run | target | blocks | arena (B) | no depthwise in place (B) | liveness bound (B) | arena / bound | layout | search RAM estimate (B) | parameters (B) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
worst=0
for db in "$@"; do
  runs="$(sqlite3 -batch "$db" <<SQL
SELECT r.id || '|' || a.target || '|' || ((SELECT value FROM costs c WHERE c.run_id = r.id AND c.metric = 'ram') -
  (SELECT json_extract(value, '\$.ram_reserved_bytes') FROM json_each('$(sed "s/'/''/g" <<< "$targets")', '\$.targets')
   WHERE json_extract(value, '\$.name') = a.target)) || '|' ||
  trim(replace(replace(replace(replace(replace(replace(replace(substr(a.arch_yaml, instr(a.arch_yaml, 'blocks:')), 'blocks:', ''), '  - {name: ', ''),
    ', op: ', ' '), ', out: ', ' '), ', stride: 1}', ''), ', stride: 2}', '/2'), char(10), ', '), ', ')
FROM runs r JOIN architectures a ON a.run_id = r.id WHERE r.status = 'done' ORDER BY r.id;
SQL
)"
  while IFS='|' read -r run target estimate blocks; do
    [ -n "$run" ] || continue
    "$nas" export "$run" --db "$db" --out "$out/model" --json --threads 2 > "$out/export.json" 2> /dev/null
    arena="$(field arena_bytes)"
    bound="$(field liveness_lower_bound_bytes)"
    ratio="$(awk -v a="$arena" -v b="$bound" 'BEGIN { printf "%.3f", a / b }')"
    worst="$(awk -v r="$ratio" -v w="$worst" 'BEGIN { print (r > w ? r : w) }')"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s |\n' "$(basename "$db")" "$run" "$target" \
      "$blocks" "$arena" "$(field arena_bytes_out_of_place)" "$bound" "$ratio" "$(field layout)" "$estimate" \
      "$(field parameter_bytes)"
  done <<< "$runs"
done
echo
echo "Largest arena / liveness bound: $worst"
