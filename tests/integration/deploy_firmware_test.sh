#!/usr/bin/env bash
# nas deploy, end to end with the real tools: a small searched network becomes the Nano 33 BLE image (.elf, .hex,
# .bin linked for the sketch flash at 0x10000) and, with --run-qemu, a check firmware that runs 8 test images on
# the target's QEMU stand-in (mps2-an386) and compares every output byte with the host executor's. Checks that the
# printed and stored flash and RAM are arm-none-eabi-size's, that the image fits the board, that the deployments
# and per-layer instruction counts are in SQLite, that the check firmware really fails on one changed byte, and
# that a missing cross compiler or QEMU is refused with the package to install, before anything is written.
#
#   bash tests/integration/deploy_firmware_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-deploy.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
require_tools arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm sqlite3:sqlite3 jq:jq
cd "$work"
small_search "$nas" 2

"$nas" deploy 1 --target nano33 --out fw --run-qemu --images 8 --db runs.db --threads 1 > deploy.txt 2> deploy.err ||
  fail "nas deploy failed: $(tail -3 deploy.err)"
cat deploy.txt
for f in board/nano33.elf board/nano33.hex board/nano33.bin board/build.sh qemu/nano33-check.elf qemu/run.sh \
  model/model.c firmware/startup.c; do
  [ -s "fw/$f" ] || fail "fw/$f is missing"
done
[ -z "$(find fw -name '.nas-deploy-partial-*')" ] || fail "a staging folder was left in fw/"

read -r text data bss _ < <(arm-none-eabi-size -B fw/board/nano33.elf | tail -1)
flash=$((text + data)) ram=$((data + bss))
check "stored board flash = arm-none-eabi-size text + data" "$flash" \
  "$(sqlite3 runs.db "SELECT flash_bytes FROM deployments WHERE kind = 'board'")"
check "stored board RAM = arm-none-eabi-size data + bss" "$ram" \
  "$(sqlite3 runs.db "SELECT ram_bytes FROM deployments WHERE kind = 'board'")"
printed_flash="$(awk '$1 == "flash" { gsub(",", "", $2); print $2 }' deploy.txt)"
printed_ram="$(awk '$1 == "RAM" { gsub(",", "", $2); print $2 }' deploy.txt)"
check "printed flash" "$flash" "$printed_flash"
check "printed RAM" "$ram" "$printed_ram"
[ "$flash" -le 983040 ] && [ "$ram" -le 262144 ] || fail "the image does not fit the Nano 33 BLE ($flash B, $ram B)"
echo "ok: the image fits the board ($flash of 983040 B flash, $ram of 262144 B RAM)"
# Intel HEX: an extended linear address record for 0x0000 and data from 0x10000 on (the sketch's flash).
start="$(arm-none-eabi-objdump -h fw/board/nano33.elf | awk '$2 == ".isr_vector" { print $5 }')"
check "vector table at the start of the sketch flash" "00010000" "$start"
check "binary image size = flash" "$flash" "$(stat -c %s fw/board/nano33.bin)"

check "QEMU check stored" "8|0" \
  "$(sqlite3 runs.db "SELECT images, differing_images FROM deployments WHERE kind = 'qemu'")"
layers="$(grep -c 'MCUNAS_LAYER_MARK();' fw/model/model.c)"
check "one stored count per layer" "$((layers - 1))" "$(sqlite3 runs.db \
  "SELECT count(*) FROM deployment_layers l JOIN deployments d ON d.id = l.deployment_id WHERE d.kind = 'qemu'")"
check "layer counts add up to the inference" "1" "$(sqlite3 runs.db "SELECT abs(d.instructions_per_inference - \
  (SELECT sum(instructions) FROM deployment_layers WHERE deployment_id = d.id)) < 0.5 FROM deployments d \
  WHERE d.kind = 'qemu'")"
check "every layer ran instructions" "0" "$(sqlite3 runs.db "SELECT count(*) FROM deployment_layers \
  WHERE instructions <= 0")"
check "console says every image is bit-exact" "8" "$(grep -c 'bit-exact' fw/qemu/console.txt)"
stored="$(sqlite3 runs.db "SELECT measured_latency_s FROM deployments WHERE kind = 'qemu'")"
plotted="$("$nas" pareto --measured --json --db runs.db |
  jq -r '.candidates[] | select(.run_id == 1) | .costs.latency')"
check "nas pareto --measured places run 1 at its measured latency" same \
  "$(awk -v a="$stored" -v b="$plotted" 'BEGIN { d = a - b; print (d < 1e-12 && d > -1e-12) ? "same" : a " vs " b }')"
check "nas show lists both deployments" "2" "$("$nas" show 1 --db runs.db | grep -cE '^ +[0-9]+  (board|qemu) ')"

# nas profile: the calibrated model against the QEMU count (deterministic, so the bounds of docs/latency-model.md
# are asserted), RAM estimate = arena, flash estimate against the measured share, a measured stack.
"$nas" profile 1 --target nano33 --images 2 --json --db runs.db > profile.json 2> profile.err ||
  fail "nas profile failed: $(tail -2 profile.err)"
