#!/usr/bin/env bash
# Bad input a user can give: command lines, config values, data and target files, sweeps, results databases,
# exports and plots. Each case must end with exit status 2 and one line on stderr that names the problem
# (docs/errors.md lists every message with the test that asserts it); failures (damaged stored data, a Slurm or
# librsvg tool that fails, a diverging run) end with exit status 1, and where a command prints its progress first,
# the message is stderr's last line. The runs it needs are a tiny `nas train`
# (run 1), a small search (run 2) and a one-job sweep, on synthetic data; the rest are files written here.
#   bash tests/integration/errors_cli_test.sh path/to/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
targets="$(cd "$(dirname "$0")/../../cost_models/targets" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$(dirname "$0")/small_search.sh"
cd "$work"

# --- the command line ------------------------------------------------------------------------------------------------
refused "an unknown command" "unknown command 'bogus' (known: search, train" bogus
refused "an unknown option" "The following argument was not expected: --bogus (see nas --help)" search --bogus
refused "nas train without --config" "nas train: --config is required (e.g. experiments/fmnist_cnn.yaml), or --resume RUN" train
refused "nas search without --target" "nas search: --target is required (nas targets lists the boards), or --resume RUN" search
refused "nas finetune without a run" "nas finetune: the search run to fine-tune is required (nas runs lists them)" finetune

# --- runs of a database ----------------------------------------------------------------------------------------------
cat > train.yaml <<'YAML'
name: tiny_train
data:
  format: synthetic
  synthetic: {count: 256, height: 8, width: 8, channels: 1, classes: 4, noise: 0.1, seed: 3}
model:
  layers:
    - {type: conv2d, out: 4, kernel: 3, padding: 1}
    - {type: relu}
    - {type: global_avg_pool}
    - {type: linear, out: 4}
train: {epochs: 1, batch_size: 64, seed: 1, threads: 1}
YAML
"$nas" train --config train.yaml --db runs.db > /dev/null 2> train.log || fail "the tiny training failed: $(tail -3 train.log)"
small_search_config search.yaml 0
"$nas" search --target nano33 --max-latency 1.5ms --config search.yaml --db runs.db > /dev/null 2> search.log ||
  fail "the small search failed: $(tail -3 search.log)"
refused "nas show of a missing run" "nas show: no run 99 in runs.db (nas runs lists them)" show 99 --db runs.db
refused "--resume of a missing run" "--resume: no run 99 in runs.db (nas runs lists them)" search --resume 99 --db runs.db
refused "--resume of a run of another kind" "--resume: run 1 is a train run; nas search --resume continues search runs" \
  search --resume 1 --db runs.db
refused "nas finetune of a training run" "run 1 is a run of kind train; only a search" finetune 1 --db runs.db
refused "nas finetune --epochs 0" "--epochs: must be at least 1 (got 0)" finetune 2 --epochs 0 --db runs.db
refused "nas finetune of a search fine-tuned for 0 epochs" "run 2's config fine-tunes for 0 epochs; pass --epochs N" \
  finetune 2 --db runs.db
refused "--resume with another option" "--resume: continues a run with its own search, epochs, seed and teacher; drop" \
  finetune --resume 2 --epochs 3 --db runs.db
refused "--threads 5000" "threads: must be between 1 and 1024 (got 5000)" train --config train.yaml --threads 5000 \
  --db runs.db

# --- config files ------------------------------------------------------------------------------------------------------
# Each case: the small search's config with one line changed (sed expression), and the text the error must hold.
bad_search_config() {  # description, sed expression, expected text
  sed -E "$2" search.yaml > bad.yaml
  cmp -s search.yaml bad.yaml && fail "$1: the sed expression changed nothing"
  refused "$1" "$3" search --target nano33 --max-latency 1.5ms --config bad.yaml --db bad.db
}
bad_search_config "uniform_share outside [0, 1]" 's/^  threads: 1$/  threads: 1\n  arch: {uniform_share: 1.5}/' \
  "search.arch.uniform_share (line 16): must be in [0, 1]"
bad_search_config "an unknown estimator" 's/^  threads: 1$/  threads: 1\n  arch: {estimator: darts}/' \
  "search.arch.estimator (line 16): must be reinforce, mixture or straight_through (got 'darts')"
