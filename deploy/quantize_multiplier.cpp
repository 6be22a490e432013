#include "deploy/quantize_multiplier.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace nas::deploy {

FixedPointScale quantize_multiplier(double scale) {
  if (!std::isfinite(scale) || scale < 0)
    throw Error("quantize_multiplier", "scale must be finite and non-negative (got " + std::to_string(scale) + ")");
  if (scale == 0) return {};
  int exponent = 0;
  const double mantissa = std::frexp(scale, &exponent);  // scale = mantissa * 2^exponent, mantissa in [0.5, 1)
  // std::round rounds half away from zero, as TFLite's TfLiteRound.
  auto q = static_cast<int64_t>(std::round(mantissa * static_cast<double>(int64_t{1} << 31)));
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  if (exponent < -31) return {};  // below 2^-31 the shift leaves nothing
  return {static_cast<int32_t>(q), exponent};
}

AddScales add_scales(double input1_scale, double input2_scale, double output_scale) {
  AddScales s;
  const double twice_max = 2 * std::max(input1_scale, input2_scale);
  s.input1 = quantize_multiplier(input1_scale / twice_max);
  s.input2 = quantize_multiplier(input2_scale / twice_max);
  s.output = quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << s.left_shift) * output_scale));
  return s;
}

}  // namespace nas::deploy
