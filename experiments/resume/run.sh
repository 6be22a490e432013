#!/usr/bin/env bash
# A README-sized search killed with SIGKILL in its search phase and resumed, against the same search uninterrupted
# (docs/search.md, "Resume"): the README command's search (Fashion-MNIST, nano33, --max-ram 256K --max-latency
# 50ms, experiments/fmnist_search.yaml) with 1 thread and 2 fine-tuning epochs (the architecture is fixed before
# fine-tuning; two epochs also compare the fine-tuned weights). Both run at once; the second is killed 40 s into
# its second search epoch and resumed with `nas search --resume 1`. Prints whether the fixed architecture, the
# final weights and every epoch's losses and accuracies are identical.
#
#   bash experiments/resume/run.sh [WORK_DIR]      # about 25 minutes on 2 cores
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
work="${1:-$(mktemp -d /tmp/mcunas-readme-resume.XXXXXX)}"
mkdir -p "$work" && cd "$work"
rm -f ref.db* killed.db*
args=(search --target nano33 --max-ram 256K --max-latency 50ms --config "$root/experiments/fmnist_search.yaml"
      --threads 1 --finetune-epochs 2)
"$nas" "${args[@]}" --db ref.db > /dev/null 2> ref.log &
reference=$!
"$nas" "${args[@]}" --db killed.db > /dev/null 2> killed.log &
victim=$!
until [ "$(sqlite3 killed.db "SELECT count(*) FROM checkpoints WHERE phase = 'search'" 2> /dev/null || echo 0)" -ge 1 ]
do sleep 5; done
sleep 40
echo "killed after: $(sqlite3 killed.db "SELECT phase || ' epoch ' || epoch FROM checkpoints")"
kill -9 "$victim"
wait "$victim" 2> /dev/null || true
"$nas" search --resume 1 --db killed.db > /dev/null 2> resumed.log
wait "$reference"
same() {  # what, SQL
  [ "$(sqlite3 ref.db "$2" | sha256sum)" = "$(sqlite3 killed.db "$2" | sha256sum)" ] && echo "$1: identical" ||
    echo "$1: DIFFERENT"
}
same "fixed architecture" "SELECT arch_yaml FROM architectures"
same "final weights" "SELECT name, hex(data) FROM weights ORDER BY name"
same "epochs (phase, epoch, loss, accuracy)" \
  "SELECT phase, epoch, train_loss, train_accuracy, test_accuracy FROM epochs ORDER BY phase, epoch"
echo "architecture: $(sqlite3 ref.db "SELECT replace(arch_yaml, char(10), ' ') FROM architectures")"
echo "test accuracy: $(sqlite3 ref.db 'SELECT test_accuracy FROM runs') (both)"