bad_search_config "an unknown pricing" 's/^  threads: 1$/  threads: 1\n  arch: {price: median}/' \
  "search.arch.price (line 16): must be expected, argmax or sampled (got 'median')"
bad_search_config "a zero architecture learning rate" 's/^  threads: 1$/  threads: 1\n  arch: {lr: 0}/' \
  "search.arch.lr (line 16): must be positive"
bad_search_config "label smoothing of 1" 's/^  threads: 1$/  threads: 1\n  label_smoothing: 1.0/' \
  "search.label_smoothing (line 16): must be in [0, 1)"
bad_search_config "no search space" '/^search_space:/,/^search:/{/^search:/!d}' \
  "config: missing map 'search_space' with a list 'blocks'"
bad_search_config "a negative penalty growth" 's/^  threads: 1$/  threads: 1\n  penalty: {growth: -1}/' \
  "search.penalty: needs growth >= 0 and 0 <= decay < 1"
bad_search_config "negative synthetic noise" 's/noise: 0.1/noise: -1/' "data.synthetic.noise (line 4): must be >= 0"
bad_search_config "an unknown optimizer" 's/^  threads: 1$/  threads: 1\n  weights: {optimizer: {type: lion}}/' \
  "unknown type 'lion' (known: sgd, adam)"
bad_search_config "a negative weight decay" \
  's/^  threads: 1$/  threads: 1\n  weights: {optimizer: {type: sgd, weight_decay: -1}}/' "weight_decay must be >= 0"
bad_search_config "an sgd momentum of 1" \
  's/^  threads: 1$/  threads: 1\n  finetune: {optimizer: {type: sgd, momentum: 1}}/' \
  "search.finetune.optimizer (line 16): sgd momentum must be in [0, 1)"
bad_search_config "an adam beta of 1" 's/^  threads: 1$/  threads: 1\n  weights: {optimizer: {type: adam, beta1: 1}}/' \
  "search.weights.optimizer (line 16): adam betas must be in [0, 1)"
bad_search_config "an unknown schedule" 's/^  threads: 1$/  threads: 1\n  weights: {schedule: {type: step}}/' \
  "unknown type 'step' (known: cosine, constant)"
bad_search_config "a zero learning rate" 's/^  threads: 1$/  threads: 1\n  weights: {schedule: {type: cosine, lr: 0}}/' \
  "lr must be positive (got 0)"

bad_train_config() {  # description, sed expression, expected text
  sed -E "$2" train.yaml > bad.yaml
  cmp -s train.yaml bad.yaml && fail "$1: the sed expression changed nothing"
  refused "$1" "$3" train --config bad.yaml --db bad.db
}
bad_train_config "a layer that is not a map" 's/^    - \{type: relu\}$/    - relu/' \
  "model.layers[1]: each layer is a map with a 'type'"
bad_train_config "a layer name used twice" \
  's/^    - \{type: relu\}$/    - {type: relu, name: a}\n    - {type: relu, name: a}/' \
  "model.layers[2]: layer name 'a' is used twice"
bad_train_config "a flag that is not a boolean" 's/padding: 1\}/padding: 1, bias: maybe}/' \
  "model.layers[0] (conv2d): 'bias' must be true or false (got 'maybe')"
bad_train_config "a kernel larger than its input" 's/kernel: 3, padding: 1/kernel: 3, padding: 1, stride: 1}\n    - {type: max_pool, kernel: 16/' \
  "kernel 16 larger than input 8x8"
bad_train_config "label smoothing of 1 in training" 's/threads: 1\}/threads: 1, label_smoothing: 1.0}/' \
  "train.label_smoothing (line 11): must be in [0, 1) (got 1)"
bad_train_config "a crop padding larger than the image" 's/seed: 3\}/seed: 3}\n  augment: {crop_pad: 9}/' \
  "crop_pad: must be in [0, 8] for 8×8 images (got 9)"
echo "all refusals as documented"

