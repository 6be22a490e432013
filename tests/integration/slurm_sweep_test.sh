#!/usr/bin/env bash
# Integration test of `nas sweep` on a real one-node Slurm cluster (scripts/slurm_cluster.sh) and on this machine:
#   - a 6-job sweep (2 latency budgets that can be met and one that cannot, 2 seeds each) on synthetic data goes
#     through sbatch as one job array; --wait follows it and merges the shards as jobs end;
#   - every done job's candidate is in the main database exactly once, the 2 impossible jobs are reported failed
#     with their error by --status and left nothing in the main database;
#   - merging again (nas merge --sweep, and nas merge of a shard by hand) adds nothing;
#   - the same sweep run by the local executor gives the same candidates (architecture and accuracy) per job;
#   - a job killed with SIGKILL midway (on Slurm and locally) is reported failed with the signal, the other job of
#     its sweep is done and merged, and the killed one left nothing in the main database;
#   - a local sweep stopped with SIGTERM records its running jobs as interrupted, and --resume finishes them from
#     their checkpoints;
#   - a Slurm task requeued while it runs (pre-emption) starts again by itself and resumes its search.
#
#   bash tests/integration/slurm_sweep_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Short: Unix socket paths under the cluster's directory are limited to 107 bytes.
work="$(mktemp -d /tmp/mcunas-slurm.XXXXXX)"
cluster="$work/c"
cleanup() {
  bash "$root/scripts/slurm_cluster.sh" stop "$cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"  # fail, check

cat > "$work/search.yaml" <<'YAML'
name: sweep_integration
data:
  format: synthetic
  synthetic: {count: 512, height: 8, width: 8, channels: 1, classes: 4, noise: 0.3, seed: 3}
search_space:
  blocks:
    - {name: b1, out: 8, stride: 1, ops: [conv3x3, dwsep3x3]}
    - {name: b2, out: 16, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3]}
search:
  epochs: {warmup: 1, search: 2, finetune: 8}
  batch_size: 64
  seed: 11
  threads: 1
  weights:
    optimizer: {type: sgd, momentum: 0.9}
    schedule: {type: cosine, lr: 0.1}
  finetune:
    schedule: {type: cosine, lr: 0.05}
  arch: {lr: 0.05}
  penalty: {ramp_steps: 4, growth: 0.05}
YAML
grid=(--target nano33 --max-latency 1ms,2ms,1us --seeds 2 --config "$work/search.yaml" --threads 1)

bash "$root/scripts/slurm_cluster.sh" start "$cluster"
# shellcheck disable=SC1091
source "$cluster/env"

cd "$work"
rc=0
"$nas" sweep "${grid[@]}" --executor slurm --name on-slurm --jobs 0 --db slurm.db --wait || rc=$?
check "nas sweep --wait exit status (2 jobs failed)" 1 "$rc"
q() { sqlite3 "$1" "$2"; }
check "sweep recorded with its Slurm job" 1 "$(q slurm.db "SELECT count(*) FROM sweeps WHERE name = 'on-slurm' AND slurm_job_id GLOB '[0-9]*'")"
check "done jobs merged" 4 "$(q slurm.db "SELECT count(*) FROM runs WHERE sweep = 'on-slurm' AND status = 'done'")"
check "each done job exactly once" "0:1 1:1 2:1 3:1" \
  "$(q slurm.db "SELECT group_concat(sweep_job || ':' || n, ' ') FROM (SELECT sweep_job, count(*) n FROM runs GROUP BY sweep_job ORDER BY sweep_job)")"
check "every merged run has its architecture and costs" 4 \
  "$(q slurm.db "SELECT count(DISTINCT a.run_id) FROM architectures a JOIN costs c ON c.run_id = a.run_id")"
check "nothing of the failed jobs in the main database" 0 "$(q slurm.db "SELECT count(*) FROM runs WHERE status != 'done'")"

status="$("$nas" sweep --status on-slurm --db slurm.db)"
echo "$status"
check "--status counts" 1 "$(grep -c '4 done, 2 failed; 4 merged' <<< "$status")"
check "--status names the failed jobs' error" 2 "$(grep -c 'failed .*--max-latency 1us: cannot be met on nano33' <<< "$status")"
json="$("$nas" sweep --status on-slurm --db slurm.db --json)"
check "--status --json failed jobs" 2 "$(grep -o '"state":"failed"' <<< "$json" | wc -l)"

"$nas" merge --sweep on-slurm --db slurm.db
"$nas" merge --db slurm.db "$work/sweeps/on-slurm/job-0.db" | tee merge.out
check "nas merge of a merged shard adds nothing" 1 "$(grep -c '0 runs added, 1 already merged' merge.out)"
check "runs after merging again" 4 "$(q slurm.db "SELECT count(*) FROM runs")"
check "epochs not duplicated" "$(q sweeps/on-slurm/job-0.db "SELECT count(*) FROM epochs")" \
  "$(q slurm.db "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep_job = 0")"

# The same grid on this machine: the same candidates, job for job.
rc=0
"$nas" sweep "${grid[@]}" --executor local --name here --jobs 2 --db local.db || rc=$?
check "local sweep exit status" 1 "$rc"
candidates() {
  q "$1" "SELECT group_concat(line, '|') FROM (SELECT r.sweep_job || ' ' || round(r.test_accuracy, 6) || ' ' ||
          replace(a.arch_yaml, char(10), ' ') AS line FROM runs r JOIN architectures a ON a.run_id = r.id
          ORDER BY r.sweep_job)"
}
slurm_candidates="$(candidates slurm.db)"
[ -n "$slurm_candidates" ] || fail "no candidates from Slurm"
check "local executor gives the Slurm candidates" "$slurm_candidates" "$(candidates local.db)"

