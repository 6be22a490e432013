#!/usr/bin/env bash
# Times one training epoch of the reference CNN on Fashion-MNIST with mcunas and with PyTorch, one after the
# other, and prints both results; the last line is ratio=<mcunas epoch seconds / torch epoch seconds>.
#   bash bench/train_vs_torch/run.sh [--build-dir build] [--threads 2]
# See bench/train_vs_torch/README.md for what is compared and why it is fair.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build_dir="build"
threads=2
data_dir="/usr/share/datasets/fashion-mnist"
batch=128
warmup_steps=20
seed=1
python=/usr/bin/python3   # Debian's interpreter, where python3-torch lives

fail() { echo "train_vs_torch: $*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --build-dir) [ $# -ge 2 ] || fail "--build-dir needs a value"; build_dir="$2"; shift 2 ;;
    --threads)   [ $# -ge 2 ] || fail "--threads needs a value"; threads="$2"; shift 2 ;;
    -h|--help)   sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$1' (usage: run.sh [--build-dir DIR] [--threads N])" ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || fail "--threads must be a positive integer, got '$threads'"

cd "$root"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac

bash "$root/scripts/setup_bench.sh" || fail "scripts/setup_bench.sh failed"
[ -x "$python" ] || fail "$python not found"
[ -d "$data_dir" ] || fail "no Fashion-MNIST at $data_dir (scripts/setup.sh installs dataset-fashion-mnist)"

mcunas_bin="$build_dir/bench/train_vs_torch_mcunas"
if [ ! -x "$mcunas_bin" ]; then
  if [ ! -d "$build_dir" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja >&2 || fail "cmake configure of $build_dir failed"
  fi
  cmake --build "$build_dir" --target train_vs_torch_mcunas >&2 || fail "building train_vs_torch_mcunas failed"
  [ -x "$mcunas_bin" ] || fail "built, but $mcunas_bin is missing"
fi

common=(--data-dir "$data_dir" --threads "$threads" --batch "$batch" --warmup-steps "$warmup_steps" --seed "$seed")

# Sequentially, never concurrently: each side gets the whole machine. Progress goes to stderr (shown), the one
# JSON line to stdout (kept: the last line of it).
echo "train_vs_torch: mcunas, $threads threads ..." >&2
mcunas_out="$("$mcunas_bin" "${common[@]}")" || fail "the mcunas side failed (exit $?)"
mcunas_json="$(printf '%s\n' "$mcunas_out" | tail -n 1)"

echo "train_vs_torch: torch, $threads threads ..." >&2
torch_out="$("$python" "$here/torch_epoch.py" "${common[@]}")" || fail "the torch side failed (exit $?)"
torch_json="$(printf '%s\n' "$torch_out" | tail -n 1)"

# Both JSON lines to the table and the ratio (json module of Debian's python; the ratio is the very last line).
read -r -d '' compare_py <<'PY' || true
import json, sys
try:
    rows = [json.loads(s) for s in sys.argv[1:3]]
except ValueError as e:
    sys.exit(f"train_vs_torch: a side did not print a JSON line: {e}")
for r, impl in zip(rows, ("mcunas", "torch")):
    keys = ("impl", "epoch_seconds", "images_per_second", "test_accuracy", "peak_rss_bytes")
    missing = [k for k in keys if k not in r]
    if missing or r["impl"] != impl:
        sys.exit(f"train_vs_torch: the {impl} JSON line is malformed (missing {missing}, impl {r.get('impl')})")
    if not r["epoch_seconds"] > 0:
        sys.exit(f"train_vs_torch: the {impl} epoch time is {r['epoch_seconds']}")
m, t = rows
print(f"threads={t['threads']} batch={t['batch']} warmup_steps={t['warmup_steps']}; torch {t.get('torch_version')}"
      f" (memory format {t.get('memory_format')}, mkldnn {t.get('mkldnn')}, malloc {t.get('malloc')})")
print(f"{'impl':<8} {'epoch s':>9} {'images/s':>10} {'test acc %':>11} {'peak RSS MiB':>13}")
for r in rows:
    print(f"{r['impl']:<8} {r['epoch_seconds']:>9.2f} {r['images_per_second']:>10.0f}"
          f" {100 * r['test_accuracy']:>11.2f} {r['peak_rss_bytes'] / 2**20:>13.1f}")
print(f"ratio={m['epoch_seconds'] / t['epoch_seconds']:.3f}")
PY
"$python" -c "$compare_py" "$mcunas_json" "$torch_json" || exit 1   # it printed its one-line reason