# --- data files ----------------------------------------------------------------------------------------------------------
# An .npy file: magic, version, header length (little-endian), the header dict padded with spaces to a multiple of
# 64 bytes and ended by a newline, then `data_bytes` zero bytes (labels: the values given instead).
npy_file() {  # file, header dict, data bytes, [major version]
  local header="$2" total
  total=$(( (10 + ${#header} + 1 + 63) / 64 * 64 ))
  local len=$(( total - 10 ))
  local pad=$(( len - ${#header} - 1 ))
  {
    printf '\x93NUMPY'
    printf "\\x$(printf %02x "${4:-1}")\\x00"
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%s%*s\n' "$header" "$pad" ''
    head -c "$3" /dev/zero
  } > "$1"
}
npy_file images.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4), }" 32
npy_file labels.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }" 2
npy_file version9.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4), }" 32 9
npy_file no_descr.npy "{'fortran_order': False, 'shape': (2, 4, 4), }" 32
npy_file object.npy "{'descr': '|O', 'fortran_order': False, 'shape': (2, 4, 4), }" 32
npy_file structured.npy "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 4, 4), }" 128
npy_file empty.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4, 4), }" 0
printf '\x93NUMPY\x01\x00\x10' > preamble.npy
npy_file wide_labels.npy "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }" 0
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00' >> wide_labels.npy  # 0, then 2^40
mkdir -p a_directory
printf '\x00\x00' > short.idx
printf '\x00\x00\x08\x03\xff\xff\xff\xff\x00\x00\x00\x1c\x00\x00\x00\x1c' > huge.idx
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x00\x01' > labels.idx
bad_data() {  # description, format, train images, train labels, expected text
  cat > data.yaml <<YAML
name: bad_data
data:
  format: $2
  dir: $work
  train: {images: $3, labels: $4}
  test: {images: $3, labels: $4}
model:
  layers:
    - {type: global_avg_pool}
    - {type: linear, out: 2}
train: {epochs: 1}
YAML
  refused "$1" "$5" train --config data.yaml --db bad.db
}
bad_data "a directory as an idx file" idx a_directory labels.idx "$work/a_directory: is a directory, expected an idx file"
bad_data "an idx file shorter than its header" idx short.idx labels.idx \
  "$work/short.idx: truncated: 2 bytes, too short for an idx header"
bad_data "an idx header with a huge dimension" idx huge.idx labels.idx \
  "$work/huge.idx: dimension too large: header declares 4294967295×28×28"
bad_data "an .npy format version 9" npy version9.npy labels.npy \
  "$work/version9.npy: unsupported .npy format version 9.0 (expected 1.0, 2.0 or 3.0)"
bad_data "an .npy header without descr" npy no_descr.npy labels.npy \
  "$work/no_descr.npy: malformed .npy header: no 'descr' key"
bad_data "an object array" npy object.npy labels.npy \
  "$work/object.npy: unsupported dtype '|O' (structured and string dtypes cannot be images or labels)"
# The header is quoted in the error, on the same line (its padding and newline left out).
bad_data "a structured array" npy structured.npy labels.npy \
  "malformed .npy header: unexpected value at offset 10 in \"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 4, 4), }\""
bad_data "an empty image array" npy empty.npy labels.npy \
  "$work/empty.npy: image array has shape (0, 4, 4), a zero or huge dimension"
bad_data "an .npy file cut inside its preamble" npy preamble.npy labels.npy \
  "$work/preamble.npy: truncated: the file ends inside the .npy preamble"
bad_data "a label that does not fit" npy images.npy wide_labels.npy \
  "$work/wide_labels.npy: label too large at index 1 (got 1099511627776)"
echo "all data-file refusals as documented"

# --- target files ----------------------------------------------------------------------------------------------------------
# The nano33 target copied beside the test with one line changed; `nas search --target ./FILE` reads it before
# anything else. A calibration file beside it (FILE's stem + .calibration.yaml) is read with it.
nano33="$targets/nano33.yaml"
bad_target() {  # description, sed expression, expected text
  sed -E "$2" "$nano33" > target.yaml
  cmp -s "$nano33" target.yaml && fail "$1: the sed expression changed nothing"
  refused "$1" "$3" search --target ./target.yaml --max-latency 50ms --config search.yaml --db target.db
}
bad_target "an unknown core" 's/^core: cortex-m4f/core: cortex-m99/' \
  "./target.yaml: core (line 10): unknown core 'cortex-m99' (known: cortex-m0plus, cortex-m4, cortex-m4f, cortex-m7)"
