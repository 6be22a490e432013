#!/usr/bin/env bash
# Integration test of the results database under the conditions of real use, through the real binary and real
# SQLite files:
#   - stale runs: a search killed with SIGKILL is listed as `stale` by `nas runs` and `nas show` (it was `running`
#     while its process lived), and its record is otherwise untouched;
#   - concurrent writers: four `nas search` processes writing one database at once all finish, with every run and
#     epoch recorded and `PRAGMA integrity_check` ok;
#   - read-only access: a results file of mode 444 in a folder of mode 555, opened by a user other than its owner
#     (nobody, when the test runs as root), answers `nas runs`, `show`, `pareto` and `eval`; its bytes are unchanged
#     and no -wal or -shm file appears; recording a run there or into a file of mode 444, reading a file of mode
#     000, reading an older schema read-only, exports and a calibration into a read-only folder, and a data file of
#     mode 000 are refused with one line each, as are a missing file and a misspelt --target.
#
#   bash tests/integration/results_db_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-resultsdb.XXXXXX)"
shared=""
cleanup() {
  [ -z "$shared" ] || chmod -R u+w "$shared" 2> /dev/null || true
  rm -rf "$work" "$shared"
}
trap cleanup EXIT
# shellcheck source=tests/integration/small_search.sh
source "$(dirname "$0")/small_search.sh"
cd "$work"

status_of() {  # database, run id: the status `nas runs --json` reports
  "$nas" runs --json --db "$1" | grep -o "{[^{}]*\"id\":$2[,}][^{}]*}" | grep -o '"status":"[a-z]*"' | cut -d'"' -f4
}

# --- stale runs -------------------------------------------------------------------------------------------------
small_search_config long.yaml 100000  # fine-tuning long enough to be killed in
"$nas" search --target nano33 --max-latency 1.5ms --config long.yaml --db stale.db > /dev/null 2> long.log &
victim=$!
for _ in $(seq 1 600); do  # until the first epoch is committed (at most a minute)
  [ -f stale.db ] && [ "$(sqlite3 stale.db 'SELECT count(*) FROM epochs' 2> /dev/null || echo 0)" -ge 1 ] && break
  sleep 0.1
done
check "the live search is listed as running" running "$(status_of stale.db 1)"
kill -9 "$victim"
wait "$victim" 2> /dev/null || true
check "the killed search is listed as stale" stale "$(status_of stale.db 1)"
check "the database still says running (nothing rewrote it)" running \
  "$(sqlite3 stale.db 'SELECT status FROM runs WHERE id = 1')"
# Captured before grep: with pipefail, `nas ... | grep -q` fails whenever grep exits on the first match while nas is
# still writing (SIGPIPE), which made this check flaky.
stale_runs="$("$nas" runs --db stale.db)"
grep -q "stale" <<< "$stale_runs" || fail "nas runs does not show stale: $stale_runs"
stale_show="$("$nas" show 1 --db stale.db)"
grep -q "stale" <<< "$stale_show" || fail "nas show does not say stale: $stale_show"
check "integrity after SIGKILL" ok "$(sqlite3 stale.db 'PRAGMA integrity_check')"

# --- concurrent writers ----------------------------------------------------------------------------------------
small_search_config short.yaml 3
pids=()
for i in 1 2 3 4; do
  "$nas" search --target nano33 --max-latency 1.5ms --config short.yaml --seed "$i" --db shared.db \
    > "writer$i.out" 2> "writer$i.log" &
  pids+=($!)
done
for i in 1 2 3 4; do
  wait "${pids[$((i - 1))]}" || fail "writer $i failed: $(tail -2 "writer$i.log")"
done
check "four runs, all done" "done,done,done,done" "$(sqlite3 shared.db 'SELECT group_concat(status) FROM runs')"
check "every epoch of every run recorded (1 + 2 + 3 each)" 24 "$(sqlite3 shared.db 'SELECT count(*) FROM epochs')"
check "four fixed architectures" 4 "$(sqlite3 shared.db 'SELECT count(*) FROM architectures')"
check "integrity after concurrent writers" ok "$(sqlite3 shared.db 'PRAGMA integrity_check')"
! grep -l "locked" writer*.log || fail "a writer met 'database is locked'"

# --- read-only access ------------------------------------------------------------------------------------------
# Everything the other user needs lives in a folder of its own that it may read: the binary, the boards' YAML files
# (MCUNAS_TARGETS_DIR) and the results file. The test's own folder (mktemp, mode 700) is not readable by nobody.
shared="$(mktemp -d /tmp/mcunas-readonly.XXXXXX)"
chmod 755 "$shared"
cp "$nas" "$shared/nas"
cp -r "$source_dir/cost_models/targets" "$shared/targets"
mkdir "$shared/results"
sqlite3 shared.db 'PRAGMA wal_checkpoint(TRUNCATE)' > /dev/null
cp shared.db "$shared/results/mcunas.db"
chmod 444 "$shared/results/mcunas.db"
chmod 555 "$shared/results"
chmod -R a+rX "$shared/targets" "$shared/nas"
as_reader=()
if [ "$(id -u)" = 0 ]; then as_reader=(setpriv --reuid=65534 --regid=65534 --clear-groups --); fi
reader() { (cd "$shared" && MCUNAS_TARGETS_DIR="$shared/targets" "${as_reader[@]}" "$shared/nas" "$@"); }
db="$shared/results/mcunas.db"
before="$(sha256sum < "$db")"
reader runs --db "$db" > ro_runs.txt 2> ro.err || fail "nas runs on a read-only file: $(cat ro.err)"
check "runs lists the four runs" 4 "$(grep -c ' done ' ro_runs.txt)"
reader show 2 --db "$db" > ro_show.txt 2> ro.err || fail "nas show on a read-only file: $(cat ro.err)"
grep -q "done" ro_show.txt || fail "nas show does not show run 2: $(cat ro_show.txt)"
reader pareto --target nano33 --all --db "$db" > ro_pareto.txt 2> ro.err ||
  fail "nas pareto on a read-only file: $(cat ro.err)"
