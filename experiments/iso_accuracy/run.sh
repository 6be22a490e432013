#!/usr/bin/env bash
# The iso-accuracy comparison of docs/iso-accuracy.md, after Burrello et al. (seed network against the nets that
# searches under tighter budgets find from it, on Fashion-MNIST and the nano33 cost model):
#   1. the seed network of experiments/iso_accuracy/search.yaml, trained from scratch, three seeds;
#   2. sweep iso-latency: the full search (operators and channels, search.yaml), one search per latency budget and
#      seed (1 and 2);
#   3. sweeps iso-prune-latency and iso-prune-flash: the channel-only search from the same seed (prune.yaml), as in
#      Burrello et al., one search per latency budget and seed (1 and 2, as the operator search, so the two are
#      compared mean to mean) and one per flash budget;
#   4. the fronts plotted (docs/figures/) and the table written (docs/iso-accuracy.md); a copy of the database
#      without its weights kept as docs/results/iso_accuracy.db (the README's front, experiments/front_page/run.sh).
#
#   bash experiments/iso_accuracy/run.sh [--db iso_accuracy.db]
#
# Safe to run again: finished seed runs are kept and an interrupted sweep is resumed. About 100 minutes on 2 cores
# while builds and the CI proof shared them (this commit: seed runs 11, iso-latency 54, iso-prune-latency 28,
# iso-prune-flash 7, from the runs' start and end times).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db="iso_accuracy.db"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (known: --db FILE)" >&2; exit 2 ;;
  esac
done
commit="$(git -C "$root" describe --always --dirty 2> /dev/null || echo unknown)"
nas="${NAS:-$root/build/nas}"   # NAS=path runs another build (e.g. a copy kept while rebuilding)
[ -x "$nas" ] || { echo "run.sh: $nas not built (run bash scripts/build.sh first)" >&2; exit 2; }
config="$root/experiments/iso_accuracy/search.yaml"
prune="$root/experiments/iso_accuracy/prune.yaml"
# Every network of the table trains 14 epochs from fresh weights: the seed here, the searches' fixed networks by
# their configs (search.finetune.start: scratch, 14 fine-tuning epochs).
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

sweep() {  # name, config, then the budget flags; exit status 1 (a job missed or failed) is reported, not fatal
  local name="$1" sweep_config="$2"; shift 2
  if [ -f "$db" ] && [ -n "$(sqlite3 "$db" "SELECT name FROM sweeps WHERE name = '$name'")" ]; then
    "$nas" sweep --resume "$name" --db "$db" --jobs 1 < /dev/null || [ $? -eq 1 ]
  else
    "$nas" sweep --name "$name" --target nano33 "$@" --config "$sweep_config" --jobs 1 --db "$db" < /dev/null \
      || [ $? -eq 1 ]
  fi
}
sweep iso-latency "$config" --max-latency 100ms,60ms,25ms,12ms --seeds 2
sweep iso-prune-latency "$prune" --max-latency 100ms,60ms,25ms --seeds 2
sweep iso-prune-flash "$prune" --max-flash 247K,227K,212K

mkdir -p "$root/docs/figures"
for x in latency flash; do
  "$nas" pareto --db "$db" --target nano33 --x "$x" --all --by sweep --plot "$root/docs/figures/iso_accuracy_$x.svg"
done
# The operators + channels sweep alone (4 latency budgets x 2 seeds) against MACs, the cost other tools budget.
"$nas" pareto --db "$db" --target nano33 --sweep iso-latency --x macs --all \
  --plot "$root/docs/figures/iso_latency_macs.svg" > /dev/null
bash "$root/experiments/iso_accuracy/table.sh" "$db" > "$root/docs/iso-accuracy.md"
mkdir -p "$root/docs/results"
bash "$root/experiments/front_page/keep_results.sh" "$db" "$root/docs/results/iso_accuracy.db" "$commit"
echo "wrote docs/iso-accuracy.md, docs/figures/iso_accuracy_{latency,flash}.svg, iso_latency_macs.svg and" \
  "docs/results/iso_accuracy.db from $db" >&2
