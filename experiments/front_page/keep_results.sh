#!/usr/bin/env bash
# Keeps an experiment's results database in the repository, small: a copy without the trained weights (weights,
# finetune_starts, checkpoints), in rollback-journal mode (one file, readable from a read-only checkout), with the
# commit the runs were measured at recorded in mcunas_meta (key measured_at_commit). The README's figures are
# read from these copies (experiments/front_page/run.sh), so they can be checked against them in CI.
#   bash experiments/front_page/keep_results.sh SOURCE.db DEST.db COMMIT
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: keep_results.sh SOURCE.db DEST.db COMMIT" >&2; exit 2; }
src="$1" dest="$2" commit="$3"
[ -f "$src" ] || { echo "keep_results.sh: no results database '$src'" >&2; exit 2; }
tmp="$dest.tmp"
rm -f "$tmp"
sqlite3 "$src" ".backup '$tmp'"
sqlite3 "$tmp" > /dev/null <<SQL
PRAGMA journal_mode = DELETE;
DELETE FROM weights;
DELETE FROM finetune_starts;
DELETE FROM checkpoints;
INSERT OR REPLACE INTO mcunas_meta (key, value) VALUES ('measured_at_commit', '$commit');
VACUUM;
SQL
mv "$tmp" "$dest"
echo "kept $(basename "$src") as $dest ($(du -k "$dest" | cut -f1) KiB, measured at $commit)" >&2
