// Forward-mode automatic differentiation with a dense gradient: a Dual carries a value and its derivative with
// respect to n architecture parameters. The cost formulas are templates over the scalar, so pricing with Dual
// gives the exact same value as with double plus the gradient the search needs (DESIGN.md, "One cost formula,
// two uses"). An empty gradient means "constant" (all zeros), so constants cost no allocation.
#pragma once

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace nas::cost_models {

struct Dual {
  double v = 0;
  std::vector<double> d;  // ∂v/∂x_i; empty = all zero

  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT(google-explicit-constructor): constants mix freely in formulas
  Dual(double value, std::vector<double> grad) : v(value), d(std::move(grad)) {}

  // The i-th of n independent variables, with value `value`.
  static Dual variable(double value, size_t index, size_t n) {
    assert(index < n);
    std::vector<double> grad(n, 0.0);
    grad[index] = 1.0;
    return {value, std::move(grad)};
  }

  // ∂v/∂x_i, zero for a constant.
  double grad(size_t i) const { return i < d.size() ? d[i] : 0.0; }
};

namespace dual_detail {

// a·da + b·db over gradients where either may be empty (zero).
inline std::vector<double> combine(double a, const std::vector<double>& da, double b, const std::vector<double>& db) {
  assert(da.empty() || db.empty() || da.size() == db.size());
  std::vector<double> out(da.size() > db.size() ? da.size() : db.size(), 0.0);
  for (size_t i = 0; i < da.size(); ++i) out[i] += a * da[i];
  for (size_t i = 0; i < db.size(); ++i) out[i] += b * db[i];
  return out;
}

}  // namespace dual_detail

inline Dual operator+(const Dual& a, const Dual& b) { return {a.v + b.v, dual_detail::combine(1, a.d, 1, b.d)}; }
inline Dual operator-(const Dual& a, const Dual& b) { return {a.v - b.v, dual_detail::combine(1, a.d, -1, b.d)}; }
inline Dual operator*(const Dual& a, const Dual& b) { return {a.v * b.v, dual_detail::combine(b.v, a.d, a.v, b.d)}; }
inline Dual operator/(const Dual& a, const Dual& b) {
  // d(a/b) = da/b − a·db/b²
  return {a.v / b.v, dual_detail::combine(1 / b.v, a.d, -a.v / (b.v * b.v), b.d)};
}
inline Dual operator-(const Dual& a) { return {-a.v, dual_detail::combine(-1, a.d, 0, {})}; }

inline Dual& operator+=(Dual& a, const Dual& b) { return a = a + b; }
inline Dual& operator-=(Dual& a, const Dual& b) { return a = a - b; }
inline Dual& operator*=(Dual& a, const Dual& b) { return a = a * b; }
inline Dual& operator/=(Dual& a, const Dual& b) { return a = a / b; }

// Comparisons look at values only (a sub-gradient choice is made by max below).
inline bool operator<(const Dual& a, const Dual& b) { return a.v < b.v; }
inline bool operator>(const Dual& a, const Dual& b) { return a.v > b.v; }
inline bool operator<=(const Dual& a, const Dual& b) { return a.v <= b.v; }
inline bool operator>=(const Dual& a, const Dual& b) { return a.v >= b.v; }
inline bool operator==(const Dual& a, const Dual& b) { return a.v == b.v; }

// The larger operand with its gradient (a sub-gradient of max); on a tie the first, like std::max.
inline Dual max(const Dual& a, const Dual& b) { return a.v < b.v ? b : a; }
inline Dual min(const Dual& a, const Dual& b) { return b.v < a.v ? b : a; }

// The value of a scalar, so templates can branch on or report values whatever S is.
inline double value_of(double x) { return x; }
inline double value_of(const Dual& x) { return x.v; }

// max/min for templates: `scalar_max(a, b)` works for double and Dual alike.
inline double scalar_max(double a, double b) { return a < b ? b : a; }
inline Dual scalar_max(const Dual& a, const Dual& b) { return max(a, b); }

}  // namespace nas::cost_models
