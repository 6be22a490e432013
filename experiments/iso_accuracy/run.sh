#!/usr/bin/env bash
# The iso-accuracy comparison of docs/iso-accuracy.md, after Burrello et al. (seed network against the nets that
# searches under tighter budgets find from it, on Fashion-MNIST and the nano33 cost model):
#   1. the seed network of experiments/iso_accuracy/search.yaml, trained from scratch, three seeds;
#   2. sweep iso-latency: one search per latency budget; sweep iso-flash: one search per flash budget;
#   3. the fronts plotted (docs/figures/) and the table written (docs/iso-accuracy.md).
#
#   bash experiments/iso_accuracy/run.sh [--db iso_accuracy.db]
#
# Safe to run again: finished seed runs are kept and an interrupted sweep is resumed. About 60 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="iso_accuracy.db"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE)" >&2; exit 2 ;;
  esac
done
nas="${NAS:-$root/build/nas}"   # NAS=path runs another build (e.g. a copy kept while rebuilding)
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
config="$root/experiments/iso_accuracy/search.yaml"
# The seed gets as many epochs as a search spends in all: warm-up 1 + search 3 + fine-tune 10.
seed_epochs=14

done_seed_runs() {
  [ -f "$db" ] || { echo 0; return; }
  sqlite3 "$db" "SELECT count(*) FROM runs WHERE kind = 'seed' AND status = 'done' AND seed = $1"
}
for seed in 1 2 3; do
  [ "$(done_seed_runs "$seed")" -eq 0 ] || continue
  echo "== seed network, seed $seed" >&2
  "$nas" search --target nano33 --seed-network --config "$config" --finetune-epochs "$seed_epochs" --seed "$seed" \
    --db "$db" --json < /dev/null
done

sweep() {  # name, then the budget flags
  local name="$1"; shift
  if [ -f "$db" ] && [ -n "$(sqlite3 "$db" "SELECT name FROM sweeps WHERE name = '$name'")" ]; then
    "$nas" sweep --resume "$name" --db "$db" --jobs 1 < /dev/null
  else
    "$nas" sweep --name "$name" --target nano33 "$@" --config "$config" --jobs 1 --db "$db" < /dev/null
  fi
}
sweep iso-latency --max-latency 100ms,50ms,25ms,12ms
sweep iso-flash --max-flash 232K,212K,202K

mkdir -p "$root/docs/figures"
"$nas" pareto --db "$db" --x latency --all --plot "$root/docs/figures/iso_accuracy_latency.svg"
"$nas" pareto --db "$db" --x flash --all --plot "$root/docs/figures/iso_accuracy_flash.svg"
bash "$root/experiments/iso_accuracy/table.sh" "$db" > "$root/docs/iso-accuracy.md"
echo "wrote docs/iso-accuracy.md and docs/figures/iso_accuracy_{latency,flash}.svg from $db" >&2