# Crashes: two long jobs; job 0 is killed with SIGKILL as soon as it has started.
crash() {  # executor, database
  local executor="$1" db="$2" name="crash-$1" pid="" i rc=0
  "$nas" sweep --target nano33 --max-latency 1ms --seeds 2 --config "$work/search.yaml" --threads 1 \
    --finetune-epochs 400 --executor "$executor" --name "$name" --jobs 2 --wait --db "$db" > /dev/null 2>&1 &
  local sweep_pid=$!
  for ((i = 0; i < 600; i++)); do
    pid="$(grep -o '"pid": *[0-9]*' "sweeps/$name/job-0.started" 2>/dev/null | grep -o '[0-9]*$' || true)"
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "$executor: job 0 never started"
  kill -KILL "$pid"
  wait "$sweep_pid" || rc=$?
  check "$executor: sweep with a killed job exits 1" 1 "$rc"
  local status
  status="$("$nas" sweep --status "$name" --db "$db")"
  echo "$status"
  check "$executor: killed job reported" 1 "$(grep -Ec '^ +0 .*failed .*(signal 9|status 137)' <<< "$status")"
  check "$executor: other job done and merged" 1 "$(grep -c '1 done, 1 failed; 1 merged' <<< "$status")"
  check "$executor: nothing of the killed job in the main database" "1" \
    "$(q "$db" "SELECT group_concat(sweep_job) FROM runs WHERE sweep = '$name'")"
}
crash slurm slurm.db
crash local local.db

# Interrupted and resumed: SIGTERM to the local sweep while both its jobs run.
"$nas" sweep --target nano33 --max-latency 1ms --seeds 2 --config "$work/search.yaml" --threads 1 \
  --finetune-epochs 400 --name stopped --jobs 2 --db local.db > /dev/null 2>&1 &
sweep_pid=$!
for ((i = 0; i < 600; i++)); do
  [ -e sweeps/stopped/job-0.started ] && [ -e sweeps/stopped/job-1.started ] && break
  sleep 0.1
done
kill -TERM "$sweep_pid"
rc=0
wait "$sweep_pid" || rc=$?
check "stopped sweep exits 130" 130 "$rc"
check "running jobs recorded as interrupted" 2 \
  "$("$nas" sweep --status stopped --db local.db | grep -c ' interrupted ')"
check "nothing merged from interrupted jobs" 0 "$(q local.db "SELECT count(*) FROM runs WHERE sweep = 'stopped'")"
"$nas" sweep --resume stopped --db local.db --jobs 2 2> resume.err || fail "resume failed: $(tail -3 resume.err)"
check "resumed sweep merged every job once" "0,1" \
  "$(q local.db "SELECT group_concat(sweep_job) FROM (SELECT sweep_job FROM runs WHERE sweep = 'stopped' ORDER BY 1)")"

# Pre-empted on Slurm: the running task is requeued (scontrol requeue: killed, then pending again); it starts again by
# itself and its job resumes the search from the checkpoint in its shard instead of starting over. 400 fine-tuning
# epochs of a few hundredths of a second each: with 60 the job sometimes finished before the requeue reached it on a
# loaded machine.
"$nas" sweep --target nano33 --max-latency 1ms --config "$work/search.yaml" --threads 1 --finetune-epochs 400 \
  --executor slurm --name requeued --jobs 1 --wait --db slurm.db > /dev/null 2> requeue.err &
sweep_pid=$!
for ((i = 0; i < 600; i++)); do  # until its search has a checkpoint in fine-tuning
  [ "$(q sweeps/requeued/job-0.db "SELECT count(*) FROM checkpoints WHERE phase = 'finetune'" 2> /dev/null || echo 0)" \
    -ge 1 ] && break
  sleep 0.1
done
task="$(squeue --noheader --name nas-requeued --format %i | head -1)"
[ -n "$task" ] || fail "the requeue sweep's task is not in squeue"
scontrol requeue "$task"
# (Slurm holds a requeued task back for about two minutes before it starts it again: this part takes that long.)
rc=0
wait "$sweep_pid" || rc=$?
[ "$rc" = 0 ] || fail "the requeued sweep exited $rc: $(tail -5 requeue.err) | job log: $(tail -5 sweeps/requeued/job-0.log)"
grep -q "resuming run 1 of" sweeps/requeued/job-0.log ||
  fail "the requeued job did not resume its run: $(tail -3 sweeps/requeued/job-0.log)"
check "the requeued job's run merged once, done" "1 done" \
  "$(q slurm.db "SELECT count(*) || ' ' || max(status) FROM runs WHERE sweep = 'requeued'")"

"$nas" pareto --db slurm.db --all --plot front.svg
check "front plot written" 1 "$(grep -c '</svg>' front.svg)"
"$nas" pareto --db slurm.db --all --plot front.png > /dev/null
check "PNG front written (rsvg-convert, installed by scripts/setup.sh)" "PNG" "$(head -c 4 front.png | tail -c 3)"
echo "PASS: slurm sweep integration"
