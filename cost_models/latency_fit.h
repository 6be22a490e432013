// Fitting a kernel path's latency coefficients to measured instruction counts (nas calibrate): non-negative least
// squares on the relative error, so a 200-instruction call weighs as much as a 2-million one and every
// coefficient stays a cost (a negative one could price some network below zero). With at most twelve terms the
// exact solution is found by trying every subset of terms that keeps per_call (a call always costs something):
// unconstrained least squares on the subset, kept when all its coefficients are >= 0, the smallest residual wins.
#pragma once

#include <array>
#include <vector>

#include "cost_models/op_graph.h"
#include "cost_models/target.h"

namespace nas::cost_models {

using LatencyQuantities = std::array<double, kLatencyTermNames.size()>;

// The quantities of one call in kLatencyTermNames order (per_call's quantity is 1).
LatencyQuantities latency_quantities(const OpInfo<double>& op);

struct FitSample {
  LatencyQuantities x;
  double measured = 0;  // instructions
};

struct LatencyFit {
  LatencyCoefficients coefficients;  // instructions per unit
  int32_t samples = 0;
  double max_error = 0;        // largest |estimate − measured| / measured
  double mean_error = 0;       // mean of the same
  double within_10 = 0;        // share of samples within ±10 %
};

// Throws nas::Error (failure) without samples or when no subset of terms can be fitted.
LatencyFit fit_latency(const std::vector<FitSample>& samples);

// Σ coefficient · quantity.
double predict(const LatencyCoefficients& c, const LatencyQuantities& x);

}  // namespace nas::cost_models
