#!/usr/bin/env bash
# Crash-and-resume test of `nas search --resume`, through the real binary and real SQLite files: a small search on
# synthetic data (1 thread, fixed seed) is killed with SIGKILL at random moments — inside training steps, inside
# the transactions that commit an epoch with its checkpoint, in any phase — and resumed each time until it ends.
# After every kill:
#   - PRAGMA integrity_check is ok;
#   - the run's checkpoint is its last committed epoch (so at most the epoch in flight is lost);
# and at the end:
#   - the weights, the architecture and the per-epoch losses are byte-identical to an uninterrupted run's;
#   - every epoch is recorded exactly once, the run is done and its checkpoint removed.
# Also refused with one line: resuming a run that is still running, a done run, and a run with no checkpoint. Last, a
# local sweep killed together with its job (kill -9 of the process group) is resumed with `nas sweep --resume`: its
# job continues from the checkpoint in its shard and the merged run is again identical to the uninterrupted one. And
# `nas train --resume` and `nas finetune --resume` after a kill end with the weights and epochs of uninterrupted
# runs.
#
#   bash tests/integration/resume_test.sh BUILD/nas [KILL_SEED]
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
kill_seed="${2:-$$}"  # the kill times' seed, printed so a failure can be replayed with the same kill times
RANDOM="$kill_seed"
work="$(mktemp -d /tmp/mcunas-resume.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$(dirname "$0")/small_search.sh"
cd "$work"
echo "kill times from seed $kill_seed (replay: bash $0 $1 $kill_seed)"

cat > search.yaml <<'YAML'
name: resume_test
data:
  format: synthetic
  synthetic: {count: 6000, height: 16, width: 16, channels: 1, classes: 4, noise: 0.8, seed: 3}
search_space:
  blocks:
    - {name: b1, out: 8, stride: 1, ops: [conv3x3, conv5x5]}
    - {name: b2, out: 16, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3]}
search:
  epochs: {warmup: 2, search: 3, finetune: 3}
  batch_size: 64
  seed: 11
  threads: 1
  shortlist: {candidates: 3, epochs: 1}
YAML
search_args=(search --target nano33 --max-latency 2ms --config search.yaml)
# Started in the background as "$nas" itself, not through a function: $! must be the nas process that gets killed.
search() { "$nas" "${search_args[@]}" "$@"; }
# What must come out the same: weights, architecture, and every epoch's figures but its wall time.
fingerprint() {
  sqlite3 "$1" "SELECT name, hex(data) FROM weights WHERE run_id = 1 ORDER BY name;
                SELECT arch_yaml FROM architectures WHERE run_id = 1;
                SELECT rank, arch_yaml, holdout_accuracy, holdout_loss, chosen FROM shortlist WHERE run_id = 1
                  ORDER BY rank;
                SELECT phase, epoch, learning_rate, train_loss, train_accuracy, test_loss, test_accuracy FROM epochs
                  WHERE run_id = 1 ORDER BY phase, epoch;" | sha256sum | cut -d' ' -f1
}

search --db reference.db > /dev/null 2> reference.log || fail "the uninterrupted search failed: $(tail -3 reference.log)"
expected="$(fingerprint reference.db)"
epochs="$(sqlite3 reference.db 'SELECT count(*) FROM epochs')"
check "the uninterrupted run's epochs" 8 "$epochs"
# The fix step probed more than one network (a kill can land in the shortlist's probes too).
[ "$(sqlite3 reference.db 'SELECT count(*) FROM shortlist')" -ge 2 ] || fail "the search probed no shortlist"

