// A real scale as the kernels take it: multiplier / 2^31 * 2^shift with a Q31 multiplier in [2^30, 2^31)
// (deploy/kernels/requantize.h). This is TFLite's QuantizeMultiplier: frexp, then the mantissa times 2^31 rounded
// half away from zero; a mantissa that rounds up to 2^31 becomes 2^30 with the exponent one higher.
#pragma once

#include <cstdint>

namespace nas::deploy {

struct FixedPointScale {
  int32_t multiplier = 0;  // 0 only for a zero scale
  int32_t shift = 0;       // > 0: left shift
};

// Throws nas::Error for a negative or non-finite scale. Scales below 2^-31 (nothing survives the shift) become
// {0, 0}, as in TFLite.
FixedPointScale quantize_multiplier(double scale);

// The scales of TFLite's int8 ADD: both inputs brought to twice the larger input scale after a left shift of 20
// bits, then to the output scale. Used for residual adds.
struct AddScales {
  FixedPointScale input1, input2, output;
  int32_t left_shift = 20;
};
AddScales add_scales(double input1_scale, double input2_scale, double output_scale);

}  // namespace nas::deploy