bad_target "a zero clock" 's/^clock_hz: 64000000/clock_hz: 0/' "./target.yaml: clock_hz (line 11): must be > 0"
bad_target "zero cycles per instruction" 's/^cycles_per_instruction: 1.1/cycles_per_instruction: 0/' \
  "./target.yaml: cycles_per_instruction (line 27): must be > 0"
bad_target "a firmware keeping all of the RAM" 's/^ram_reserved_bytes: 65536/ram_reserved_bytes: 262144/' \
  "./target.yaml: ram_reserved_bytes (line 16): must be smaller than sram_bytes (262144)"
bad_target "a firmware keeping more than the flash" 's/^flash_reserved_bytes: 196608/flash_reserved_bytes: 2000000/' \
  "./target.yaml: flash_reserved_bytes (line 19): must be smaller than flash_bytes (1048576)"
bad_target "an image without RAM" 's/^  ram_bytes: 262144/  ram_bytes: 0/' \
  "./target.yaml: image (line 32): flash_bytes and ram_bytes must be > 0"
bad_target "a negative cost coefficient" 's/^    per_mac: 2.4/    per_mac: -1/' \
  "./target.yaml: latency.conv.per_mac (line 42): must be a finite number >= 0 (got -1)"
refused "a target file that does not exist" \
  "target: no target file './nowhere.yaml' (give an existing YAML, or a name: f746, l4r5, nano33, rp2040)" \
  search --target ./nowhere.yaml --max-latency 50ms --config search.yaml --db target.db
cp "$nano33" target.yaml
echo "a: [" > target.calibration.yaml
refused "a calibration file that is not YAML" \
  "./target.yaml: ./target.calibration.yaml: not valid YAML: yaml-cpp: error at line 2, column 1: end of sequence flow not found (rerun nas calibrate to rewrite it)" \
  search --target ./target.yaml --max-latency 50ms --config search.yaml --db target.db
sed 's/^core: cortex-m4f/core: cortex-m7/' "${nano33%.yaml}.calibration.yaml" > target.calibration.yaml
refused "a calibration of another core" \
  "./target.yaml: ./target.calibration.yaml: was calibrated for core cortex-m7, the target has cortex-m4f; rerun nas calibrate --target nano33" \
  search --target ./target.yaml --max-latency 50ms --config search.yaml --db target.db
check "no database created by a refused target" "" "$(ls target.db* 2> /dev/null || true)"
echo "all target-file refusals as documented"

# --- sweeps and merge --------------------------------------------------------------------------------------------------------
refused "a budget list with an empty item" "--max-latency: '1ms,,2ms' has an empty item (write values separated by single commas)" \
  sweep --target nano33 --max-latency 1ms,,2ms --config search.yaml --db sweep.db
refused "nas sweep with nothing to do" "nas sweep: give --target T[,T...] to start a sweep, --status NAME or --wait NAME" \
  sweep --db sweep.db
refused "--jobs 0" "--jobs: must be at least 1 (how many jobs run at once)" \
  sweep --target nano33 --max-latency 1.5ms --jobs 0 --config search.yaml --db sweep.db
refused "nas merge of shards and a sweep at once" "nas merge: give either shard files or --sweep NAME (not both)" \
  merge runs.db --sweep once --db sweep.db
refused "the status of a sweep a database does not hold" "nope: no such sweep in runs.db (it has none)" \
  sweep --status nope --db runs.db
mkdir -p full_dir && touch full_dir/file
refused "a sweep directory that holds files" "$work/full_dir: already holds files (pick another --dir or --name, or remove it)" \
  sweep --name other --dir full_dir --target nano33 --max-latency 1.5ms --config search.yaml --db sweep.db
refused "nas sweep-job without its index" "nas sweep-job: give the job index (or run it as a Slurm array task)" \
  sweep-job full_dir
"$nas" sweep --name once --target nano33 --max-latency 1.5ms --config search.yaml --jobs 1 --db sweep.db \
  > /dev/null 2> sweep.log || fail "the small sweep failed: $(tail -3 sweep.log)"
refused "a sweep name already taken" "--name: a sweep named 'once' is already in sweep.db" \
  sweep --name once --target nano33 --max-latency 2ms --config search.yaml --db sweep.db