# --- killed and resumed until done --------------------------------------------------------------------------------
kills=0
first=1
while :; do
  if [ "$first" = 1 ]; then
    "$nas" "${search_args[@]}" --db killed.db > /dev/null 2> run.log &
    first=0
  else
    "$nas" search --resume 1 --db killed.db > /dev/null 2> run.log &
  fi
  pid=$!
  # 0.2 to 1.4 s: the whole search takes a few seconds, so the kills land in every phase.
  tenths=$((RANDOM % 13 + 2))
  delay="$((tenths / 10)).$((tenths % 10))"
  sleep "$delay"
  if ! kill -9 "$pid" 2> /dev/null; then
    wait "$pid" || fail "the search ended with an error: $(tail -3 run.log)"
    break
  fi
  wait "$pid" 2> /dev/null || true
  kills=$((kills + 1))
  check "integrity after kill $kills (at ${delay} s)" ok "$(sqlite3 killed.db 'PRAGMA integrity_check')"
  # Killed while exiting, after its last transaction: the run is done, there is nothing left to resume.
  [ "$(sqlite3 killed.db 'SELECT status FROM runs WHERE id = 1' 2> /dev/null)" = done ] && break
  rows="$(sqlite3 killed.db 'SELECT count(*) FROM epochs WHERE run_id = 1' 2> /dev/null || echo 0)"
  if [ "$rows" -gt 0 ]; then
    last="$(sqlite3 killed.db 'SELECT phase || " " || epoch FROM epochs WHERE run_id = 1 ORDER BY rowid DESC LIMIT 1')"
    saved="$(sqlite3 killed.db 'SELECT phase || " " || epoch FROM checkpoints WHERE run_id = 1')"
    # Between fixing and the first fine-tuning epoch the checkpoint is the fixed network's start ("finetune 0"),
    # which adds no epoch row: it follows the last search epoch.
    [ "$saved" = "finetune 0" ] && [ "$last" = "search 3" ] && saved="search 3 (then fixed: finetune 0)" &&
      last="search 3 (then fixed: finetune 0)"
    check "the checkpoint after kill $kills is the last committed epoch" "$last" "$saved"
  elif [ "$(sqlite3 killed.db 'SELECT count(*) FROM runs WHERE id = 1' 2> /dev/null || echo 0)" = 0 ]; then
    # Killed before the run was even recorded (a slow machine still loading the data): there is no run to resume.
    refused "resuming a run killed before it was recorded" "no run 1" search --resume 1 --db killed.db
    rm -f killed.db killed.db-wal killed.db-shm
    first=1
  else
    # Killed before its first epoch ended: nothing to resume; the run starts again from scratch.
    refused "resuming a run killed before its first epoch" "has no checkpoint" search --resume 1 --db killed.db
    rm -f killed.db killed.db-wal killed.db-shm
    first=1
  fi
done
echo "ok: $kills kills, then the run ended by itself"
[ "$kills" -ge 2 ] || fail "only $kills kills landed; the test did not test much (machine much faster than expected?)"
check "status after the last resume" done "$(sqlite3 killed.db 'SELECT status FROM runs WHERE id = 1')"
check "every epoch recorded once" "$epochs" "$(sqlite3 killed.db 'SELECT count(DISTINCT phase || epoch) FROM epochs')"
check "epoch rows" "$epochs" "$(sqlite3 killed.db 'SELECT count(*) FROM epochs')"
check "checkpoint removed when done" 0 "$(sqlite3 killed.db 'SELECT count(*) FROM checkpoints')"
check "weights, architecture and epochs identical to the uninterrupted run" "$expected" "$(fingerprint killed.db)"

# --- refusals -----------------------------------------------------------------------------------------------------
refused "resuming a done run" "is done; there is nothing to resume" search --resume 1 --db killed.db
refused "--resume with a budget" "drop --max-latency" search --resume 1 --max-latency 2ms --db reference.db
"$nas" "${search_args[@]}" --db live.db > /dev/null 2> live.log &
live=$!
for _ in $(seq 1 600); do  # until the first checkpoint is committed (at most a minute)
  [ "$(sqlite3 live.db 'SELECT count(*) FROM checkpoints' 2> /dev/null || echo 0)" -ge 1 ] && break
  sleep 0.1
done
refused "resuming a live run" "is still running" search --resume 1 --db live.db
kill -9 "$live"
wait "$live" 2> /dev/null || true
"$nas" search --resume 1 --keep-checkpoint --db live.db > /dev/null 2> live.log || fail "resume failed: $(tail -3 live.log)"
check "--keep-checkpoint keeps the last one" "finetune 3" \
  "$(sqlite3 live.db 'SELECT phase || " " || epoch FROM checkpoints WHERE run_id = 1')"
check "a run resumed with --keep-checkpoint" "$expected" "$(fingerprint live.db)"
# A checkpoint whose stored request is damaged: exit 1 (the input was fine, what is stored is not), the reason as
# stderr's last line.
cp live.db damaged.db
sqlite3 damaged.db "UPDATE runs SET status = 'interrupted' WHERE id = 1; \
  UPDATE checkpoints SET request = 'target: [' WHERE run_id = 1"
rc=0
"$nas" search --resume 1 --db damaged.db > /dev/null 2> damaged.err || rc=$?
check "a damaged checkpoint request: exit status" 1 "$rc"
tail -1 damaged.err | grep -qF "nas: the checkpoint of run 1: has a damaged request (" ||
  fail "a damaged checkpoint request: $(cat damaged.err)"
# --- a sweep killed with its job, resumed: the job continues from its shard's checkpoint ----------------------------
setsid "$nas" sweep --name killed --target nano33 --max-latency 2ms --config search.yaml --threads 1 --jobs 1 \
  --db sweep.db > /dev/null 2> sweep.log &
