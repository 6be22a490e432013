#!/usr/bin/env bash
# The exported C of a searched network runs bit for bit alike on the host and on emulated Cortex-M cores: the real
# cross compiler (arm-none-eabi-gcc) builds it with our start-up code and linker script (deploy/firmware/) for
# QEMU's mps2-an386 (Cortex-M4F), mps2-an500 (Cortex-M7) and mps2-an385 (Cortex-M3, no DSP), the real
# qemu-system-arm runs it with semihosting, and the printed outputs of 20 inferences must equal the host build's.
# A firmware whose main fails must make QEMU exit non-zero, so the check can fail. Our QEMU plugin counts the
# instructions of every layer (the generated MCUNAS_LAYER_MARK markers); the counts of two runs are identical.
# Then about 450 random layers (tests/firmware/random_layers_main.c) hash alike on the host, on the Cortex-M3
# (portable path) and on the Cortex-M4 and M7 (DSP path; on the M4 also unoptimised, where the conv block runs as
# C, not assembly). The plugin's timing classes are exact on known sequences (tests/firmware/timing_classes_main.c).
#
#   bash tests/integration/firmware_qemu_test.sh BUILD/nas BUILD/deploy/libmcunas_qemu_icount.so
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
plugin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
firmware="$root/deploy/firmware"
work="$(mktemp -d /tmp/mcunas-firmware.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm
cd "$work"

small_search "$nas" 4
"$nas" export 1 --out model --db runs.db --threads 1 > /dev/null 2>&1 || fail "nas export failed"

