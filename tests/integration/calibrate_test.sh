#!/usr/bin/env bash
# nas calibrate with the real cross compiler and QEMU:
#   - for the Cortex-M4F (nano33), the Cortex-M7 (f746) and the Cortex-M0+ (rp2040, on QEMU's M3 board) the
#     coefficients it fits now are the ones committed beside the target YAMLs: calibration is reproducible (the
#     counts are deterministic), and a kernel change without a new calibration fails here;
#   - a board of the user's own, from a YAML file written here (docs/targets.md), is calibrated beside its file,
#     listed with its calibration, and searched for: the run ends inside its latency budget.
#
#   bash tests/integration/calibrate_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-calibrate.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
cd "$work"

coefficients() { sed -n '/^instructions:/,/^fit:/p' "$1"; }
for target in nano33 f746 rp2040; do
  "$nas" calibrate --target "$target" --out "$target.yaml" > "$target.txt" 2> "$target.err" ||
    fail "nas calibrate --target $target: $(tail -2 "$target.err")"
  committed="$root/cost_models/targets/$target.calibration.yaml"
  [ "$(coefficients "$target.yaml")" = "$(coefficients "$committed")" ] ||
    fail "$committed is stale: the kernels now count differently; rerun nas calibrate --target $target"
  echo "ok: $target calibrates to the committed coefficients ($(sed -n 1p "$target.txt" | cut -d: -f2 | cut -d';' -f1))"
done

# A board of one's own: the Nano 33's numbers under another name, in a folder of its own.
mkdir boards
sed -e 's/^name: nano33/name: myboard/' -e 's/^description: .*/description: my own Cortex-M4F board/' \
  "$root/cost_models/targets/nano33.yaml" > boards/myboard.yaml
"$nas" calibrate --target boards/myboard.yaml > myboard.txt 2> myboard.err ||
  fail "nas calibrate of a board of one's own: $(tail -2 myboard.err)"
[ -s boards/myboard.calibration.yaml ] || fail "no boards/myboard.calibration.yaml beside the board's YAML"
MCUNAS_TARGETS_DIR="$work/boards" "$nas" targets > targets.txt
grep -q "^myboard: my own Cortex-M4F board" targets.txt || fail "nas targets does not list myboard"
grep -q "nas calibrate on QEMU mps2-an386" targets.txt || fail "nas targets does not show myboard's calibration"
check "only the board is listed, not its calibration file" 1 "$(grep -c '^[a-z0-9]*:' targets.txt)"
small_search_for() {  # the small search of small_search.sh, for a target given as a path
  sed "s|search --target nano33|search --target $1|" "$root/tests/integration/small_search.sh" > my_search.sh
  # shellcheck source=/dev/null
  source my_search.sh
  small_search "$nas" 1
}
small_search_for boards/myboard.yaml
check "the run's target" "myboard" "$(sqlite3 runs.db 'SELECT target FROM architectures WHERE run_id = 1')"
check "the searched network's latency is within its budget" 1 \
  "$(sqlite3 runs.db "SELECT value <= budget FROM costs WHERE run_id = 1 AND metric = 'latency'")"
echo "all calibration checks passed"