group=$!
shard=sweeps/killed/job-0.db
for _ in $(seq 1 600); do  # until the job's search has a checkpoint in the search phase (at most a minute)
  [ "$(sqlite3 "$shard" "SELECT count(*) FROM checkpoints WHERE phase = 'search'" 2> /dev/null || echo 0)" -ge 1 ] &&
    break
  sleep 0.1
done
# The sweep and its job (which runs in a process group of its own; its .started file names it), as a pre-emption or
# a lost node would end them.
job_pid="$(grep -o '"pid":[0-9]*' sweeps/killed/job-0.started | cut -d: -f2)"
kill -9 -- "-$group" "$job_pid"
wait "$group" 2> /dev/null || true
while kill -0 "$job_pid" 2> /dev/null; do sleep 0.1; done
"$nas" sweep --resume killed --db sweep.db --jobs 1 > /dev/null 2> resume.log ||
  fail "nas sweep --resume failed: $(tail -3 resume.log)"
grep -q "resuming run 1 of" sweeps/killed/job-0.log || fail "the job did not resume its run: $(tail -3 sweeps/killed/job-0.log)"
check "runs merged from the resumed job" 1 "$(sqlite3 sweep.db 'SELECT count(*) FROM runs')"
check "the resumed sweep job's run" "$expected" "$(fingerprint sweep.db)"
# --- nas finetune: killed after a few epochs, resumed --------------------------------------------------------------
sqlite3 reference.db ".backup finetune.db"
finetune_fingerprint() { sqlite3 "$1" "SELECT name, hex(data) FROM weights WHERE run_id = 2 ORDER BY name;
                                       SELECT epoch, train_loss, test_accuracy FROM epochs WHERE run_id = 2" | sha256sum; }
"$nas" finetune 1 --epochs 40 --db reference.db > /dev/null 2> finetune.log || fail "finetune: $(tail -3 finetune.log)"
"$nas" finetune 1 --epochs 40 --db finetune.db > /dev/null 2> finetune.log &
pid=$!
for _ in $(seq 1 600); do  # until a few epochs are in (at most a minute)
  [ "$(sqlite3 finetune.db 'SELECT max(epoch) FROM checkpoints WHERE run_id = 2' 2> /dev/null || echo 0)" -ge 3 ] \
    2> /dev/null && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2> /dev/null || true
"$nas" finetune --resume 2 --db finetune.db > /dev/null 2> finetune.log || fail "finetune resume: $(tail -3 finetune.log)"
grep -q "resumed in finetune.db after fine-tuning epoch" finetune.log || fail "nas finetune did not resume"
check "nas finetune resumed: weights and epochs identical" "$(finetune_fingerprint reference.db)" \
  "$(finetune_fingerprint finetune.db)"

# --- nas train: killed after a few epochs, resumed -----------------------------------------------------------------
cat > train.yaml <<'YAML'
name: resume_train
data:
  format: synthetic
  synthetic: {count: 6000, height: 16, width: 16, channels: 1, classes: 4, noise: 0.8, seed: 3}
model:
  layers:
    - {type: conv2d, out: 32, kernel: 3, stride: 1, padding: 1}
    - {type: batchnorm}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: 4}
train: {epochs: 30, batch_size: 64, seed: 5, threads: 1}
YAML
train_fingerprint() { sqlite3 "$1" "SELECT name, hex(data) FROM weights ORDER BY name;
                                    SELECT epoch, train_loss, test_accuracy FROM epochs ORDER BY epoch" | sha256sum; }
"$nas" train --config train.yaml --db train-reference.db > /dev/null 2> train.log || fail "train: $(tail -3 train.log)"
"$nas" train --config train.yaml --db train-killed.db > /dev/null 2> train.log &
pid=$!
for _ in $(seq 1 600); do  # until a few epochs are in (at most a minute)
  [ "$(sqlite3 train-killed.db 'SELECT max(epoch) FROM checkpoints' 2> /dev/null || echo 0)" -ge 3 ] 2> /dev/null &&
    break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2> /dev/null || true
refused "nas train --resume with --config" "drop --config" train --resume 1 --config train.yaml --db train-killed.db
"$nas" train --resume 1 --keep-checkpoint --db train-killed.db > /dev/null 2> train.log ||
  fail "train resume: $(tail -3 train.log)"
check "nas train --keep-checkpoint keeps the last one" "train 30" \
  "$(sqlite3 train-killed.db 'SELECT phase || " " || epoch FROM checkpoints')"
grep -q "resumed in train-killed.db after epoch" train.log || fail "nas train did not resume: $(head -3 train.log)"
check "nas train resumed: weights and epochs identical" "$(train_fingerprint train-reference.db)" \
  "$(train_fingerprint train-killed.db)"
check "nas train without --keep-checkpoint removes it" 0 "$(sqlite3 train-reference.db 'SELECT count(*) FROM checkpoints')"
echo "resume test passed"