echo "all sweep refusals as documented"

# Slurm's client tools as a sweep meets them when they fail: absent, refusing the job array, printing no job id, or
# squeue unable to reach the controller. Stand-ins on the PATH print what Slurm prints in those cases. The sweep
# prints its plan first, so the error is stderr's last line; a sweep whose submission failed is not recorded.
mkdir slurm_bin
slurm_sweep() {  # status, description, expected text, sweep name, extra sweep options...
  local status="$1" what="$2" text="$3" name="$4" rc=0
  shift 4
  PATH="$work/slurm_bin:$PATH" "$nas" sweep --name "$name" --target nano33 --max-latency 1.5ms --config search.yaml \
    --executor slurm "$@" --db slurm.db > /dev/null 2> err.txt || rc=$?
  check "$what: exit status" "$status" "$rc"
  tail -1 err.txt | grep -qF -- "nas: $text" || fail "$what: stderr ends with '$(tail -1 err.txt)'"
}
rc=0
PATH=/nonexistent "$nas" sweep --name no-slurm --target nano33 --max-latency 1.5ms --config search.yaml \
  --executor slurm --db slurm.db > /dev/null 2> err.txt || rc=$?
check "a Slurm sweep without sbatch: exit status" 2 "$rc"
tail -1 err.txt | grep -qF -- "nas: --executor slurm: sbatch not found in PATH (install Slurm's client tools" ||
  fail "a Slurm sweep without sbatch: stderr ends with '$(tail -1 err.txt)'"
printf '#!/bin/sh\necho "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2\nexit 1\n' \
  > slurm_bin/sbatch
chmod +x slurm_bin/sbatch
slurm_sweep 2 "a job array sbatch refuses" \
  "sbatch: refused the sweep's job array (exit 1): sbatch: error: Batch job submission failed: Invalid partition" refused
printf '#!/bin/sh\necho "Submitted batch job 42"\n' > slurm_bin/sbatch
slurm_sweep 1 "an sbatch that ignores --parsable" \
  "sbatch: printed no job id (got 'Submitted batch job 42'; with --parsable it prints the id alone)" wordy
check "no sweep recorded after failed submissions" "" "$([ ! -f slurm.db ] || sqlite3 slurm.db 'SELECT name FROM sweeps')"
printf '#!/bin/sh\necho 42\n' > slurm_bin/sbatch
printf '#!/bin/sh\necho "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2\nexit 1\n' \
  > slurm_bin/squeue
chmod +x slurm_bin/squeue
slurm_sweep 1 "a squeue that cannot reach the controller" \
  "squeue: failed (exit 1): slurm_load_jobs error: Unable to contact slurm controller (connect failure)" queued --wait
refused "--resume of a Slurm sweep" \
  "--resume: sweep queued runs on Slurm; follow it with --wait queued (to rerun failed task K: sbatch --array=K" \
  sweep --resume queued --db slurm.db
echo "all Slurm failures as documented"

# --- results databases ----------------------------------------------------------------------------------------------------------
mkdir -p a_folder
refused "a folder as the results database" "a_folder: is a directory, not a results database file" runs --db a_folder
refused "an empty --db" "--db: empty path (give the results database's file, e.g. --db mcunas.db)" runs --db ''
refused "an empty --db for a search" "--db: empty path" search --target nano33 --max-latency 1.5ms --config search.yaml --db ''
sqlite3 meta.db "CREATE TABLE mcunas_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
refused "an mcunas_meta without a schema version" "meta.db: has an mcunas_meta table without a schema_version (left untouched)" \
  runs --db meta.db
check "a refused database is left as it was" "mcunas_meta" "$(sqlite3 meta.db .tables)"
echo "all database refusals as documented"

# --- plots, exports, deployments, layers ---------------------------------------------------------------------------------------
refused "a plot file of an unknown kind" "--plot: 'front.txt' must end in .svg or .png" pareto --plot front.txt --db runs.db
refused "a plot of a board no run was searched for" "--target: no run in runs.db was searched for 'f746' (its runs are for: nano33)" \
  pareto --plot front.svg --target f746 --db runs.db
