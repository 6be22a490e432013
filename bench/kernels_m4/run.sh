#!/usr/bin/env bash
# Instructions per MAC of the int8 kernels on the emulated Cortex-M4 (QEMU mps2-an386), portable path against DSP
# path, for the reference layers in layers_main.c, counted exactly by our QEMU plugin. The peer figures come from
# DESIGN.md (measured on the same emulator): CMSIS-NN 2.33 instructions/MAC on the 3x3 layer, a plain C loop 6.65
# at -O2, and SMLAD's floor of 0.5. Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm
# (scripts/setup.sh) and a build (scripts/build.sh) for the plugin.
#   bash bench/kernels_m4/run.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
plugin="${1:-$root/build}/deploy/libmcunas_qemu_icount.so"
[ -f "$plugin" ] || { echo "kernels_m4: no $plugin; run scripts/build.sh first" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
firmware="$root/deploy/firmware"
kernels="$root/deploy/kernels"

count() {  # name, extra flags: builds, runs, prints the instruction counts between consecutive marks
  local name="$1"
  shift
  arm-none-eabi-gcc -std=c99 -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 "$@" \
    -ffunction-sections -fdata-sections -nostartfiles -T "$firmware/mps2.ld" -L "$firmware" -Wl,--gc-sections \
    --specs=nano.specs \
    -I "$kernels" -I "$firmware" "$firmware/startup.c" "$firmware/semihosting.c" "$kernels"/*.c \
    "$here/layers_main.c" -o "$work/$name.elf"
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -semihosting \
    -plugin "$plugin,out=$work/$name.counts" -kernel "$work/$name.elf" > /dev/null
  awk '/^mark / { if ($2 > 0) printf "%d ", $3 - last; last = $3 }' "$work/$name.counts"
}
read -r -a portable <<< "$(count portable -DMCUNAS_PORTABLE_KERNELS)"
read -r -a dsp <<< "$(count dsp)"
names=("conv 3x3 16x16x16->16 pad 1" "conv 1x1 16x16x16->16" "depthwise 3x3 16x16x16 pad 1" "fully connected 1024->16"
  "conv 1x1 16x16x8->16" "conv 3x3 28x28x1->12 pad 1" "conv 3x3 32x32x3->16 pad 1" "depthwise 5x5 16x16x16 pad 2"
  "depthwise 5x5 16x16x16 s2 pad 2" "conv 5x5 28x28x1->16 pad 2" "fully connected 1024->16 (conv)")
macs=(589824 65536 36864 16384 32768 84672 442368 102400 25600 313600 16384)
printf '%-31s %10s %14s %14s %9s\n' layer MACs "portable i/MAC" "DSP i/MAC" "speed-up"
for i in 0 1 2 3 4 5 6 7 8 9 10; do
  awk -v n="${names[$i]}" -v m="${macs[$i]}" -v p="${portable[$i]}" -v d="${dsp[$i]}" \
    'BEGIN { printf "%-31s %10d %14.2f %14.2f %8.2fx\n", n, m, (p - 1) / m, (d - 1) / m, p / d }'
done
# The last two marks: 1,024 requantisations each, the fast form (DSP path only; the portable build runs the same C)
# and the exact one, each with its load of the sum and store of the byte.
awk -v f="${dsp[11]}" -v e="${dsp[12]}" 'BEGIN {
  printf "requantisation per output on the DSP build (load and store included): fast %.1f, exact %.1f instructions\n",
    (f - 1) / 1024, (e - 1) / 1024 }'
echo "peers on the 3x3 layer: CMSIS-NN 2.33, plain C loop at -O2 6.65, SMLAD floor 0.5 instructions/MAC (DESIGN.md)"
names=("depthwise 3x3 25x5x16 pad 1" "depthwise 3x3 6x6x16 pad 1" "depthwise 3x3 12x12x16 s2")
macs=(18000 5184 5184)
echo "the depthwise layers of MLPerf Tiny's small maps (DS-CNN 25x5, MobileNetV1 6x6 and 12x12 at stride 2):"
for i in 0 1 2; do
  awk -v n="${names[$i]}" -v m="${macs[$i]}" -v p="${portable[$((i + 13))]}" -v d="${dsp[$((i + 13))]}" \
    'BEGIN { printf "%-31s %10d %14.2f %14.2f %8.2fx\n", n, m, (p - 1) / m, (d - 1) / m, p / d }'
done
awk -v p="${portable[16]}" -v d="${dsp[16]}" 'BEGIN {
  printf "add 16x16x16 (TFLite int8 ADD)   %10d %14.2f %14.2f %8.2fx   (instructions per element)\n", 4096,
    (p - 1) / 4096, (d - 1) / 4096, p / d }'
awk -v d="${dsp[0]}" 'BEGIN { printf "ratio to CMSIS-NN: %.2fx\nconv3x3_instr_per_mac=%.2f\n", (d - 1) / 589824 / 2.33, (d - 1) / 589824 }'