cc -std=c99 -O2 -I model -I model/kernels model/model.c model/kernels/*.c "$root/tests/firmware/outputs_main.c" -o host
./host > host.txt
[ "$(wc -l < host.txt)" -eq 20 ] || fail "the host build printed $(wc -l < host.txt) lines, not 20"

build() {  # name, sources (one argument, space-separated), compiler flags...
  local name="$1" sources="$2"
  shift 2
  # shellcheck disable=SC2086
  arm-none-eabi-gcc -std=c99 -pedantic -O2 -Wall -Wextra -Werror -ffunction-sections -fdata-sections -nostartfiles \
    -T "$firmware/mps2.ld" -L "$firmware" -Wl,--gc-sections --specs=nano.specs -DMCUNAS_FIRMWARE "$@" \
    -DMCUNAS_QEMU_MARKERS \
    -I model -I model/kernels -I "$firmware" "$firmware/startup.c" "$firmware/semihosting.c" \
    model/kernels/*.c $sources -o "$name.elf"
}
run() {  # name, machine [counts file]: the semihosting console into name.txt; returns QEMU's exit status
  timeout 300 qemu-system-arm -M "$2" -nographic -monitor none -serial none \
    -chardev "file,id=console,path=$1.txt" -semihosting-config enable=on,target=native,chardev=console \
    ${3:+-plugin "$plugin,out=$3"} -kernel "$1.elf"
}
cores=(
  "m4 mps2-an386 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
  "m7 mps2-an500 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
  "m3 mps2-an385 -mcpu=cortex-m3 -mthumb"
  "m4-O0 mps2-an386 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O0"  # the DSP path's C inner loop
)
for core in "${cores[@]}"; do
  read -r name machine flags <<< "$core"
  # shellcheck disable=SC2086
  build "$name" "model/model.c $root/tests/firmware/outputs_main.c" $flags
  run "$name" "$machine" "$name.counts" || fail "$name: QEMU ($machine) exited with status $?: $(tail -2 "$name.txt")"
  cmp -s host.txt "$name.txt" || fail "$name: outputs differ from the host's: $(diff host.txt "$name.txt" | head -4)"
  echo "ok: $name on $machine prints the host's 20 outputs ($(arm-none-eabi-size "$name.elf" | tail -1 | awk '{print $1 " B text, " $3 " B bss"}'))"

  # One mark before each layer and one after the last, per inference.
  layers="$(grep -c 'MCUNAS_LAYER_MARK();' model/model.c)"
  marks="$(grep -c '^mark ' "$name.counts")"
  [ "$marks" -eq $((20 * layers)) ] || fail "$name: $marks layer marks for 20 inferences of $((layers - 1)) layers"
  run "$name" "$machine" "$name.again" || fail "$name: the second run failed"
  cmp -s "$name.counts" "$name.again" || fail "$name: instruction counts differ between two runs"
  awk -v layers="$layers" '/^mark / && $2 < layers { if ($2 > 0) printf "  layer %d: %d instructions\n", $2 - 1, $3 - last; last = $3 }' \
    "$name.counts"
  echo "ok: $name instruction counts per layer are the same in two runs ($(head -1 "$name.counts"))"
done

# The same model through CMake and our toolchain file, for the Cortex-M4F and for the Cortex-M0+ (run on the M3
# board, the nearest QEMU has): the host's outputs again.
for core in "cortex-m4f mps2-an386" "cortex-m0plus mps2-an385"; do
  read -r name machine <<< "$core"
  cmake -S "$firmware" -B "cmake-$name" -DCMAKE_TOOLCHAIN_FILE="$firmware/cmake/arm-none-eabi.cmake" \
    -DMCUNAS_CORE="$name" -DMCUNAS_MODEL_DIR="$work/model" > "cmake-$name.log" 2>&1 ||
    fail "cmake with the toolchain file ($name): $(tail -3 "cmake-$name.log")"
  cmake --build "cmake-$name" >> "cmake-$name.log" 2>&1 || fail "cmake --build ($name): $(tail -3 "cmake-$name.log")"
  cp "cmake-$name/mcunas_model.elf" "cmake-$name.elf"
  run "cmake-$name" "$machine" || fail "$name (CMake build): QEMU exited with status $?"
  cmp -s host.txt "cmake-$name.txt" || fail "$name (CMake build): outputs differ from the host's"
  echo "ok: the CMake toolchain build for $name prints the host's 20 outputs on $machine"
done

cc -std=c99 -O2 -I model/kernels model/kernels/*.c "$root/tests/firmware/random_layers_main.c" -o layers
./layers > layers.txt
[ "$(wc -l < layers.txt)" -ge 100 ] || fail "only $(wc -l < layers.txt) random layers ran on the host"
[ "$(cut -d' ' -f3 layers.txt | sort -u | wc -l)" -ge 100 ] || fail "the random layers' outputs barely differ"
for core in "${cores[@]}"; do
  read -r name machine flags <<< "$core"
  # shellcheck disable=SC2086
  build "$name-layers" "$root/tests/firmware/random_layers_main.c" $flags
  run "$name-layers" "$machine" || fail "$name: the random layers failed in QEMU"
  cmp -s layers.txt "$name-layers.txt" ||
    fail "$name: random layers differ from the host's: $(diff layers.txt "$name-layers.txt" | head -4)"
  echo "ok: $name gives the host's bits on $(wc -l < layers.txt) random layers"
done

# The plugin's timing classes on known sequences: per segment, instructions (the marker that opens it included),
# then load, load right after a load, store, load/store multiple, their registers, multiply, divide, branch, taken.
build classes "$root/tests/firmware/timing_classes_main.c" -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
run classes mps2-an386 classes.counts || fail "the timing-class firmware failed in QEMU"
awk '/^mark / { if ($2 > 0) { line = ""; for (i = 3; i <= NF; ++i) line = line " " ($i - last[i]); print substr(line, 2) }
  for (i = 3; i <= NF; ++i) last[i] = $i }' classes.counts > classes.txt
printf '%s\n' "5 4 3 0 0 0 0 0 0 0" "3 0 0 2 0 0 0 0 0 0" "3 0 0 0 2 8 0 0 0 0" "22 0 0 0 0 0 0 0 10 9" \
  "4 0 0 0 0 0 2 1 0 0" "2 0 0 0 1 2 0 0 0 0" > classes.expected
cmp -s classes.expected classes.txt ||
  fail "the plugin's timing classes differ from the known sequences': $(diff classes.expected classes.txt | head -6)"
echo "ok: the plugin counts loads, stores, load/store multiple, multiplies, divides and taken branches exactly"

echo 'int main(void) { return 1; }' > failing.c
arm-none-eabi-gcc -std=c99 -O2 -mcpu=cortex-m4 -mthumb -nostartfiles -T "$firmware/mps2.ld" -L "$firmware" \
  --specs=nano.specs \
  -I "$firmware" "$firmware/startup.c" "$firmware/semihosting.c" failing.c -o failing.elf
rc=0
run failing mps2-an386 || rc=$?
[ "$rc" -ne 0 ] || fail "a firmware whose main returns 1 left QEMU with status 0"
echo "ok: a failing firmware ends QEMU with status $rc"
echo "all firmware checks passed"
