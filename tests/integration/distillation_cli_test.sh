#!/usr/bin/env bash
# Integration test of knowledge distillation through the real binary and a real SQLite file:
#   - nas train trains a small residual teacher; nas finetune of a short search, with --teacher, records the teacher,
#     α and T (nas show, nas show --json, the distillations table), and the fine-tuned run can be evaluated in int8;
#   - nas finetune without a teacher, on the search's own seed, repeats the search's fine-tuning: same accuracy;
#   - a --teacher that does not exist, one trained for other classes, --alpha out of range, --alpha without
#     --teacher and nas finetune of a plain training run each give one line on stderr and exit status 2, and leave
#     the database as it was.
#
#   bash tests/integration/distillation_cli_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d /tmp/mcunas-distillation.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$(dirname "$0")/small_search.sh"
cd "$work"

small_search "$nas" 3   # run 1: synthetic 8x8 data, 4 classes, seed 11
teacher_yaml() {  # classes
  cat <<YAML
name: teacher
data:
  format: synthetic
  synthetic: {count: 512, height: 8, width: 8, channels: 1, classes: $1, noise: 0.1, seed: 3}
model:
  layers:
    - {name: stem, type: conv2d, out: 8, kernel: 3, bias: false}
    - {type: batchnorm}
    - {name: stem_relu, type: relu}
    - {type: conv2d, out: 8, kernel: 3, bias: false}
    - {name: bn, type: batchnorm}
    - {name: join, type: add, inputs: [bn, stem_relu]}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: classes}
train: {epochs: 3, batch_size: 64, threads: 1}
YAML
}
teacher_yaml 4 > teacher.yaml
"$nas" train --config teacher.yaml --db runs.db > /dev/null 2> train.log ||
  fail "the teacher failed: $(tail -2 train.log)"
teacher_yaml 3 > three.yaml
"$nas" train --config three.yaml --db runs.db > /dev/null 2> train.log || fail "training failed: $(tail -2 train.log)"

"$nas" finetune 1 --teacher 2 --alpha 0.3 --temperature 6 --seed 4 --db runs.db --json > kd.json 2> kd.log ||
  fail "nas finetune --teacher failed: $(tail -2 kd.log)"
check "the distilled run" 4 "$(jq -r .run_id kd.json)"
check "its teacher in the JSON" 2 "$(jq -r .teacher.run kd.json)"
check "the distillations row" "2|0.3|6.0|finetune|cached" \
  "$(sqlite3 runs.db "SELECT t.id, d.alpha, d.temperature, d.phases, d.teacher_logits FROM distillations d
                      JOIN runs t ON t.uid = d.teacher_uid WHERE d.run_id = 4")"
"$nas" show 4 --db runs.db > show.txt
grep -q "distilled from: run 2 (alpha 0.3, T 6, in finetune, teacher logits cached)" show.txt ||
  fail "nas show does not name the teacher: $(grep -i distil show.txt)"
grep -q "fine-tuned from: run 1" show.txt || fail "nas show does not name the search"
check "nas show --json: the teacher" "2 0.3 6" \
  "$("$nas" show 4 --db runs.db --json |
     jq -r '.distillation | "\(.teacher_run) \(.alpha) \(.temperature)"')"
"$nas" eval 4 --int8 --json --db runs.db --threads 1 > eval.json 2> /dev/null || fail "nas eval of the distilled run"
awk -v v="$(jq -r .int8_accuracy eval.json)" 'BEGIN { exit !(v > 0.25) }' ||
  fail "the distilled student is at chance in int8: $(jq -r .int8_accuracy eval.json)"
echo "ok: the distilled run evaluates in int8 ($(jq -r .int8_accuracy eval.json))"

"$nas" finetune 1 --db runs.db --json > again.json 2> again.log || fail "nas finetune failed: $(tail -2 again.log)"
check "nas finetune repeats the search's fine-tuning" \
  "$(sqlite3 runs.db "SELECT test_accuracy FROM runs WHERE id = 1")" \
  "$(sqlite3 runs.db "SELECT test_accuracy FROM runs WHERE id = $(jq -r .run_id again.json)")"

before="$(dump)"
refused "unknown teacher (finetune)" "--teacher 99: run 99: no such run" finetune 1 --teacher 99 --db runs.db
refused "unknown teacher (search)" "--teacher 99: run 99: no such run" \
  search --target nano33 --max-latency 1ms --config search.yaml --teacher 99 --db runs.db
refused "unknown teacher (train)" "--teacher 42: run 42: no such run" \
  train --config teacher.yaml --teacher 42 --db runs.db
refused "teacher with other classes" "--teacher 3: run 3 has 3 output classes but the student's data has 4" \
  finetune 1 --teacher 3 --db runs.db
refused "teacher with other classes (search)" "run 3 has 3 output classes" \
  search --target nano33 --max-latency 1ms --config search.yaml --teacher 3 --db runs.db
refused "alpha out of range" "--alpha: must be in [0, 1]" finetune 1 --teacher 2 --alpha 1.5 --db runs.db
refused "alpha without a teacher" "--alpha: only applies with --teacher" finetune 1 --alpha 0.2 --db runs.db
refused "fine-tuning a training run" "run 2 is a run of kind train" finetune 2 --db runs.db
refused "a teacher in a database that does not exist" "no-such.db" finetune 1 --teacher 2 --db no-such.db
[ ! -e no-such.db ] || fail "a refused command created a database"
check "refused commands left the database as it was" "$before" "$(dump)"
echo "all distillation CLI checks passed"
