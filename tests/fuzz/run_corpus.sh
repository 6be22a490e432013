#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed number of inputs, starting from its committed seed corpus, which it never
# writes to (new inputs go to a temporary folder). Exit status: libFuzzer's (non-zero on a finding, with the input
# saved in the working directory as crash-*, leak-* or timeout-*).
#   bash tests/fuzz/run_corpus.sh FUZZER CORPUS_DIR RUNS [more libFuzzer flags]
set -euo pipefail
fuzzer="$1" corpus="$2" runs="$3"
shift 3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$fuzzer" -seed=1 -runs="$runs" -max_len=32768 -rss_limit_mb=4096 "$@" "$work" "$corpus"