check "profile: whole network within 10 %" true "$(jq '.whole_network_error | fabs <= 0.10' profile.json)"
check "profile: every layer within 20 %" true "$(jq '.worst_layer_error <= 0.20' profile.json)"
check "profile: RAM estimate is the arena" true "$(jq '.estimated_ram_bytes == .arena_bytes' profile.json)"
check "profile: flash estimate within 2 % of the model's share" true \
  "$(jq '(.estimated_flash_bytes / .model_flash_bytes - 1) | fabs <= 0.02' profile.json)"
check "profile: stack measured" true "$(jq '.stack_bytes > 0 and .stack_bytes < 65536' profile.json)"
check "profile: stored with its layers" "$(jq '.layers | length' profile.json)" \
  "$(sqlite3 runs.db "SELECT count(*) FROM deployment_layers WHERE deployment_id = $(jq .id profile.json)")"

# The check can fail: one expected byte changed, rebuilt with the recorded command, QEMU exits non-zero.
sed -i '0,/^static const int8_t mcunas_check_expected/{n;n;s/ \(-\?[0-9]\+\),/ 99\1,/}' fw/qemu/check_data.h
sh fw/qemu/build.sh > /dev/null 2>&1 || fail "fw/qemu/build.sh does not rebuild the check firmware"
rc=0
sh fw/qemu/run.sh > /dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a changed expected byte left QEMU with status 0"
grep -q DIFFERS fw/qemu/console.txt || fail "the console does not name the differing image"
echo "ok: one changed byte fails the check in QEMU (status $rc)"

# JSON, and a target without an image layout but with --run-qemu (rp2040: Cortex-M0+ code on the M3 stand-in).
"$nas" deploy 1 --target rp2040 --out fw-rp --run-qemu --images 2 --db runs.db --threads 1 --json > rp.json \
  2> rp.err || fail "nas deploy --target rp2040 --run-qemu failed: $(tail -2 rp.err)"
grep -q '"machine": "mps2-an385"' rp.json || fail "the rp2040 check did not run on mps2-an385"
rc=0
"$nas" deploy 1 --target rp2040 --out fw-rp2 --db runs.db > /dev/null 2> rp2.err || rc=$?
check "rp2040 without --run-qemu: exit status" 2 "$rc"
grep -q "no image: layout" rp2.err || fail "rp2040 without --run-qemu: unclear message: $(cat rp2.err)"

# Missing tools: one line naming the package, exit 2, no output folder, the database unchanged.
before="$(sqlite3 runs.db 'SELECT count(*) FROM deployments')"
mkdir -p nocross
for tool in qemu-system-arm sh timeout; do ln -sf "$(command -v "$tool")" nocross/; done
rc=0
PATH="$work/nocross" "$nas" deploy 1 --target nano33 --out fw-missing --db runs.db > /dev/null 2> missing.err || rc=$?
check "missing cross compiler: exit status" 2 "$rc"
check "missing cross compiler: one line" 1 "$(wc -l < missing.err)"
grep -q "gcc-arm-none-eabi" missing.err || fail "missing cross compiler: no package named: $(cat missing.err)"
[ ! -e fw-missing ] || fail "missing cross compiler: fw-missing was created"
mkdir -p noqemu
for tool in arm-none-eabi-gcc arm-none-eabi-objcopy arm-none-eabi-size sh timeout; do
  ln -sf "$(command -v "$tool")" noqemu/
done
rc=0
PATH="$work/noqemu" "$nas" deploy 1 --target nano33 --out fw-noqemu --run-qemu --db runs.db > /dev/null \
  2> noqemu.err || rc=$?
check "missing QEMU: exit status" 2 "$rc"
grep -q "qemu-system-arm" noqemu.err || fail "missing QEMU: no package named: $(cat noqemu.err)"
[ ! -e fw-noqemu ] || fail "missing QEMU: fw-noqemu was created"
# A cross compiler without newlib (gcc prints the bare name when it finds no nano.specs), and one that cannot
# compile (its cc1 missing, as a broken install leaves it): stand-ins that pass everything else to the real one.
real_gcc="$(command -v arm-none-eabi-gcc)"
for kind in nonewlib brokengcc; do
  mkdir -p "$kind"
  for tool in arm-none-eabi-objcopy arm-none-eabi-size qemu-system-arm sh timeout; do
    ln -sf "$(command -v "$tool")" "$kind/"
  done
done
printf '#!/bin/sh\n[ "$1" = -print-file-name=nano.specs ] && { echo nano.specs; exit 0; }\nexec %s "$@"\n' "$real_gcc" \
  > nonewlib/arm-none-eabi-gcc
printf '#!/bin/sh\ncase "$1" in --version|-print-file-name=*) exec %s "$@" ;; esac\n%s\nexit 1\n' "$real_gcc" \
  "echo \"arm-none-eabi-gcc: fatal error: cannot execute 'cc1': execvp: No such file or directory\" >&2" \
  > brokengcc/arm-none-eabi-gcc
