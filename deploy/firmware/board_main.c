/* The firmware of `nas deploy` for the board itself: one inference on the test image embedded in sample.h, its class
 * left in mcunas_predicted_class (read it with a debugger: `print mcunas_predicted_class` in GDB over SWD), then
 * the core sleeps (start-up code, MCUNAS_BOARD). No console: a bare-metal image has no USB serial stack; the
 * Arduino library (`nas export --format arduino`) is the way to see the class printed. */
#include <stdint.h>

#include "model.h"
#include "sample.h"

volatile int32_t mcunas_predicted_class = -1;
volatile int32_t mcunas_sample_label = MCUNAS_SAMPLE_LABEL;

int main(void) {
  static int8_t output[MCUNAS_OUTPUT_SIZE];
  if (mcunas_invoke(mcunas_sample, output) != 0) return 1;
  int32_t best = 0;
  for (int32_t i = 1; i < MCUNAS_OUTPUT_SIZE; ++i)
    if (output[i] > output[best]) best = i;
  mcunas_predicted_class = best;
  return 0;
}
