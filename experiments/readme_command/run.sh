#!/usr/bin/env bash
# The README command against the channels-only restriction of the same space (docs/readme-command.md):
#   1. `nas search --target nano33 --max-ram 256K --max-latency 50ms`, the defaults (experiments/fmnist_search.yaml);
#   2. the same command and seed with every block of that space restricted to `ops: [conv3x3]` (channel pruning of
#      its own seed network, the baseline the operator choice must beat);
#   3. `nas profile` of both in QEMU (is each inside its latency budget when counted?);
#   4. the table written to docs/readme-command.md.
#
#   bash experiments/readme_command/run.sh [--db readme_command.db]
#
# About 25 minutes on 2 cores. Each search's wall time is in the table: run it alone for the README's timing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="readme_command.db"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
db="$(cd "$(dirname "$db")" && pwd)/$(basename "$db")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The channels-only space: every `ops: [...]` list of the reference config becomes [conv3x3].
sed -E 's/ops: \[[^]]*\]/ops: [conv3x3]/; s/^name: .*/name: fmnist_channels_only/' \
  "$root/experiments/fmnist_search.yaml" > "$work/channels_only.yaml"

budgets=(--target nano33 --max-ram 256K --max-latency 50ms)
echo "== the README command" >&2
"$nas" search "${budgets[@]}" --db "$db" --json < /dev/null > "$work/search.json"
echo "== channels only" >&2
"$nas" search "${budgets[@]}" --config "$work/channels_only.yaml" --db "$db" --json < /dev/null > "$work/channels.json"
for f in search channels; do
  run="$(jq -r .run_id "$work/$f.json")"
  echo "== nas profile $run" >&2
  "$nas" profile "$run" --target nano33 --db "$db" > /dev/null
done
bash "$root/experiments/readme_command/table.sh" "$db" "$(jq -r .run_id "$work/search.json")" \
  "$(jq -r .run_id "$work/channels.json")" > "$root/docs/readme-command.md"
echo "wrote docs/readme-command.md from $db" >&2
