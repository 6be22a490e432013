#include "tests/supernet/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "supernet/param_store.h"
#include "supernet/rng.h"

namespace nas::supernet::testing {

namespace {

// Indices to check: all, or a seeded sample of max_checks.
std::vector<int64_t> sample(int64_t size, int32_t max_checks, Rng& rng) {
  std::vector<int64_t> all(static_cast<size_t>(size));
  std::iota(all.begin(), all.end(), 0);
  if (size <= max_checks) return all;
  for (int64_t i = 0; i < max_checks; ++i) {  // partial Fisher–Yates
    const auto j = i + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(size - i));
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(j)]);
  }
  all.resize(static_cast<size_t>(max_checks));
  return all;
}

}  // namespace

void GradientComparison::check(std::span<float> values, std::span<const float> analytic,
                               const std::function<double()>& loss, const std::string& label) {
  Rng rng(options_.seed + ++sample_seed_);
  for (int64_t i : sample(static_cast<int64_t>(values.size()), options_.max_checks, rng)) {
    float& value = values[static_cast<size_t>(i)];
    const float saved = value;
    const auto up = static_cast<float>(saved + options_.h), down = static_cast<float>(saved - options_.h);
    value = up;
    const double plus = loss();
    value = down;
    const double minus = loss();
    value = saved;
    // Divide by the step actually taken in float, not the nominal 2h.
    const double numeric = (plus - minus) / (double{up} - double{down});
    const double a = analytic[static_cast<size_t>(i)], diff = a - numeric;
    diff_sq_ += diff * diff;
    analytic_sq_ += a * a;
    numeric_sq_ += numeric * numeric;
    ++report_.checked;
    if (std::abs(diff) > report_.max_abs_error) {
      report_.max_abs_error = std::abs(diff);
      report_.worst = label + "[" + std::to_string(i) + "]: analytic " + std::to_string(a) + ", numeric " +
                      std::to_string(numeric);
    }
  }
}

GradCheckReport GradientComparison::finish() const {
  GradCheckReport out = report_;
  out.relative_error =
      std::sqrt(diff_sq_) / std::max(std::sqrt(analytic_sq_) + std::sqrt(numeric_sq_), 1e-8);
  return out;
}

ParamStore prepare_layer(Layer& layer, const std::vector<Shape>& input_shapes, uint64_t seed) {
  layer.output_shape(input_shapes);
  ParamStore store;
  layer.declare(store);
  store.allocate();
  layer.bind(store);
  Rng rng(seed);
  layer.init(store, rng);
  return store;
}

GradCheckReport gradcheck(Layer& layer, const std::vector<Shape>& input_shapes, const GradCheckOptions& options) {
  ParamStore store = prepare_layer(layer, input_shapes, options.seed);
  const Shape out_shape = layer.output_shape(input_shapes);
  Rng rng(options.seed + 1);
  for (float& v : store.theta()) v += static_cast<float>(0.2 * rng.normal());

  std::vector<Tensor> inputs;
  for (const Shape& s : input_shapes) {
    Tensor t(s);
    for (int64_t i = 0; i < t.size(); ++i) {
      const auto draw = static_cast<float>(rng.normal());
      t[i] = options.input_value ? options.input_value(draw, i) : draw;
    }
    inputs.push_back(std::move(t));
  }
  Tensor projection(out_shape);
  for (int64_t i = 0; i < projection.size(); ++i) projection[i] = static_cast<float>(rng.normal());

  std::vector<const Tensor*> in_ptrs;
  for (const auto& t : inputs) in_ptrs.push_back(&t);
  Tensor output;
  auto loss = [&]() {
    layer.forward(in_ptrs, output, /*training=*/true);
    double sum = 0;
    for (int64_t i = 0; i < output.size(); ++i) sum += double{output[i]} * projection[i];
    return sum;
  };

  // Analytic gradients.
  loss();
  std::vector<Tensor> grads(inputs.size());
  std::vector<Tensor*> grad_ptrs;
  for (auto& g : grads) grad_ptrs.push_back(&g);
  layer.backward(in_ptrs, output, projection, grad_ptrs);
  const std::vector<float> param_grads(store.grads().begin(), store.grads().end());

  GradientComparison comparison(options);
  for (size_t t = 0; t < inputs.size(); ++t)
    comparison.check(inputs[t].span(), grads[t].span(), loss, "input " + std::to_string(t));
  comparison.check(store.theta(), param_grads, loss, "theta");
  return comparison.finish();
}

}  // namespace nas::supernet::testing