chmod +x nonewlib/arm-none-eabi-gcc brokengcc/arm-none-eabi-gcc
rc=0
PATH="$work/nonewlib" "$nas" deploy 1 --target nano33 --out fw-nonewlib --db runs.db > /dev/null 2> nonewlib.err ||
  rc=$?
check "cross compiler without newlib: exit status" 2 "$rc"
check "cross compiler without newlib: the message" "nas: arm-none-eabi-gcc: has no newlib (nano.specs not found): \
install it with apt-get install --no-install-recommends libnewlib-arm-none-eabi (scripts/setup.sh does)" \
  "$(cat nonewlib.err)"
[ ! -e fw-nonewlib ] || fail "cross compiler without newlib: fw-nonewlib was created"
rc=0
PATH="$work/brokengcc" "$nas" deploy 1 --target nano33 --out fw-broken --db runs.db > /dev/null 2> broken.err || rc=$?
check "a cross compiler that cannot compile: exit status" 1 "$rc"
# (its progress lines come first: the failure is the last line)
tail -1 broken.err | grep -qF "arm-none-eabi-gcc exited with status 1: arm-none-eabi-gcc: fatal error: cannot execute 'cc1'" ||
  fail "a cross compiler that cannot compile: $(cat broken.err)"
check "a cross compiler that cannot compile: nothing published into --out" "" "$(ls -A fw-broken)"
check "the database is unchanged by refusals" "$before" "$(sqlite3 runs.db 'SELECT count(*) FROM deployments')"

# QEMU runs that go wrong, through stand-ins for qemu-system-arm (the real one does not fail on demand): one that
# runs the real QEMU and then reports a differing image on the console, one whose console ends early (the firmware
# stopped), one that cannot be started (status 127, as the loader gives when a library is missing) and one stopped
# by the 600 s limit (status 124, as timeout(1) gives). Each ends with exit status 1 and the message on stderr's
# last line.
real_qemu="$(command -v qemu-system-arm)"
for kind in differ stopped dead hung; do
  mkdir -p "qemu_$kind"
  for tool in arm-none-eabi-gcc arm-none-eabi-objcopy arm-none-eabi-size sh timeout sed head mv; do
    ln -sf "$(command -v "$tool")" "qemu_$kind/"
  done
done
# The console file is the argument after "-chardev": file,id=console,path=<file>.
console_of='for a in "$@"; do case "$a" in file,id=console,path=*) console="${a#file,id=console,path=}" ;; esac; done'
cat > qemu_differ/qemu-system-arm <<EOF
#!/bin/sh
$console_of
$real_qemu "\$@" || exit \$?
sed -i '0,/ bit-exact/s// DIFFERS from the host/' "\$console"
EOF
cat > qemu_stopped/qemu-system-arm <<EOF
#!/bin/sh
$console_of
$real_qemu "\$@" || exit \$?
head -n 1 "\$console" > "\$console.part" && mv "\$console.part" "\$console"
EOF
# (both answer --version, which the tool check asks first)
for status in dead:127 hung:124; do
  printf '#!/bin/sh\n[ "$1" = --version ] && exec %s --version\nexit %s\n' "$real_qemu" "${status#*:}" \
    > "qemu_${status%%:*}/qemu-system-arm"
done
chmod +x qemu_*/qemu-system-arm
qemu_fails() {  # description, stand-in kind, expected last line of stderr (an extended regex), nas arguments...
  local what="$1" kind="$2" expected="$3" rc=0
  shift 3
  PATH="$work/qemu_$kind" "$nas" "$@" > /dev/null 2> "qemu_$kind.err" || rc=$?
  check "$what: exit status" 1 "$rc"
  tail -1 "qemu_$kind.err" | grep -qxE "$expected" || fail "$what: the message: $(cat "qemu_$kind.err")"
}
qemu_fails "a QEMU run whose image differs" differ \
  "nas: --run-qemu: 1 of 2 images differ from the host in QEMU \(see fw-differ/qemu/console.txt\)" \
  deploy 1 --target nano33 --out fw-differ --run-qemu --images 2 --db runs.db --threads 1
qemu_fails "nas profile with an image that differs" differ "nas: nas profile: 1 of 2 images differ from the host in QEMU" \
  profile 1 --target nano33 --images 2 --db runs.db
qemu_fails "a firmware that stops early" stopped "nas: QEMU check: the firmware stopped before the end; its console \
ended with: 'image 0: class [0-9]+ label [0-9]+ bit-exact'" \
  deploy 1 --target nano33 --out fw-stopped --run-qemu --images 2 --db runs.db --threads 1
qemu_fails "a QEMU that cannot start" dead "nas: qemu-system-arm: could not be started" \
  deploy 1 --target nano33 --out fw-dead --run-qemu --images 2 --db runs.db --threads 1
qemu_fails "a QEMU run past the limit" hung "nas: qemu-system-arm: ran past 600 s; stopped" \
  deploy 1 --target nano33 --out fw-hung --run-qemu --images 2 --db runs.db --threads 1
echo "all deploy checks passed"
