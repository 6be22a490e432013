#!/usr/bin/env bash
# Estimate against measurement: every finished search network in the given databases, profiled with
# `nas profile RUN --target T --images 1 --json` on the Cortex-M4 (nano33, QEMU mps2-an386) and the Cortex-M7
# (f746, mps2-an500). Prints, per core, how close the calibrated cost model's instruction estimate comes to the
# QEMU count for whole networks and for single layers, next to a MAC-proportional estimate (one instructions-per-MAC
# constant fitted by least squares on the relative error of the same networks, or layers), the way latency
# predictors report accuracy (share within ±10 %). Also checks RAM estimate = planned arena, and the flash
# estimate against the model's share of the image (the check firmware less the same firmware with a stub model).
# The databases are copied first: the profiles are stored in the copies. docs/latency-model.md keeps the latest
# output.
#   bash experiments/latency/table.sh DB...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$work/nets.tsv"
: > "$work/layers.tsv"
for db in "$@"; do
  copy="$work/$(basename "$db")"
  cp "$db" "$copy"
  for run in $(sqlite3 -batch "$copy" "SELECT r.id FROM runs r JOIN architectures a ON a.run_id = r.id
                                       WHERE r.status = 'done' ORDER BY r.id"); do
    for target in nano33 f746; do
      "$nas" profile "$run" --target "$target" --images 1 --json --db "$copy" > "$work/p.json" 2> "$work/p.err" ||
        { echo "profile of run $run in $db on $target failed: $(tail -1 "$work/p.err")" >&2; exit 1; }
      jq -r --arg core "$target" --arg db "$(basename "$db")" --arg run "$run" \
        '[$core, $db, $run, ([.layers[].macs] | add), .estimated_instructions_per_inference,
          .instructions_per_inference, .arena_bytes, .estimated_ram_bytes, .estimated_flash_bytes,
          .model_flash_bytes] | @tsv' "$work/p.json" >> "$work/nets.tsv"
      jq -r --arg core "$target" --arg db "$(basename "$db")" --arg run "$run" \
        '.layers[] | [$core, $db, $run, .name, .kernel_path, .macs, .estimated_instructions, .instructions] | @tsv' \
        "$work/p.json" >> "$work/layers.tsv"
    done
  done
done

summary() {  # file, MAC column, estimate column, measured column, what
  awk -F'\t' -v mc="$2" -v ec="$3" -v yc="$4" -v what="$5" '
    { core[NR] = $1; m[NR] = $mc; e[NR] = $ec; y[NR] = $yc; cores[$1] = 1
      a[$1] += m[NR] / y[NR]; b[$1] += (m[NR] / y[NR]) ^ 2 }
    END {
      for (c in cores) {
        k = a[c] / b[c]  # instructions per MAC minimising the squared relative error
        n = 0; ours = 0; macs = 0; worst = 0; worst_mac = 0
        for (i = 1; i <= NR; i++) if (core[i] == c) {
          n++; r = e[i] / y[i] - 1; q = k * m[i] / y[i] - 1
          if (r < 0) r = -r; if (q < 0) q = -q
          ours += (r <= 0.10); macs += (q <= 0.10)
          if (r > worst) worst = r; if (q > worst_mac) worst_mac = q
        }
        printf "| %s | %s | %d | %.0f %% | %.1f %% | %.0f %% (%.2f instr/MAC) | %.1f %% |\n", c, what, n,
               100 * ours / n, 100 * worst, 100 * macs / n, k, 100 * worst_mac
      }
    }' "$1" | sort
}
printf '%s\n' "| target (core) | unit | count | ours within ±10 % | ours worst | MAC-proportional within ±10 % \
| MAC-proportional worst |"
echo "|---|---|---|---|---|---|---|"
summary "$work/nets.tsv" 4 5 6 "network"
summary "$work/layers.tsv" 6 7 8 "layer"
echo
awk -F'\t' '{ n++; same += ($7 == $8); r = $9 / $10 - 1; a = r < 0 ? -r : r; flash += (a <= 0.02)
             if (a > worst) worst = a }
  END { printf "RAM estimate = planned arena on %d of %d profiles; flash estimate within ±2 %% of the model'"'"'s " \
               "measured share on %d of %d (worst %.2f %%)\n", same, n, flash, n, 100 * worst }' "$work/nets.tsv"
echo
echo "| target | database | run | MACs | estimated instructions | measured | error |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %d | %.0f | %.0f | %+.1f %% |\n", $1, $2, $3, $4, $5, $6,
                     100 * ($5 / $6 - 1) }' "$work/nets.tsv"
echo
echo "Worst layers:"
awk -F'\t' '{ r = $7 / $8 - 1; a = r < 0 ? -r : r
             printf "%.4f\t| %s | %s run %s | %s (%s) | %d MACs | %+.1f %% |\n", a, $1, $2, $3, $4, $5, $6, 100 * r }' \
  "$work/layers.tsv" | sort -rn | head -8 | cut -f2
