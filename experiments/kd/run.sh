#!/usr/bin/env bash
# The distillation table of docs/distillation.md (issue 9), after Al Zein et al. (IC2SPM 2022): a ResNet-style
# teacher distilled into the student a search finds for the Nano 33 BLE, then post-training int8 quantisation.
#   1. the teacher: nas train --config experiments/kd/teacher.yaml (about 45 minutes on 2 cores);
#   2. per budget (nano33 defaults: --max-ram 256K --max-latency 50ms; tighter: --max-ram 128K --max-latency 20ms)
#      one search with experiments/kd/search.yaml. Its own fine-tuning (seed 1) is the student without distillation;
#   3. nas finetune SEARCH --seed 2 and 3: the same student without distillation, from the same inherited weights,
#      in other data orders; nas finetune SEARCH --teacher T --alpha A --temperature T --seed 1, 2, 3 for every
#      (α, T) pair of --pairs: the student with distillation, from the same weights, in the same data orders. The
#      tighter budget's student also gets the pairs of --more-pairs (default α 0.2 with T 4, and α 0.5 with T 8:
#      α and T varied one at a time);
#   4. every student and the teacher through nas eval --int8 (float and int8 test accuracy, cached beside the
#      database), the teacher also through nas profile on the nano33 (its cost, measured in QEMU);
#   5. the table, mean ± sample standard deviation over the three seeds, printed and written to
#      docs/distillation-table.md.
#
#   bash experiments/kd/run.sh [--db kd.db] [--pairs "0.5:4"] [--more-pairs "0.2:4 0.5:8"] [--table-only]
#
# Safe to run again: every finished run is found in the database and kept, so an interrupted run resumes where it
# stopped and new --pairs only add their fine-tunings. --table-only rebuilds the table from what is there.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="kd.db"
pairs="0.5:4"
more_pairs="0.2:4 0.5:8"
table_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --more-pairs) more_pairs="$2"; shift 2 ;;
    --table-only) table_only=1; shift ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE, --pairs \"ALPHA:T ...\", --more-pairs \"ALPHA:T ...\"," \
            "--table-only)" >&2
       exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"   # NAS=path runs another build (e.g. a copy kept while rebuilding)
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
for pair in $pairs $more_pairs; do
  [[ "$pair" =~ ^[0-9.]+:[0-9.]+$ ]] || { echo "run.sh: --pairs: '$pair' is not ALPHA:T (e.g. 0.5:4)" >&2; exit 2; }
done
teacher_config="$root/experiments/kd/teacher.yaml"
search_config="$root/experiments/kd/search.yaml"
# name|RAM budget|latency budget|(α, T) pairs
budgets=("nano33 defaults|256K|50ms|$pairs" "tighter|128K|20ms|$pairs $more_pairs")
seeds=(1 2 3)
evals="$db.eval.tsv"   # run uid, float accuracy, int8 accuracy: nas eval --int8 is deterministic, so it is kept

q() { sqlite3 -batch "$db" "$1"; }
uid_of() { q "SELECT uid FROM runs WHERE id = $1"; }

teacher_run() {
  [ -f "$db" ] || return 0
  q "SELECT id FROM runs WHERE kind = 'train' AND status = 'done' AND config_path LIKE '%/experiments/kd/teacher.yaml'
     ORDER BY id LIMIT 1"
}
search_run() {  # RAM budget, latency budget
  q "SELECT r.id FROM runs r JOIN costs l ON l.run_id = r.id AND l.metric = 'latency'
     JOIN costs m ON m.run_id = r.id AND m.metric = 'ram'
     WHERE r.kind = 'search' AND r.status = 'done' AND r.config_path LIKE '%/experiments/kd/search.yaml'
       AND l.budget_source = '--max-latency $2' AND m.budget_source = '--max-ram $1' ORDER BY r.id LIMIT 1"
}
plain_finetune() {  # search run, seed: its fine-tuning without a teacher
  q "SELECT r.id FROM runs r JOIN finetune_sources f ON f.run_id = r.id
     WHERE r.kind = 'finetune' AND r.status = 'done' AND f.search_uid = '$(uid_of "$1")' AND r.seed = $2
       AND r.id NOT IN (SELECT run_id FROM distillations) ORDER BY r.id LIMIT 1"
}
distilled_finetune() {  # search run, seed, teacher run, alpha, T
  q "SELECT r.id FROM runs r JOIN finetune_sources f ON f.run_id = r.id JOIN distillations d ON d.run_id = r.id
     WHERE r.kind = 'finetune' AND r.status = 'done' AND f.search_uid = '$(uid_of "$1")' AND r.seed = $2
       AND d.teacher_uid = '$(uid_of "$3")' AND d.alpha = $4 AND d.temperature = $5 ORDER BY r.id LIMIT 1"
}
student_without() {  # search run, seed: seed 1 is the search's own fine-tuning (the config's seed)
  if [ "$2" = 1 ]; then echo "$1"; else plain_finetune "$1" "$2"; fi
}