refused "an export without a directory" "--out: needs a directory to write model.h and model.c into" export 2 --out '' --db runs.db
refused "a library name for a plain C export" "--name: names an Arduino library; use it with --format arduino" \
  export 2 --name Net --out model --db runs.db
refused "a deployment of no images" "--images: must be at least 1" deploy 2 --target nano33 --out fw --images 0 --db runs.db
refused "a sweep job that is not in the plan" "nas sweep-job: job 5 is not in $work/sweeps/once/sweep.json (it has jobs 0 to 0)" \
  sweep-job "$work/sweeps/once" 5
bad_train_config "a validation split larger than the data" 's/seed: 3\}/seed: 3}\n  validation_split: 1000/' \
  "data.validation_split: holds out 1000 of only 256 training items"
bad_train_config "a linear layer without outputs" 's/linear, out: 4/linear, out: 0/' \
  "network: layer 'linear3': linear: out features must be positive (got 0)"
bad_train_config "a pooling stride of 0" 's/\{type: global_avg_pool\}/{type: max_pool, kernel: 2, stride: 0}/' \
  "max_pool: needs kernel > 0, stride > 0 and 0 <= padding <= kernel/2 (got kernel 2, stride 0, padding 0)"
bad_search_config "a block without a name" 's/\{name: b1,/{name: "",/' \
  "search_space.blocks[0].name (line 9): block name must not be empty"
echo "all plot, export and layer refusals as documented"

# --- runs whose record lacks something (a copy of runs.db changed by hand, as a killed or old run leaves it) ---------------------
cp runs.db interrupted.db
sqlite3 interrupted.db "UPDATE runs SET status = 'interrupted' WHERE id = 2"
refused "nas finetune of an unfinished search" "nas finetune: run 2 is 'interrupted', not finished; fine-tune a finished search" \
  finetune 2 --epochs 1 --db interrupted.db
cp runs.db no_start.db
sqlite3 no_start.db "DELETE FROM finetune_starts"
refused "nas finetune of a search without its fine-tuning start" \
  "nas finetune: run 2 has no stored fine-tuning start (searches before schema version 5 did not keep one)" \
  finetune 2 --epochs 1 --db no_start.db
# Only nas runs without a PATH (refused itself needs grep and wc).
rc=0
PATH=/nonexistent "$nas" pareto --plot front.png --db runs.db > /dev/null 2> err.txt || rc=$?
check "a PNG plot without rsvg-convert: exit status" 2 "$rc"
check "a PNG plot without rsvg-convert: the message" \
  "nas: --plot: writing PNG needs rsvg-convert (Debian librsvg2-bin); or write --plot front.svg" "$(cat err.txt)"
# An rsvg-convert that fails (a stand-in printing what librsvg prints for an SVG it cannot read): exit 1, its
# message, no PNG and no temporary SVG left.
mkdir rsvg_bin
printf '#!/bin/sh\necho "Error reading SVG: XML parse error: Error domain 1 code 4" >&2\nexit 1\n' \
  > rsvg_bin/rsvg-convert
chmod +x rsvg_bin/rsvg-convert
rc=0
PATH="$work/rsvg_bin:$PATH" "$nas" pareto --plot front.png --db runs.db > /dev/null 2> err.txt || rc=$?
check "a failing rsvg-convert: exit status" 1 "$rc"
check "a failing rsvg-convert: one line on stderr" 1 "$(wc -l < err.txt)"
check "a failing rsvg-convert: the message" \
  "nas: rsvg-convert: Error reading SVG: XML parse error: Error domain 1 code 4" "$(cat err.txt)"
check "a failing rsvg-convert: nothing left" "" "$(ls front.png front.png.svg.tmp 2> /dev/null || true)"
echo "all refusals of incomplete runs as documented"

# --- paths that cannot be created, and damaged stored data (exit 1: the input was fine, what is stored is not) --------
failed() { ends_with 1 "$@"; }  # damaged stored data: exit 1
touch a_file
refused "a sweep directory below a file" "$work/a_file/sweep: cannot create the sweep directory: Not a directory" \
  sweep --name below --dir a_file/sweep --target nano33 --max-latency 1.5ms --config search.yaml --db sweep.db
