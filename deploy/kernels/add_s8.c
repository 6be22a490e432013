/* Element-wise add of two int8 tensors with different quantisations, TFLite's int8 ADD: both inputs are brought to
 * a common scale (shifted up by left_shift for precision, then each requantised), added, and requantised to the
 * output (mcunas_kernels.h). */
#include "mcunas_kernels.h"
#include "requantize.h"

void mcunas_add_s8(const mcunas_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2,
                   int8_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v1 = ((int32_t)input1[i] + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = ((int32_t)input2[i] + p->input2_offset) * (1 << p->left_shift);
    const int32_t sum = mcunas_requantize(v1, p->input1_multiplier, p->input1_shift) +
                        mcunas_requantize(v2, p->input2_multiplier, p->input2_shift);
    output[i] = mcunas_requantize_to_s8(sum, p->output_multiplier, p->output_shift, p->output_offset, p->act_min,
                                        p->act_max);
  }
}

int32_t mcunas_add_s8_scratch_bytes(int32_t size) {
  (void)size;
  return 0;
}
