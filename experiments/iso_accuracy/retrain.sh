#!/usr/bin/env bash
# Trains the fixed networks of finished searches again from scratch with `nas train`, on all 60,000 Fashion-MNIST
# training images, with the iso-accuracy fine-tuning schedule (SGD 0.9 Nesterov, cosine lr 0.1, 0.3 warm-up epochs)
# for as many epochs as the seed network gets: their architectures compared at equal training, with nothing
# inherited from a supernet (docs/search.md, "Where the fine-tune starts").
#   bash experiments/iso_accuracy/retrain.sh DB RUN [RUN ...] [--epochs 14] [--out retrain.db]
# Prints one line per run: its search's test accuracy, the retrained one's, and the architecture.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
[ $# -ge 2 ] || { echo "retrain.sh: usage: retrain.sh DB RUN [RUN ...] [--epochs N] [--out FILE]" >&2; exit 2; }
db="$1"; shift
epochs=14 out=retrain.db runs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) runs+=("$1"); shift ;;
  esac
done
[ -f "$db" ] || { echo "retrain.sh: no database '$db'" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for run in "${runs[@]}"; do
  model="$(sqlite3 "$db" "SELECT model_yaml FROM architectures WHERE run_id = $run")"
  [ -n "$model" ] || { echo "retrain.sh: run $run of $db has no fixed architecture" >&2; exit 2; }
  {
    echo "name: retrain_run$run"
    echo "data: {dataset: fashion-mnist}"
    echo "model:"
    sed 's/^/  /' <<< "$model"
    echo "train:"
    echo "  epochs: $epochs"
    echo "  batch_size: 128"
    echo "  seed: 1"
    echo "  threads: 2"
    echo "  optimizer: {type: sgd, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}"
    echo "  schedule: {type: cosine, lr: 0.1, warmup_epochs: 0.3}"
  } > "$work/run$run.yaml"
  "$nas" train --config "$work/run$run.yaml" --db "$out" --json < /dev/null > "$work/run$run.json" 2> "$work/run$run.log"
  retrained="$(grep -o '"test_accuracy": *[0-9.]*' "$work/run$run.json" | head -1 | grep -o '[0-9.]*$')"
  searched="$(sqlite3 "$db" "SELECT test_accuracy FROM runs WHERE id = $run")"
  arch="$(sqlite3 "$db" "SELECT arch_yaml FROM architectures WHERE run_id = $run" | grep -o 'op: [a-z0-9_]*, out: [0-9]*' |
          sed 's/op: //; s/, out: / /' | paste -sd' ' | sed 's/ \([a-z]\)/ → \1/g')"
  awk -v r="$run" -v s="$searched" -v t="$retrained" -v a="$arch" \
    'BEGIN { printf "run %s: searched %.2f %%, retrained %.2f %%  %s\n", r, 100 * s, 100 * t, a }'
done