if [ "$table_only" = 0 ]; then
  if [ -z "$(teacher_run)" ]; then
    echo "== teacher" >&2
    "$nas" train --config "$teacher_config" --db "$db" --json < /dev/null
  fi
  teacher="$(teacher_run)"
  [ -n "$teacher" ] || { echo "run.sh: the teacher did not finish (see nas runs --db $db)" >&2; exit 1; }
  for budget in "${budgets[@]}"; do
    IFS='|' read -r name ram latency budget_pairs <<< "$budget"
    if [ -z "$(search_run "$ram" "$latency")" ]; then
      echo "== search, $name" >&2
      "$nas" search --target nano33 --max-ram "$ram" --max-latency "$latency" --config "$search_config" \
        --db "$db" --json < /dev/null
    fi
    search="$(search_run "$ram" "$latency")"
    [ -n "$search" ] || { echo "run.sh: the $name search did not finish" >&2; exit 1; }
    for seed in "${seeds[@]:1}"; do
      [ -n "$(plain_finetune "$search" "$seed")" ] && continue
      echo "== $name, without distillation, seed $seed" >&2
      "$nas" finetune "$search" --seed "$seed" --db "$db" --json < /dev/null
    done
    for pair in $budget_pairs; do
      alpha="${pair%%:*}" temperature="${pair##*:}"
      for seed in "${seeds[@]}"; do
        [ -n "$(distilled_finetune "$search" "$seed" "$teacher" "$alpha" "$temperature")" ] && continue
        echo "== $name, distilled (alpha $alpha, T $temperature), seed $seed" >&2
        "$nas" finetune "$search" --seed "$seed" --teacher "$teacher" --alpha "$alpha" --temperature "$temperature" \
          --db "$db" --json < /dev/null
      done
    done
  done
fi

# Float and int8 test accuracy of a run ("float int8"), evaluated once.
touch "$evals"
accuracies() {
  local uid line
  uid="$(uid_of "$1")"
  line="$(awk -v u="$uid" '$1 == u { print $2, $3 }' "$evals")"
  if [ -z "$line" ]; then
    line="$("$nas" eval "$1" --int8 --json --db "$db" 2> /dev/null < /dev/null |
            jq -r '"\(.float_accuracy) \(.int8_accuracy)"')"
    printf '%s %s\n' "$uid" "$line" >> "$evals"
  fi
  echo "$line"
}
# "mean ± std" in percent of the values on stdin (sample standard deviation), and how many there were.
summary() { awk '{ x[NR] = 100 * $1; s += x[NR] } END {
  if (NR == 0) { print "– | 0"; exit }
  m = s / NR; v = 0; for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2
  printf "%.2f ± %.2f | %d\n", m, (NR > 1 ? sqrt(v / (NR - 1)) : 0), NR }'; }
row() {  # label, alpha, T, runs...
  local label="$1" alpha="$2" temperature="$3" floats="" ints="" run acc
  shift 3
  for run in "$@"; do
    acc="$(accuracies "$run")"
    floats+="${acc% *}"$'\n'
    ints+="${acc#* }"$'\n'
  done
  local f i
  f="$(printf '%s' "$floats" | grep . | summary)"
  i="$(printf '%s' "$ints" | grep . | summary)"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$alpha" "$temperature" "${f% |*}" "${i% |*}" "$*"
}

