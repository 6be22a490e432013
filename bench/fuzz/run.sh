#!/usr/bin/env bash
# Every libFuzzer target of tests/fuzz for RUNS inputs each (default 100,000), from its seed corpus; prints one line
# per target (inputs run, findings, corpus size reached, seconds) and exits non-zero if any target found something
# (the input is kept as crash-*/leak-*/timeout-* in the current folder). Needs the sanitizer build:
#   bash scripts/build.sh --sanitize
#   bash bench/fuzz/run.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-100000}"
build="$root/build-sanitize"
[ -d "$build/tests" ] || { echo "fuzz: no $build (run bash scripts/build.sh --sanitize first)" >&2; exit 2; }
status=0
printf '%-22s %10s %9s %8s %9s\n' target inputs findings corpus seconds
for source in "$root"/tests/fuzz/*_fuzz.cpp; do
  name="$(basename "$source" .cpp)"
  fuzzer="$build/tests/$name"
  [ -x "$fuzzer" ] || { echo "fuzz: $fuzzer not built" >&2; exit 2; }
  log="$(mktemp)"
  start=$SECONDS
  rc=0
  bash "$root/tests/fuzz/run_corpus.sh" "$fuzzer" "$root/tests/fuzz/corpus/$name" "$runs" > "$log" 2>&1 || rc=$?
  done_runs="$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo 0)"
  corpus="$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo -)"
  findings=0
  if [ "$rc" -ne 0 ]; then
    findings=1
    status=1
    grep -m3 -E 'ERROR|SUMMARY|uncaught|terminate' "$log" >&2 || tail -5 "$log" >&2
  fi
  printf '%-22s %10s %9s %8s %9s\n' "$name" "$done_runs" "$findings" "$corpus" "$((SECONDS - start))"
  rm -f "$log"
done
exit "$status"
