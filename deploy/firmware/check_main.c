/* The firmware of `nas deploy --run-qemu`: runs the model on the test images embedded in check_data.h and compares
 * every output byte with what the host executor computed for the same image (also in check_data.h). One line per
 * image goes to the host through semihosting; main returns 1 when any byte differs, so QEMU exits non-zero. */
#include <stdint.h>
#include <string.h>

#include "check_data.h"
#include "model.h"
#include "semihosting.h"
#include "stack_use.h"

/* Appends the decimal digits of v (>= 0) at p; returns the new end. */
static char *put_number(char *p, int32_t v) {
  char digits[12];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

static char *put_text(char *p, const char *text) {
  while (*text) *p++ = *text++;
  return p;
}

static int32_t argmax(const int8_t *v, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

int main(void) {
  static int8_t output[MCUNAS_OUTPUT_SIZE];
  int32_t differing = 0;
  char line[96];
  for (int32_t i = 0; i < MCUNAS_CHECK_IMAGES; ++i) {
    if (mcunas_invoke(mcunas_check_inputs[i], output) != 0) return 1;
    const int same = memcmp(output, mcunas_check_expected[i], MCUNAS_OUTPUT_SIZE) == 0;
    differing += !same;
    char *p = put_text(line, "image ");
    p = put_number(p, i);
    p = put_text(p, ": class ");
    p = put_number(p, argmax(output, MCUNAS_OUTPUT_SIZE));
    p = put_text(p, " label ");
    p = put_number(p, mcunas_check_labels[i]);
    p = put_text(p, same ? " bit-exact\n" : " DIFFERS from the host\n");
    *p = '\0';
    mcunas_semihosting_write(line);
  }
  char *p = put_text(line, "stack bytes: ");
  p = put_number(p, (int32_t)mcunas_stack_used());
  p = put_text(p, "\ndiffering images: ");
  p = put_number(p, differing);
  p = put_text(p, "\n");
  *p = '\0';
  mcunas_semihosting_write(line);
  return differing == 0 ? 0 : 1;
}