teacher="$(teacher_run)"
[ -n "$teacher" ] || { echo "run.sh: no finished teacher in $db" >&2; exit 1; }
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
{
  echo "Generated by \`bash experiments/kd/run.sh --db $(basename "$db") --pairs \"$pairs\"" \
       "--more-pairs \"$more_pairs\"\` on $(date -u +%Y-%m-%d)."
  echo "Test accuracy on the 10,000 Fashion-MNIST test images, mean ± sample standard deviation over seeds 1–3"
  echo "(the data order of fine-tuning; every student of a budget starts from the same inherited weights)."
  echo
  echo "| student | α | T | float % | int8 % | runs |"
  echo "|---|---|---|---|---|---|"
  for budget in "${budgets[@]}"; do
    IFS='|' read -r name ram latency budget_pairs <<< "$budget"
    search="$(search_run "$ram" "$latency")"
    [ -n "$search" ] || continue
    costs="$(q "SELECT printf('%.1f KiB RAM, %.1f ms', r.value / 1024, l.value * 1000) FROM costs r
               JOIN costs l ON l.run_id = r.run_id AND l.metric = 'latency' WHERE r.run_id = $search
               AND r.metric = 'ram'")"
    label="$name (≤ $ram RAM, ≤ $latency; search $search: $costs)"
    runs=()
    for seed in "${seeds[@]}"; do
      run="$(student_without "$search" "$seed")"
      [ -n "$run" ] && runs+=("$run")
    done
    row "$label, without distillation" "–" "–" "${runs[@]}"
    for pair in $budget_pairs; do
      alpha="${pair%%:*}" temperature="${pair##*:}"
      runs=()
      for seed in "${seeds[@]}"; do
        run="$(distilled_finetune "$search" "$seed" "$teacher" "$alpha" "$temperature")"
        [ -n "$run" ] && runs+=("$run")
      done
      [ ${#runs[@]} -gt 0 ] && row "$label, distilled from run $teacher" "$alpha" "$temperature" "${runs[@]}"
    done
  done
  acc="$(accuracies "$teacher")"
  printf '| teacher (run %s, %s parameters) | – | – | %.2f | %.2f | %s |\n' "$teacher" \
    "$(q "SELECT count FROM weights WHERE run_id = $teacher AND name = 'theta_w'")" \
    "$(awk -v a="${acc% *}" 'BEGIN { print 100 * a }')" "$(awk -v a="${acc#* }" 'BEGIN { print 100 * a }')" "$teacher"
  echo
  # The teacher's cost on the board, measured: int8 in QEMU (instructions), the image's RAM and the model's flash;
  # profiled once (nas profile stores it) and read back from the database after that.
  measured() {
    q "SELECT instructions_per_inference, measured_latency_s * 1000, ram_bytes + stack_bytes, model_flash_bytes
       FROM deployments WHERE run_id = $teacher AND target = 'nano33' AND kind = 'qemu'
         AND measured_latency_s IS NOT NULL ORDER BY id DESC LIMIT 1"
  }
  if [ -z "$(measured)" ]; then
    "$nas" profile "$teacher" --target nano33 --images 2 --db "$db" > /dev/null 2>&1 < /dev/null ||
      echo "run.sh: nas profile $teacher --target nano33 failed; the teacher's cost is left out" >&2
  fi
  IFS='|' read -r instructions ms ram flash <<< "$(measured)"
  if [ -n "$instructions" ]; then
    over="within both"
    awk -v ms="$ms" 'BEGIN { exit !(ms > 20) }' && over="within 50 ms, over 20 ms"
    awk -v ms="$ms" 'BEGIN { exit !(ms > 50) }' && over="over both (50 ms and 20 ms)"
    printf 'Teacher on the nano33 (`nas profile %s --target nano33`, int8 in QEMU): %.0f instructions per' \
      "$teacher" "$instructions"
    printf ' inference,\n%.1f ms measured, RAM %s B (static and stack), model flash %s B. Against the latency budgets:' \
      "$ms" "$ram" "$flash"
    printf ' %s.\n' "$over"
  fi
} > "$table"
cat "$table"
cp "$table" "$root/docs/distillation-table.md"
echo "written to docs/distillation-table.md" >&2