check "pareto lists every run" 4 "$(grep -c '^nano33 ' ro_pareto.txt || true)"
reader eval 3 --threads 1 --db "$db" > ro_eval.txt 2> ro.err || fail "nas eval on a read-only file: $(cat ro.err)"
grep -q "float .*%" ro_eval.txt || fail "nas eval printed no float accuracy: $(cat ro_eval.txt)"
check "the read-only file's bytes are unchanged" "$before" "$(sha256sum < "$db")"
check "no -wal or -shm file beside it" "" "$(ls "$shared/results" | grep -v '^mcunas.db$' || true)"

# What that user may not do, each refused with one line (exit 2) that says why, and nothing written: record a run in
# the read-only folder or into a file it cannot write, read a file it cannot read, or read an older schema it cannot
# upgrade in place.
cat > "$shared/train.yaml" <<'YAML'
name: tiny_train
data:
  format: synthetic
  synthetic: {count: 128, height: 8, width: 8, channels: 1, classes: 4, noise: 0.1, seed: 3}
model:
  layers: [{type: global_avg_pool}, {type: linear, out: 4}]
train: {epochs: 1, batch_size: 64, seed: 1, threads: 1}
YAML
mkdir "$shared/open"
chmod 777 "$shared/open"
cp "$db" "$shared/open/locked.db"
chmod 444 "$shared/open/locked.db"
cp "$db" "$shared/open/secret.db"
chmod 000 "$shared/open/secret.db"
cp "$db" "$shared/open/old.db"
chmod 644 "$shared/open/old.db"
sqlite3 "$shared/open/old.db" "UPDATE mcunas_meta SET value = '8' WHERE key = 'schema_version'"
cp "$shared/open/old.db" "$shared/results/old.db"
chmod 444 "$shared/results/old.db"
reader_refused() {  # description, expected text, nas arguments: exit 2 and one line that holds the text
  local what="$1" text="$2" rc=0
  shift 2
  reader "$@" > /dev/null 2> ro.err || rc=$?
  check "$what: exit status" 2 "$rc"
  check "$what: one line on stderr" 1 "$(wc -l < ro.err)"
  grep -qF -- "$text" ro.err || fail "$what: stderr does not say '$text': $(cat ro.err)"
}
reader_refused "a run recorded in the read-only folder" \
  "mcunas.db: cannot write the results database: directory $shared/results is not writable" \
  train --config train.yaml --db "$db"
reader_refused "a run recorded into a file of mode 444" \
  "locked.db: cannot write the results database: the file is not writable" \
  train --config train.yaml --db "$shared/open/locked.db"
reader_refused "a file of mode 000" "secret.db: cannot read the results database: the file is not readable" \
  runs --db "$shared/open/secret.db"
reader_refused "an older schema in a read-only folder" \
  "old.db: results database has schema version 8 and is read-only here; this mcunas reads version 10: open a writable copy once to upgrade it" \
  runs --db "$shared/results/old.db"
mkdir "$shared/out"
chmod 555 "$shared/out"
reader_refused "a C export into a read-only folder" \
  "$shared/out: cannot write into the output directory; pass --out a writable directory" \
  export 2 --out "$shared/out" --db "$db"
reader_refused "a calibration written into a read-only folder" \
  "$shared/out/nano33.calibration.yaml: cannot write the calibration there; pass --out a writable file" \
  calibrate --target nano33 --out "$shared/out/nano33.calibration.yaml"
check "nothing written into the read-only folder" "" "$(ls -A "$shared/out")"
touch "$shared/open/images.npy"
chmod 000 "$shared/open/images.npy"
cat > "$shared/unreadable_data.yaml" <<YAML
name: unreadable_data
data:
  format: npy
  train: {images: $shared/open/images.npy, labels: $shared/open/images.npy}
  test: {images: $shared/open/images.npy, labels: $shared/open/images.npy}
model:
  layers: [{type: global_avg_pool}, {type: linear, out: 4}]
train: {epochs: 1, batch_size: 64, seed: 1, threads: 1}
YAML
reader_refused "a data file of mode 000" "$shared/open/images.npy: cannot open for reading" \
  train --config unreadable_data.yaml --db "$shared/open/new.db"
check "the read-only file is still unchanged" "$before" "$(sha256sum < "$db")"
check "no run recorded into the file of mode 444" 4 "$(sqlite3 "$shared/open/locked.db" 'SELECT count(*) FROM runs')"

# --- refusals ---------------------------------------------------------------------------------------------------
refused "a missing results file" "no results database here" runs --db missing.db
[ ! -e missing.db ] || fail "nas runs created missing.db"
refused "a misspelt target" "was searched for 'nano99'" pareto --target nano99 --db shared.db
echo "results_db_test: all checks passed"
