#!/usr/bin/env bash
# The README command against the channels-only restriction of the same space (docs/readme-command.md):
#   1. `nas search --target nano33 --max-ram 256K --max-latency 50ms`, the defaults (experiments/fmnist_search.yaml);
#   2. the same command and seed with every block of that space restricted to `ops: [conv3x3]` (channel pruning of
#      its own seed network, the baseline the operator choice must beat);
#   3. `nas profile` of both in QEMU (is each inside its latency budget when counted?);
#   4. the table written to docs/readme-command.md; the README command's output and a copy of the database without
#      its weights kept in docs/results/ (readme_command.txt, readme_command.db: the README's figures come from them,
#      experiments/front_page/run.sh).
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

commit="$(git -C "$root" describe --always --dirty 2> /dev/null || echo unknown)"
last_run() { sqlite3 "$db" "SELECT max(id) FROM runs"; }

budgets=(--target nano33 --max-ram 256K --max-latency 50ms)
echo "== the README command" >&2
# What a user sees (progress and summary, as on a log: one line per epoch), kept for the README's transcript.
"$nas" search "${budgets[@]}" --db "$db" < /dev/null > "$work/transcript.txt" 2>&1 ||
  { tail -5 "$work/transcript.txt" >&2; exit 1; }
search_run="$(last_run)"
echo "== channels only" >&2
"$nas" search "${budgets[@]}" --config "$work/channels_only.yaml" --db "$db" --json < /dev/null > /dev/null
channels_run="$(last_run)"
for run in "$search_run" "$channels_run"; do
  echo "== nas profile $run" >&2
  "$nas" profile "$run" --target nano33 --db "$db" > /dev/null
done
bash "$root/experiments/readme_command/table.sh" "$db" "$search_run" "$channels_run" > "$root/docs/readme-command.md"
mkdir -p "$root/docs/results"
cp "$work/transcript.txt" "$root/docs/results/readme_command.txt"
bash "$root/experiments/front_page/keep_results.sh" "$db" "$root/docs/results/readme_command.db" "$commit"
echo "wrote docs/readme-command.md, docs/results/readme_command.{txt,db} from $db" >&2