refused "an export directory below a file" \
  "a_file/model: cannot create the output directory (Not a directory); pass --out a writable directory" \
  export 2 --out a_file/model --db runs.db
cp runs.db damaged.db
sqlite3 damaged.db "UPDATE weights SET count = count + 1 WHERE run_id = 2 AND name = 'theta_w'"
failed "damaged weights" "damaged.db: weights 'theta_w' of run 2 are damaged (got " export 2 --out model --db damaged.db
cp runs.db damaged.db
sqlite3 damaged.db "UPDATE runs SET config_yaml = 'a: [' WHERE id = 2"
failed "a stored config that is not YAML" "search.yaml: the stored config is not valid YAML: " \
  finetune 2 --epochs 1 --db damaged.db
cp runs.db damaged.db
sqlite3 damaged.db "UPDATE finetune_starts SET count = count + 1 WHERE name = 'state'"
failed "a damaged fine-tuning start" "damaged.db: the fine-tuning start 'state' of run 2 is damaged (" \
  finetune 2 --epochs 1 --db damaged.db
cp runs.db damaged.db
# A digit put before every convolution's channel count (8 -> 18, 16 -> 116): the network no longer fits its weights,
# whatever widths the search chose.
sqlite3 damaged.db "UPDATE architectures SET model_yaml = replace(model_yaml, 'type: conv2d, out: ', \
  'type: conv2d, out: 1') WHERE run_id = 2"
model_of() { sqlite3 "$1" "SELECT model_yaml FROM architectures WHERE run_id = 2"; }
check "the stored network was changed" changed \
  "$([ "$(model_of runs.db)" != "$(model_of damaged.db)" ] && echo changed)"
failed "a stored network its weights do not fit" "run 2: stored weights have " export 2 --out model --db damaged.db
grep -qF "values but its network needs" err.txt || fail "a stored network its weights do not fit: $(cat err.txt)"
echo "all refusals of uncreatable paths and damaged records as documented"

# --- more refusals, and a failure during a run -------------------------------------------------------------------
bad_train_config "an add of one input" 's/^    - \{type: relu\}$/    - {type: relu}\n    - {type: add, inputs: [0]}/' \
  "network: add2: add takes 2 input(s) (got 1)"
bad_train_config "a ReLU of two inputs" 's/^    - \{type: relu\}$/    - {type: relu, inputs: [0, 0]}/' \
  "network: relu1: relu takes 1 input(s) (got 2)"
mkfifo fifo.db
refused "a results database that is a FIFO" "fifo.db: is not a regular file" train --config train.yaml --db fifo.db
sed 's/count: 512/count: 9/' search.yaml > nine.yaml
cmp -s search.yaml nine.yaml && fail "nine.yaml: the sed expression changed nothing"
refused "a search on 9 training items" "nine.yaml: data: 9 training items leave none to hold out for the \
architecture steps (a search holds out a tenth of them, at most search.arch.holdout); give at least 10 training items \
or a data.validation split" search --target nano33 --max-latency 1.5ms --config nine.yaml --db nine.db
refused "a plot with no finished search" "--plot: nothing to plot: no finished search matches" \
  pareto --plot front.svg --db interrupted.db
# A learning rate of 1e30 makes the loss infinite within a few steps: exit 1, the reason as stderr's last line (the
# run's progress comes before it) and in the run's record.
sed -E 's/^  threads: 1$/  threads: 1\n  weights: {schedule: {type: constant, lr: 1.0e+30}}/' search.yaml > diverging.yaml
cmp -s search.yaml diverging.yaml && fail "diverging.yaml: the sed expression changed nothing"
rc=0
"$nas" search --target nano33 --max-latency 1.5ms --config diverging.yaml --db diverging.db > /dev/null 2> err.txt || rc=$?
check "a diverging search: exit status" 1 "$rc"
diverged="nas search: the loss diverged (not finite) in warmup epoch 1, step "
tail -1 err.txt | grep -qF -- "nas: $diverged" || fail "a diverging search: stderr ends with '$(tail -1 err.txt)'"
check "a diverging search: its run" "failed|$diverged" \
  "$(sqlite3 diverging.db "SELECT status || '|' || substr(error, 1, length('$diverged')) FROM runs")"
echo "all refusals and failures of this block as documented"
