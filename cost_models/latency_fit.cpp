#include "cost_models/latency_fit.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "common/error.h"

namespace nas::cost_models {

namespace {

constexpr size_t kTerms = kLatencyTermNames.size();

// Least squares on the columns in `use` (normal equations, Gaussian elimination with partial pivoting); nullopt
// when they are linearly dependent.
std::optional<std::vector<double>> solve(const std::vector<FitSample>& samples, const std::vector<size_t>& use) {
  const size_t n = use.size();
  std::vector<std::vector<double>> m(n, std::vector<double>(n + 1, 0.0));
  for (const auto& s : samples) {
    const double w = 1.0 / s.measured;  // relative error: each row divided by its measurement
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) m[i][j] += s.x[use[i]] * w * s.x[use[j]] * w;
      m[i][n] += s.x[use[i]] * w;  // the target of a row divided by itself is 1
    }
  }
  double scale = 0;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(m[i][i]));
  for (size_t i = 0; i < n; ++i) {
    size_t pivot = i;
    for (size_t r = i + 1; r < n; ++r)
      if (std::fabs(m[r][i]) > std::fabs(m[pivot][i])) pivot = r;
    if (!(std::fabs(m[pivot][i]) > 1e-12 * scale)) return std::nullopt;  // dependent columns
    std::swap(m[i], m[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == i) continue;
      const double f = m[r][i] / m[i][i];
      for (size_t c = i; c <= n; ++c) m[r][c] -= f * m[i][c];
    }
  }
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = m[i][n] / m[i][i];
  return x;
}

}  // namespace

LatencyQuantities latency_quantities(const OpInfo<double>& op) {
  return {op.executed_macs, op.outputs,    1.0,          op.pixels,     op.patch_values,     op.scalar_patch_values,
          op.window_rows,   op.tail_macs,  op.tail_outputs, op.valid_macs, op.valid_row_outputs,
          op.scalar_taps,   op.plane_sums};
}

double predict(const LatencyCoefficients& c, const LatencyQuantities& x) {
  double sum = 0;
  for (size_t t = 0; t < kTerms; ++t) sum += term(c, t) * x[t];
  return sum;
}

LatencyFit fit_latency(const std::vector<FitSample>& samples) {
  if (samples.empty()) throw Error("latency fit", "no measurements to fit", Error::Kind::failure);
  for (const auto& s : samples)
    if (!(s.measured > 0)) throw Error("latency fit", "a measurement of 0 instructions", Error::Kind::failure);
  std::vector<size_t> present;  // terms some sample has: the others cannot be fitted
  for (size_t t = 0; t < kTerms; ++t)
    for (const auto& s : samples)
      if (s.x[t] != 0) {
        present.push_back(t);
        break;
      }
  // Every subset keeps per_call: a call always costs its call, argument unpacking and set-up, and a fit that let
  // other terms absorb that (rp2040's depthwise did, once the grid grew) would price tiny layers at nearly nothing.
  size_t required = 0;  // the mask bit of per_call among the present terms (every sample has its quantity, 1)
  for (size_t i = 0; i < present.size(); ++i)
    if (std::string_view(kLatencyTermNames[present[i]]) == "per_call") required = size_t{1} << i;
  double best_residual = std::numeric_limits<double>::infinity();
  LatencyCoefficients best;
  for (size_t mask = 1; mask < (size_t{1} << present.size()); ++mask) {
    if ((mask & required) != required) continue;
    std::vector<size_t> use;
    for (size_t i = 0; i < present.size(); ++i)
      if (mask >> i & 1) use.push_back(present[i]);
    const auto x = solve(samples, use);
    if (!x) continue;
    bool negative = false;
    for (const double v : *x) negative = negative || v < 0;
    if (negative) continue;
    LatencyCoefficients c;
    for (size_t i = 0; i < use.size(); ++i) term(c, use[i]) = (*x)[i];
    double residual = 0;
    for (const auto& s : samples) residual += std::pow(predict(c, s.x) / s.measured - 1.0, 2);
    if (residual < best_residual) {
      best_residual = residual;
      best = c;
    }
  }
  if (!std::isfinite(best_residual)) throw Error("latency fit", "no subset of terms fits", Error::Kind::failure);
  LatencyFit fit;
  fit.coefficients = best;
  fit.samples = static_cast<int32_t>(samples.size());
  int32_t within = 0;
  for (const auto& s : samples) {
    const double error = std::fabs(predict(best, s.x) / s.measured - 1.0);
    fit.max_error = std::max(fit.max_error, error);
    fit.mean_error += error / static_cast<double>(samples.size());
    within += error <= 0.10 ? 1 : 0;
  }
  fit.within_10 = static_cast<double>(within) / static_cast<double>(samples.size());
  return fit;
}

}  // namespace nas::cost_models
