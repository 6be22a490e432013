#!/usr/bin/env bash
# Float against int8 test accuracy of every finished run with a fixed architecture in the given databases, through
# `nas eval RUN --int8 --json` with its defaults (or the options given in NAS_EVAL_ARGS, e.g.
# "--calibration minmax --no-bias-correction"). Prints a Markdown table (docs/deploy.md keeps the latest).
#   bash experiments/int8/table.sh DB...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
number() { grep -E "^  \"$1\": " "$out" | head -1 | grep -o '[-0-9.e]*,\?$' | tr -d ,; }

echo "| database | run | float % | int8 % | int8 − float (pt) | agreement % |"
echo "|---|---|---|---|---|---|"
for db in "$@"; do
  for run in $(sqlite3 -batch "$db" "SELECT r.id FROM runs r JOIN architectures a ON a.run_id = r.id
                                     WHERE r.status = 'done' ORDER BY r.id"); do
    # shellcheck disable=SC2086
    "$nas" eval "$run" --int8 --json --db "$db" ${NAS_EVAL_ARGS:-} > "$out" 2> /dev/null
    awk -v db="$(basename "$db")" -v run="$run" -v f="$(number float_accuracy)" -v q="$(number int8_accuracy)" \
        -v a="$(number agreement)" \
        'BEGIN { printf "| %s | %s | %.2f | %.2f | %+.2f | %.2f |\n", db, run, 100 * f, 100 * q, 100 * (q - f), 100 * a }'
  done
done
