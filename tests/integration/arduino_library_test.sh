#!/usr/bin/env bash
# `nas export --format arduino` through the real binary: a short search gives run 1; its Arduino library and zip are
# written; every src/*.c compiles with arm-none-eabi-gcc under the flags of the Arduino mbed_nano core (Nano 33 BLE)
# plus -Wall -Wextra -Werror, and the example sketch compiles as C++ against a stand-in Arduino.h written here (the
# real core is not installed: this checks our files, not the core). Nothing is linked for the board; on the host
# the sketch runs once and must print the class the exporter computed. Two exports give the same zip bytes; --json
# lists every file; a bad --name is refused on one line with exit status 2.
#
#   bash tests/integration/arduino_library_test.sh BUILD/nas
set -euo pipefail
nas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mcunas-arduino.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/integration/small_search.sh
source "$root/tests/integration/small_search.sh"
for tool in arm-none-eabi-gcc arm-none-eabi-g++; do
  command -v "$tool" > /dev/null ||
    fail "$tool is missing: apt-get install --no-install-recommends gcc-arm-none-eabi (scripts/setup.sh does)"
done
cd "$work"

small_search "$nas" 4
"$nas" export 1 --format arduino --out lib --db runs.db --threads 1 > export.txt 2> export.log ||
  fail "nas export --format arduino failed: $(tail -2 export.log)"
name=mcunas_run1
for file in library.properties "src/$name.h" src/model.h src/model.c src/mcunas_kernels.h \
  "examples/$name/$name.ino"; do
  [ -s "lib/$name/$file" ] || fail "lib/$name/$file is missing or empty"
done
[ -s "lib/$name.zip" ] || fail "lib/$name.zip is missing or empty"
grep -qx "architectures=mbed,mbed_nano" "lib/$name/library.properties" || fail "library.properties: no mbed cores"
echo "ok: $(head -1 export.txt)"

# The Arduino mbed_nano core's flags for the Nano 33 BLE (platform.txt and variants/ARDUINO_NANO33BLE of
# ArduinoCore-mbed), with warnings as errors on top: the Arduino IDE hides warnings by default, we do not.
core=(-mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections
  -DARDUINO=10819 -DARDUINO_ARDUINO_NANO33BLE -DARDUINO_ARCH_MBED_NANO -DARDUINO_ARCH_MBED -Wall -Wextra -Werror)
mkdir objects
count=0
for source in "lib/$name"/src/*.c; do
  object="objects/$(basename "$source" .c).o"
  arm-none-eabi-gcc -c -std=gnu11 "${core[@]}" -I "lib/$name/src" "$source" -o "$object" 2> cc.log ||
    fail "arm-none-eabi-gcc rejects $source: $(head -5 cc.log)"
  [ -s "$object" ] || fail "no object for $source"
  count=$((count + 1))
done
[ "$count" -ge 6 ] || fail "only $count C files in src/"
echo "ok: $count files of src/ compile for the Nano 33 BLE with -Wall -Wextra -Werror"

# The stand-in core: just what an example sketch may call (Print's overloads for the types the sketch prints), with
# stdout as the serial port, so the same sketch also runs on the host below.
mkdir core
cat > core/Arduino.h <<'CPP'
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
class StandInSerial {
 public:
  void begin(unsigned long baud) { (void)baud; }
  explicit operator bool() const { return true; }
  size_t print(const char *text) { return (size_t)printf("%s", text); }
  size_t print(int value) { return (size_t)printf("%d", value); }
  size_t print(unsigned long value) { return (size_t)printf("%lu", value); }
  size_t println(const char *text) { return (size_t)printf("%s\n", text); }
};
static StandInSerial Serial;
inline unsigned long micros(void) { return 0; }
inline unsigned long millis(void) { return 0; }
inline void delay(unsigned long ms) { (void)ms; }
CPP
sketch="lib/$name/examples/$name/$name.ino"
arm-none-eabi-g++ -c -x c++ -std=gnu++14 -fno-exceptions -fno-rtti "${core[@]}" -I core -I "lib/$name/src" "$sketch" \
  -o objects/sketch.o 2> cxx.log || fail "the example sketch does not compile as C++: $(head -5 cxx.log)"
[ -s objects/sketch.o ] || fail "no object for the example sketch"
echo "ok: the example sketch compiles as C++ (gnu++14) against a stand-in Arduino.h"

# The same sketch on the host, setup() and one loop(): the class the library's C computes for the embedded image is
# the class the exporter's int8 executor computed (the sketch prints both).
echo 'void setup(); void loop(); int main() { setup(); loop(); return 0; }' > host_main.cpp
for source in "lib/$name"/src/*.c; do cc -std=gnu11 -O1 -c "$source" -o "host_$(basename "$source" .c).o"; done
c++ -std=gnu++14 -x c++ -I core -I "lib/$name/src" "$sketch" -x none host_main.cpp host_*.o -o sketch_host
./sketch_host > sketch.txt
line="$(grep '^predicted class' sketch.txt)" || fail "the sketch printed no prediction: $(cat sketch.txt)"
predicted="$(sed -E 's/^predicted class ([0-9]+),.*/\1/' <<< "$line")"
check "the sketch's class on the host is the executor's" "$(sed -E 's/.*\(host: ([0-9]+)\).*/\1/' <<< "$line")" \
  "$predicted"

"$nas" export 1 --format arduino --out again --db runs.db --threads 1 --json > export.json 2> /dev/null ||
  fail "the second export failed"
cmp -s "lib/$name.zip" "again/$name.zip" || fail "two exports of run 1 give different zips"
echo "ok: two exports give the same zip bytes"
files="$(find "lib/$name" -type f | wc -l)"
check "--json lists every file and the zip" $((files + 1)) "$(grep -c "\"${name}[/.]" export.json)"

rc=0
"$nas" export 1 --format arduino --name 'bad-name' --out bad --db runs.db > /dev/null 2> err.txt || rc=$?
check "--name bad-name: exit status" 2 "$rc"
check "--name bad-name: one line on stderr" 1 "$(wc -l < err.txt)"
grep -q -- "--name" err.txt || fail "the refusal does not name --name: $(cat err.txt)"
[ ! -e bad ] || fail "a refused export created its directory"
"$nas" export 1 --format arduino --name KeywordSpotter --out named --db runs.db --threads 1 > /dev/null 2>&1 ||
  fail "export with --name failed"
for file in KeywordSpotter/src/KeywordSpotter.h KeywordSpotter/examples/KeywordSpotter/KeywordSpotter.ino \
  KeywordSpotter.zip; do
  [ -s "named/$file" ] || fail "--name KeywordSpotter did not write named/$file"
done
echo "ok: --name names the library and refuses what is not a name"
echo "all Arduino library checks passed"
