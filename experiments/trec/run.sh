#!/usr/bin/env bash
# TREC in mcunas (issue 20, docs/trec.md): the CifarNet-like network of cifarnet.yaml trained dense and with every
# convolution a reuse convolution (reuse_conv2d) at three (L, H) settings, each then checked in int8 on the host
# and counted in QEMU on the M4 (nano33) and M7 (f746) stand-ins; three more (L, H) settings are trained for the
# search's rate model (rate_fit.sh), which fits all six. Writes docs/trec.md (table.sh, then rate_fit.sh).
#
#   bash experiments/trec/run.sh [--db trec.db] [--table-only]
#
# Safe to run again: a variant with a finished run in the database is not trained again. --table-only counts and
# writes the table from the runs there (e.g. after a kernel change); docs/results/trec.db holds the runs of the
# table in docs/trec.md (--db docs/results/trec.db --table-only rewrites it without training). About 80
# minutes on 2 cores for the training.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="trec.db"
table_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --table-only) table_only=1; shift ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE, --table-only)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"   # NAS=path runs another build
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The variants: "dense", or "L H" for every convolution a reuse convolution with sub-vectors of L values and H hash
# bits.
variants=("dense" "8 8" "16 6" "32 4")
rate_only=("8 4" "8 6" "16 4")  # trained for the rate model only

config_of() {  # variant -> a config file (the dense one, or it with reuse convolutions)
  local name="trec_dense" file="$work/dense.yaml"
  if [ "$1" != dense ]; then
    read -r len bits <<< "$1"
    name="trec_L${len}_H${bits}"
    file="$work/$name.yaml"
    sed -e "s/^name: trec_dense/name: $name/" \
        -e "s/{type: conv2d, \(name: conv[0-9]*\), /{type: reuse_conv2d, \1, sub_len: $len, hash_bits: $bits, /" \
        "$root/experiments/trec/cifarnet.yaml" > "$file"
  else
    cp "$root/experiments/trec/cifarnet.yaml" "$file"
  fi
  echo "$file"
}

run_of() {  # config name -> the id of its finished run, or nothing
  [ -f "$db" ] || return 0
  sqlite3 "$db" "SELECT id FROM runs WHERE kind = 'train' AND status = 'done' AND config_yaml LIKE '%name: $1
%' ORDER BY id DESC LIMIT 1"
}

trained() {  # variant -> trains it unless the database has it; prints its run id
  local file name
  file="$(config_of "$1")"
  name="$(sed -n 's/^name: //p' "$file")"
  if [ -z "$(run_of "$name")" ]; then
    [ "$table_only" -eq 0 ] || { echo "run.sh: no finished run of $name in $db" >&2; exit 1; }
    echo "== training $name" >&2
    "$nas" train --config "$file" --db "$db" < /dev/null >&2
  fi
  run_of "$name"
}

runs=()
for v in "${variants[@]}"; do runs+=("$(trained "$v")"); done
for v in "${rate_only[@]}"; do trained "$v" > /dev/null; done
{
  bash "$root/experiments/trec/table.sh" "$db" "${runs[@]}"
  cat <<'RATE'

## The search's rate model

What cost_models/reuse_rate_model.h prices a reuse candidate at before a network exists: ln(rate·N) = a + b·H·ln 2 +
c·ln L + d·ln N, fitted by least squares over every reuse layer of the six reuse runs (the three above and L=8 H=4,
L=8 H=6, L=16 H=4), with N the layer's output pixels (`experiments/trec/rate_fit.sh`). The search with it:
docs/trec-search.md.

RATE
  bash "$root/experiments/trec/rate_fit.sh" "$db"
} > "$work/trec.md"
cp "$work/trec.md" "$root/docs/trec.md"
echo "wrote docs/trec.md" >&2
