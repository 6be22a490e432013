#!/usr/bin/env bash
# Integration test of `nas eval` and `nas export` through the real binary and a real SQLite file:
#   - a short search on synthetic data gives a finished run; `nas eval RUN --int8 --json` reports float and int8
#     accuracy and their agreement, and the arena next to its liveness lower bound;
#   - `nas export` writes model.h, model.c and kernels/; two exports of the same run are byte-identical; the folder
#     builds as C99 with -Wall -Wextra -Werror -pedantic and runs an inference;
#   - `nas export --format tflite` writes one TFLite file (identifier TFL3), the same bytes twice;
#   - an unknown run, a failed run, a --out under a regular file, an unknown --format and a .tflite export into a
#     directory each give one line on stderr and exit status 2, and leave the database unchanged.
#
#   bash tests/integration/deploy_cli_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d /tmp/mcunas-deploy.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$(dirname "$0")/small_search.sh"
cd "$work"

small_search "$nas" 20

"$nas" eval 1 --int8 --json --db runs.db --threads 1 2> eval.log > eval.json
# A key's number in the JSON: top-level keys are indented by 2 (the default), the memory plan's by 4.
number() { grep -E "^ {${2:-2}}\"$1\": " eval.json | head -1 | grep -o '[-0-9.e]*,\?$' | tr -d ,; }
check "eval reports 128 test images" 128 "$(number images)"
for key in float_accuracy int8_accuracy agreement; do
  awk -v v="$(number "$key")" 'BEGIN { exit !(v >= 0 && v <= 1) }' || fail "$key is not a share: $(number "$key")"
done
awk -v v="$(number agreement)" 'BEGIN { exit !(v >= 0.9) }' || fail "int8 agrees with float on only $(number agreement)"
arena="$(number arena_bytes 4)"
bound="$(number liveness_lower_bound_bytes 4)"
awk -v a="$arena" -v b="$bound" 'BEGIN { exit !(a == b && a > 0) }' || fail "arena $arena is not the bound $bound of a chain"
echo "ok: eval --int8 (float $(number float_accuracy), int8 $(number int8_accuracy), agreement $(number agreement))"

"$nas" export 1 --out first --db runs.db --threads 1 > export.txt
"$nas" export 1 --out second --db runs.db --threads 1 > /dev/null
[ -f first/model.h ] && [ -f first/model.c ] && [ -f first/kernels/mcunas_kernels.h ] || fail "export files missing"
diff -r first second > /dev/null || fail "two exports of run 1 differ"
echo "ok: export is deterministic"
if grep -E 'malloc|calloc|realloc|free\(' first/model.c first/model.h; then fail "generated code uses the heap"; fi
cat > main.c <<'C'
#include <stdio.h>
#include "model.h"
int main(void) {
  static int8_t input[MCUNAS_INPUT_SIZE];
  int8_t output[MCUNAS_OUTPUT_SIZE];
  int i;
  for (i = 0; i < MCUNAS_INPUT_SIZE; ++i) input[i] = (int8_t)(i % 97 - 48);
  if (mcunas_invoke(input, output) != 0) return 1;
  for (i = 0; i < MCUNAS_OUTPUT_SIZE; ++i) printf("%d\n", output[i]);
  return 0;
}
C
cc -std=c99 -pedantic -Wall -Wextra -Werror -I first -I first/kernels first/model.c first/kernels/*.c main.c -o model
check "the exported model prints one logit per class" 4 "$(./model | wc -l)"

"$nas" export 1 --format tflite --out tfl/model.tflite --db runs.db --threads 1 > tflite.txt
"$nas" export 1 --format tflite --out again.tflite --db runs.db --threads 1 > /dev/null
check "a .tflite file carries TFLite's identifier" "TFL3" "$(dd if=tfl/model.tflite bs=1 skip=4 count=4 2> /dev/null)"
cmp -s tfl/model.tflite again.tflite || fail "two .tflite exports of run 1 differ"
grep -q "wrote tfl/model.tflite" tflite.txt || fail "export --format tflite did not say what it wrote: $(cat tflite.txt)"
echo "ok: export --format tflite ($(wc -c < tfl/model.tflite) bytes, deterministic)"

before="$(dump)"
refused "unknown run" "run 99: no such run" export 99 --out x --db runs.db
cp runs.db failed.db
sqlite3 failed.db "UPDATE runs SET status = 'failed', error = 'out of memory' WHERE id = 1"
refused "failed run" "failed (out of memory)" export 1 --out y --db failed.db
[ ! -e y ] || fail "a refused export created its directory"
touch plain-file
refused "--out under a regular file" "plain-file" export 1 --out plain-file/model --db runs.db
refused "unknown format" "'onnx' is not supported" export 1 --format onnx --out z --db runs.db
refused "a .tflite export into a directory" "writes one file" export 1 --format tflite --out first --db runs.db
refused "eval of an unknown run" "run 7: no such run" eval 7 --int8 --db runs.db
check "refused commands left the database as it was" "$before" "$(dump)"
echo "all deploy CLI checks passed"
