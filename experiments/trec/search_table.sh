#!/usr/bin/env bash
# docs/trec-search.md from the two searches of experiments/trec/search.sh: per found network its test accuracy in
# float and int8 (`nas eval --int8`, the whole test set), the latency the search estimated (its reuse layers priced
# at the rate model's estimate, cost_models/reuse_rate_model.h) against the latency counted in QEMU (`nas profile
# --target nano33`, 5 test images, bit-exact with the host), and per reuse layer the rate measured on the
# calibration images against the model's. Needs jq and sqlite3.
#   bash experiments/trec/search_table.sh DB BUDGET REUSE_RUN DENSE_RUN
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
db="$1" budget="$2" reuse="$3" dense="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for run in "$reuse" "$dense"; do
  "$nas" eval "$run" --int8 --json --db "$db" > "$work/eval_$run.json" 2> /dev/null
  "$nas" profile "$run" --target nano33 --images 5 --json --db "$db" > "$work/profile_$run.json" 2> /dev/null
done
estimate() { sqlite3 "$db" "SELECT value FROM costs WHERE run_id = $1 AND metric = 'latency'"; }
arch() { sqlite3 "$db" "SELECT arch_yaml FROM architectures WHERE run_id = $1" |
           sed -n 's/.*op: \([a-z0-9_]*\).*out: \([0-9]*\).*/\1 \2/p' | paste -sd, - | sed 's/,/ → /g'; }
wall() { sqlite3 "$db" "SELECT printf('%.0f', (julianday(finished_at) - julianday(started_at)) * 1440) FROM runs
                        WHERE id = $1"; }

cat <<HEAD
# TREC in the search

Written by \`bash experiments/trec/search.sh --budget $budget\` (this table: \`experiments/trec/search_table.sh\`,
runs $reuse and $dense of its database). The space (\`experiments/trec/search.yaml\`) is the CifarNet-like network
of docs/trec.md as a supernet: b1 conv 5×5 to 32 channels (28×28), b2 to 64 channels at stride 2 and b3 to 64
channels at stride 2, each choosing among eight widths; b2 and b3 choose between the dense convolution and reuse
convolutions (L = 32, H = 4 and L = 16, H = 6). The reference searches the same space with the dense convolutions
only. Both: \`nas search --target nano33 --max-latency $budget\`, the same schedule (2 warm-up, 2 search epochs, a
shortlist of 4 trained 1 epoch each, 4 fine-tune epochs) and seed. *Estimate* is what the search priced the found
network at (its reuse layers at the rate model's rate); *QEMU* is the int8 network's instructions counted on the
M4 stand-in (mps2-an386) × 1.1 cycles per instruction at 64 MHz.

| search | network | float % | int8 % | estimate ms | QEMU ms | estimate error | wall min |
|---|---|---|---|---|---|---|---|
HEAD
for run in "$reuse" "$dense"; do
  label="reuse and dense"; [ "$run" = "$dense" ] && label="dense only"
  jq -r --arg label "$label" --arg arch "$(arch "$run")" --argjson est "$(estimate "$run")" --arg wall "$(wall "$run")" \
        --slurpfile e "$work/eval_$run.json" '
    "| \($label) | \($arch) | \($e[0].float_accuracy * 10000 | round / 100) | \($e[0].int8_accuracy * 10000 | round / 100) | \($est * 1e5 | round / 100) | \(.measured_latency_s * 1e5 | round / 100) | \(($est / .measured_latency_s - 1) * 1000 | round / 10) % | \($wall) |"
  ' "$work/profile_$run.json"
done
cat <<MID

Reuse layers of the found network (run $reuse): the rate the search priced each at and the rate measured on the
calibration images, and the layer's estimate (at the measured rate) against its counted instructions.

| layer | L | H | pixels | model rate | measured rate | dense MACs | MACs done | estimate error |
|---|---|---|---|---|---|---|---|---|
MID
jq -r '.layers[] | select(.reuse_rate != null) |
  "| \(.name) | \(.sub_len) | \(.hash_bits) | \(.pixels) | \(.estimated_reuse_rate * 1000 | round / 1000) | \(.reuse_rate * 1000 | round / 1000) | \(.macs) | \(.reuse_macs | round) | \((.estimated_instructions / .instructions - 1) * 1000 | round / 10) % |"' \
  "$work/profile_$reuse.json"
