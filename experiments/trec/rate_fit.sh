#!/usr/bin/env bash
# The search's reuse-rate model (cost_models/reuse_rate_model.h) fitted on measured rates: every reuse layer of the
# finished trec_L*_H* runs in DB (experiments/trec/run.sh trains them: the CifarNet-like net with every convolution
# a reuse convolution, on a grid of L and H) gives its clusters per sub-vector on the calibration images (`nas
# profile --json`), its L, H and output pixels N. Fitted by least squares in logs:
#   ln(rate·N) = a + b·H·ln 2 + c·ln L + d·ln N        (rate·N: clusters per block of one image)
# Prints a markdown section: the coefficients, then per layer the measured and fitted rate and the error, and the
# largest and mean error. Needs jq and sqlite3.
#   bash experiments/trec/rate_fit.sh DB
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
nas="${NAS:-$root/build/nas}"
db="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="$(sqlite3 "$db" "SELECT id FROM runs WHERE kind = 'train' AND status = 'done' AND config_yaml LIKE 'name: trec_L%'
                       ORDER BY id")"
[ -n "$runs" ] || { echo "rate_fit.sh: no finished trec_L*_H* run in $db (run experiments/trec/run.sh)" >&2; exit 1; }
for run in $runs; do
  "$nas" profile "$run" --target nano33 --images 1 --json --db "$db" 2> /dev/null |
    jq -r --arg run "$run" '.layers[] | select(.reuse_rate != null) |
                            "\($run) \(.name) \(.sub_len) \(.hash_bits) \(.pixels) \(.reuse_rate)"'
done > "$work/points"

awk '
  { run[NR] = $1; name[NR] = $2; len[NR] = $3; bits[NR] = $4; pix[NR] = $5; rate[NR] = $6
    x[1] = 1; x[2] = $4 * log(2); x[3] = log($3); x[4] = log($5); y = log($6 * $5)
    for (i = 1; i <= 4; ++i) { v[i] += x[i] * y; for (j = 1; j <= 4; ++j) m[i, j] += x[i] * x[j] } }
  END {
    n = 4
    for (i = 1; i <= n; ++i) {  # Gauss-Jordan with partial pivoting on the normal equations
      p = i
      for (r = i + 1; r <= n; ++r) if ((m[r, i] < 0 ? -m[r, i] : m[r, i]) > (m[p, i] < 0 ? -m[p, i] : m[p, i])) p = r
      for (j = 1; j <= n; ++j) { t = m[i, j]; m[i, j] = m[p, j]; m[p, j] = t }
      t = v[i]; v[i] = v[p]; v[p] = t
      for (r = 1; r <= n; ++r) if (r != i) {
        f = m[r, i] / m[i, i]
        for (j = 1; j <= n; ++j) m[r, j] -= f * m[i, j]
        v[r] -= f * v[i]
      }
    }
    for (i = 1; i <= n; ++i) c[i] = v[i] / m[i, i]
    printf "Fitted on %d reuse layers: a = %.4f, b = %.4f, c = %.4f, d = %.4f\n\n", NR, c[1], c[2], c[3], c[4]
    print "| run | layer | L | H | N | measured rate | fitted rate | error |"
    print "|---|---|---|---|---|---|---|---|"
    worst = 0; sum = 0
    for (k = 1; k <= NR; ++k) {
      fit = exp(c[1] + c[2] * bits[k] * log(2) + c[3] * log(len[k]) + c[4] * log(pix[k])) / pix[k]
      if (fit > 1) fit = 1
      e = (fit - rate[k]) / rate[k]; a = e < 0 ? -e : e
      if (a > worst) worst = a
      sum += a
      printf "| %s | %s | %d | %d | %d | %.4f | %.4f | %+.1f %% |\n", run[k], name[k], len[k], bits[k], pix[k],
             rate[k], fit, 100 * e
    }
    printf "\nLargest error %.1f %%, mean %.1f %% (relative to the measured rate).\n", 100 * worst, 100 * sum / NR
  }' "$work/points"
