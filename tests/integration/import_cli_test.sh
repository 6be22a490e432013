#!/usr/bin/env bash
# nas import through the real binary, a real SQLite file, the cross compiler and QEMU:
#   - a searched network exported as .tflite and imported again (with its search config's data) becomes a run of
#     kind import; exporting that run gives back the same bytes; nas eval reports the int8 accuracy that
#     `nas eval --int8` reported for the searched run; nas export --format c takes it; nas deploy --run-qemu runs it
#     on the Nano 33 BLE's QEMU stand-in with every output byte equal to the host's;
#   - nas finetune refuses it (no float network);
#   - a missing file, a directory, a truncated file, another identifier, data of another image size or class count,
#     an unknown --data and a config without data: each give one line on stderr and exit status 2, store nothing,
#     and do not create a database that was not there.
#
#   bash tests/integration/import_cli_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-import.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm sqlite3:sqlite3 jq:jq
cd "$work"
small_search "$nas" 2

"$nas" export 1 --format tflite --out model.tflite --db runs.db --threads 1 2> /dev/null > /dev/null
"$nas" import model.tflite --data search.yaml --name searched --db runs.db --json 2> import.err > import.json ||
  fail "nas import failed: $(cat import.err)"
check "the import is run 2" 2 "$(jq .run import.json)"
check "its kind" import "$(sqlite3 runs.db "SELECT kind FROM runs WHERE id = 2")"
check "its status" done "$(sqlite3 runs.db "SELECT status FROM runs WHERE id = 2")"
sqlite3 runs.db "SELECT writefile('stored.bin', data) FROM imported_models WHERE run_id = 2" > /dev/null
cmp -s model.tflite stored.bin || fail "the stored bytes are not the file's"
grep -q "name: searched" <(sqlite3 runs.db "SELECT config_yaml FROM runs WHERE id = 2") || fail "--name not stored"

"$nas" export 2 --format tflite --out again.tflite --db runs.db > /dev/null 2>&1
cmp -s model.tflite again.tflite || fail "export -> import -> export changed the bytes"
echo "ok: export -> import -> export gives the same $(wc -c < model.tflite) bytes"

"$nas" eval 1 --int8 --json --db runs.db --threads 1 2> /dev/null > searched.json
"$nas" eval 2 --json --db runs.db 2> /dev/null > imported.json
check "int8 accuracy of the import = the searched run's" "$(jq .int8_accuracy searched.json)" \
  "$(jq .int8_accuracy imported.json)"
check "stored test accuracy = nas eval's" "$(jq .int8_accuracy imported.json)" "$(jq .int8_accuracy import.json)"
check "eval names the file" model.tflite "$(jq -r .imported imported.json)"

"$nas" export 2 --out c --db runs.db > /dev/null 2>&1
[ -s c/model.c ] && [ -s c/model.h ] || fail "nas export --format c of the import wrote no C"
"$nas" deploy 2 --target nano33 --out fw --run-qemu --images 8 --db runs.db > deploy.txt 2> deploy.err ||
  fail "nas deploy of the import failed: $(tail -3 deploy.err)"
grep -q "8 test images, every output byte equal to the host's" deploy.txt ||
  fail "the import did not run bit-exact in QEMU: $(cat deploy.txt)"
check "QEMU check stored for run 2" 0 \
  "$(sqlite3 runs.db "SELECT differing_images FROM deployments WHERE run_id = 2 AND kind = 'qemu'")"
echo "ok: the imported model runs bit-exact in QEMU ($(grep -o '[0-9]* instructions per inference' deploy.txt))"

refused "fine-tuning an import" "run 2 is a run of kind import" finetune 2 --db runs.db

before="$(dump)"
cp model.tflite short.tflite && truncate -s 600 short.tflite
cp model.tflite other.tflite && printf 'XXXX' | dd of=other.tflite bs=1 seek=4 conv=notrunc 2> /dev/null
mkdir folder.tflite
small_search_config bigger.yaml 1
sed -i 's/height: 8, width: 8/height: 12, width: 12/' bigger.yaml
small_search_config classes.yaml 1
sed -i 's/classes: 4/classes: 5/' classes.yaml
echo "name: no_data" > nodata.yaml
refused "a missing file" "missing.tflite: file not found" import missing.tflite --data search.yaml --db runs.db
refused "a directory" "folder.tflite: is a directory" import folder.tflite --data search.yaml --db runs.db
refused "a truncated file" "short.tflite: is truncated or corrupt" import short.tflite --data search.yaml --db runs.db
refused "another identifier" "other.tflite: is not a TensorFlow Lite model" import other.tflite --db runs.db
refused "data of another image size" "takes 8x8x1 inputs but the data (synthetic) has 12x12x1 images" \
  import model.tflite --data bigger.yaml --db runs.db
refused "data of another class count" "gives 4 outputs but the data (synthetic) has 5 classes" \
  import model.tflite --data classes.yaml --db runs.db
refused "an unknown --data" "--data: 'nothing' is neither a dataset" import model.tflite --data nothing --db runs.db
refused "a config without data:" "nodata.yaml' has no data: section" import model.tflite --data nodata.yaml --db runs.db
check "refused imports left the database as it was" "$before" "$(dump)"
refused "a bad file with no database yet" "short.tflite: is truncated" import short.tflite --db new.db
[ ! -e new.db ] || fail "a refused import created new.db"
echo "all import CLI checks passed"
