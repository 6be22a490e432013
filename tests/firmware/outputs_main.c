/* Runs an exported model (model.h) on 20 deterministic int8 inputs and prints every output byte, one inference per
 * line. Built twice, for the host and for a Cortex-M core in QEMU: the two printouts must be identical, byte for
 * byte (tests/integration/firmware_qemu_test.sh). The inputs come from a fixed linear congruential generator, every
 * tenth one at the extremes -128 / 127, so the firmware needs no data file. */
#include <stdint.h>

#include "model.h"

#ifdef MCUNAS_FIRMWARE
#include "semihosting.h"
static void emit(const char *text) { mcunas_semihosting_write(text); }
#else
#include <stdio.h>
static void emit(const char *text) { fputs(text, stdout); }
#endif

static uint32_t state = 12345u;
static int8_t next_value(int extremes) {
  state = state * 1664525u + 1013904223u;
  if (extremes) return (state >> 31) ? 127 : -128;
  return (int8_t)(state >> 24);
}

int main(void) {
  static int8_t input[MCUNAS_INPUT_SIZE];
  static int8_t output[MCUNAS_OUTPUT_SIZE];
  char line[8 * MCUNAS_OUTPUT_SIZE + 2];
  for (int image = 0; image < 20; ++image) {
    for (int i = 0; i < MCUNAS_INPUT_SIZE; ++i) input[i] = next_value(image % 10 == 9);
    if (mcunas_invoke(input, output) != 0) return 1;
    char *p = line;
    for (int k = 0; k < MCUNAS_OUTPUT_SIZE; ++k) {  /* no printf on the target: decimal by hand */
      int v = output[k];
      if (v < 0) {
        *p++ = '-';
        v = -v;
      }
      char digits[4];
      int n = 0;
      do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
      } while (v > 0);
      while (n > 0) *p++ = digits[--n];
      *p++ = k + 1 < MCUNAS_OUTPUT_SIZE ? ' ' : '\n';
    }
    *p = '\0';
    emit(line);
  }
  return 0;
}
