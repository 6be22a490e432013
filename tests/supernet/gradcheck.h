// The one gradient-check harness every layer and the loss plug into.
//
// The scalar under test is L = Σ r ⊙ layer(x) with a fixed random projection r, accumulated in double. Every
// input element and every trainable parameter (or a seeded sample of at most `max_checks` of each) is perturbed
// by ±h and the central difference (L(+h) − L(−h)) / 2h, computed in double, is compared with the analytic
// gradient the layer's backward pass produced for grad_output = r.
//
// Error measure: ‖analytic − numeric‖₂ / max(‖analytic‖₂ + ‖numeric‖₂, 1e-8) over all checked elements, and the
// largest single |analytic − numeric|. The layers compute in float32, so rounding in L (≈1e-7 relative) divided by
// 2h bounds what is reachable; with h = 1e-2 the stated bound kRelativeBound = 2e-3 leaves a margin of ten over the
// errors we measure, and a wrong gradient (a missing term, a transposed index) gives errors of order 1.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "supernet/layer.h"

namespace nas::supernet::testing {

inline constexpr double kRelativeBound = 2e-3;

struct GradCheckOptions {
  double h = 1e-2;
  int32_t max_checks = 400;  // per tensor; sampled with a fixed seed
  uint64_t seed = 7;
  // Maps a standard-normal draw to an input value, e.g. to keep ReLU inputs away from the kink at 0.
  std::function<float(float draw, int64_t index)> input_value;
};

struct GradCheckReport {
  double relative_error = 0;   // over every checked element of every tensor
  double max_abs_error = 0;
  int64_t checked = 0;
  std::string worst;           // where the largest error is, for the failure message
};

// Runs a layer's set-up as the network does: shapes, parameter declaration, allocation, binding and seeded
// initialisation. The returned store owns the parameters the layer now points into; keep it alive.
ParamStore prepare_layer(Layer& layer, const std::vector<Shape>& input_shapes, uint64_t seed);

// The core every check uses: compares `analytic` (dL/dvalues) with central differences of `loss()`, which must
// read `values`. Accumulates into `report` so several tensors share one error measure; call finish() at the end.
class GradientComparison {
 public:
  explicit GradientComparison(GradCheckOptions options) : options_(std::move(options)) {}
  void check(std::span<float> values, std::span<const float> analytic, const std::function<double()>& loss,
             const std::string& label);
  GradCheckReport finish() const;

 private:
  GradCheckOptions options_;
  uint64_t sample_seed_ = 0;
  double diff_sq_ = 0, analytic_sq_ = 0, numeric_sq_ = 0;
  GradCheckReport report_;
};

// Prepares the layer (shapes, parameters, seeded initialisation with parameters jittered so that BatchNorm's γ
// and β are not trivially 1 and 0), then checks input and parameter gradients.
GradCheckReport gradcheck(Layer& layer, const std::vector<Shape>& input_shapes, const GradCheckOptions& options = {});

}  // namespace nas::supernet::testing
