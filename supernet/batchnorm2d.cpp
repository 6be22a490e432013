#include "supernet/batchnorm2d.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "supernet/parallel.h"

// The channel loops below carry `#pragma omp simd`: with 32 or 64 channels GCC's cost model judges them too
// short to vectorise and runs them scalar, about 3x slower (measured on the reference CNN's first layer). The
// pragma states that the iterations are independent, which they are.

namespace nas::supernet {

namespace {
constexpr int64_t kRowsPerChunk = 2048;

// Clamps of the fused activation; ±infinity where there is none, so one code path serves all three cases.
float upper_clamp(BatchNorm2d::Activation a) {
  return a == BatchNorm2d::Activation::relu6 ? 6.0f : std::numeric_limits<float>::infinity();
}
float lower_clamp(BatchNorm2d::Activation a) {
  return a == BatchNorm2d::Activation::none ? -std::numeric_limits<float>::infinity() : 0.0f;
}

// Per-chunk partials hold two float sums per channel ([first | second], 2·channels floats per chunk); this adds
// them up in double, in chunk order.
struct ChannelSums {
  std::vector<double> first, second;
};
ChannelSums combine(const std::vector<float>& partials, int64_t chunks, int32_t channels) {
  ChannelSums sums{std::vector<double>(channels, 0.0), std::vector<double>(channels, 0.0)};
  for (int64_t p = 0; p < chunks; ++p) {
    const float* chunk = partials.data() + p * 2 * channels;
    for (int32_t c = 0; c < channels; ++c) {
      sums.first[c] += chunk[c];
      sums.second[c] += chunk[channels + c];
    }
  }
  return sums;
}
}  // namespace

Shape BatchNorm2d::output_shape(std::span<const Shape> inputs) {
  channels_ = inputs[0].c;
  return inputs[0];
}

void BatchNorm2d::declare(ParamStore& store) {
  gamma_ = store.declare("batchnorm.gamma", channels_, ParamRole::no_decay);
  beta_ = store.declare("batchnorm.beta", channels_, ParamRole::no_decay);
  running_mean_ = store.declare("batchnorm.running_mean", channels_, ParamRole::state);
  running_var_ = store.declare("batchnorm.running_var", channels_, ParamRole::state);
}

void BatchNorm2d::bind(ParamStore& store) {
  gamma_v_ = store.value(gamma_).data();
  beta_v_ = store.value(beta_).data();
  dgamma_ = store.grad(gamma_).data();
  dbeta_ = store.grad(beta_).data();
  rmean_ = store.value(running_mean_).data();
  rvar_ = store.value(running_var_).data();
}

void BatchNorm2d::init(ParamStore&, Rng&) {
  std::fill_n(gamma_v_, channels_, 1.0f);
  std::fill_n(beta_v_, channels_, 0.0f);
  std::fill_n(rmean_, channels_, 0.0f);
  std::fill_n(rvar_, channels_, 1.0f);
}

void BatchNorm2d::batch_statistics(const Tensor& in) {
  const int64_t rows = in.size() / channels_;
  const int32_t c_n = channels_;
  // Float sums per chunk of (x − s) and (x − s)², shifted by the batch's first row s: with s near the mean,
  // E[(x−s)²] − E[x−s]² does not cancel catastrophically. Chunks combine in double, in chunk order.
  const int64_t chunks = chunk_count(rows, kRowsPerChunk);
  partials_.assign(static_cast<size_t>(chunks * 2 * c_n), 0.0f);
  const float* shift = in.data();
  parallel_chunks(rows, kRowsPerChunk, [&](int64_t index, int64_t r0, int64_t r1) {
    float* sum = partials_.data() + index * 2 * c_n;
    float* sum_sq = sum + c_n;
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = in.data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) {
        const float d = x[c] - shift[c];
        sum[c] += d;
        sum_sq[c] += d * d;
      }
    }
  });
  const ChannelSums sums = combine(partials_, chunks, c_n);
  const auto n = static_cast<double>(rows);
  for (int32_t c = 0; c < c_n; ++c) {
    const double shifted_mean = sums.first[c] / n;
    const double mean = shifted_mean + shift[c];
    const double var = std::max(0.0, sums.second[c] / n - shifted_mean * shifted_mean);
    mean_[c] = static_cast<float>(mean);
    invstd_[c] = static_cast<float>(1.0 / std::sqrt(var + eps_));
    const double unbiased = rows > 1 ? var * n / (n - 1) : var;
    rmean_[c] = static_cast<float>((1.0 - momentum_) * rmean_[c] + momentum_ * mean);
    rvar_[c] = static_cast<float>((1.0 - momentum_) * rvar_[c] + momentum_ * unbiased);
  }
}

void BatchNorm2d::forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) {
  const Tensor& in = *inputs[0];
  output.resize(in.shape());
  const int64_t rows = in.size() / channels_;
  const int32_t c_n = channels_;
  mean_.resize(c_n);
  invstd_.resize(c_n);
  last_training_ = training;
  if (training) {
    batch_statistics(in);
  } else {
    for (int32_t c = 0; c < c_n; ++c) {
      mean_[c] = rmean_[c];
      invstd_[c] = 1.0f / std::sqrt(rvar_[c] + eps_);
    }
  }

  // y = clamp(x·scale + shift) with scale = γ·invstd, shift = β − mean·scale.
  std::vector<float> scale(c_n), shift(c_n);
  for (int32_t c = 0; c < c_n; ++c) {
    scale[c] = gamma_v_[c] * invstd_[c];
    shift[c] = beta_v_[c] - mean_[c] * scale[c];
  }
  const float lo = lower_clamp(activation_), hi = upper_clamp(activation_);
  const float* a = scale.data();
  const float* b = shift.data();
  parallel_chunks(rows, kRowsPerChunk, [=, &in, &output](int64_t, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = in.data() + r * c_n;
      float* y = output.data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) y[c] = std::min(std::max(x[c] * a[c] + b[c], lo), hi);
    }
  });
}

void BatchNorm2d::backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                           std::span<Tensor* const> grad_inputs) {
  const Tensor& in = *inputs[0];
  const int64_t rows = in.size() / channels_;
  const int32_t c_n = channels_;
  const int64_t chunks = chunk_count(rows, kRowsPerChunk);
  // The incoming gradient first passes the fused activation's mask: it flows where lo < y < hi (for every finite
  // y when there is no activation). A multiply by the 0/1 mask, not a branch, keeps the loops vectorised.
  const float lo = lower_clamp(activation_), hi = upper_clamp(activation_);

  // dβ = Σ dy, dγ = Σ dy·x̂ with x̂ = (x − mean)·invstd.
  partials_.assign(static_cast<size_t>(chunks * 2 * c_n), 0.0f);
  parallel_chunks(rows, kRowsPerChunk, [&](int64_t index, int64_t r0, int64_t r1) {
    float* sum_dy = partials_.data() + index * 2 * c_n;
    float* sum_dy_xhat = sum_dy + c_n;
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = in.data() + r * c_n;
      const float* y = output.data() + r * c_n;
      const float* g = grad_output.data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) {
        const float dy = static_cast<float>((y[c] > lo) & (y[c] < hi)) * g[c];
        sum_dy[c] += dy;
        sum_dy_xhat[c] += dy * ((x[c] - mean_[c]) * invstd_[c]);
      }
    }
  });
  const ChannelSums sums = combine(partials_, chunks, c_n);
  for (int32_t c = 0; c < c_n; ++c) {
    dbeta_[c] = static_cast<float>(sums.first[c]);
    dgamma_[c] = static_cast<float>(sums.second[c]);
  }

  Tensor* grad_in = grad_inputs[0];
  if (!grad_in) return;
  grad_in->resize(in.shape());
  // Training: dx = γ·invstd·(dy − dβ/M − x̂·dγ/M). Evaluation (statistics are constants): dx = γ·invstd·dy.
  const float inv_rows = last_training_ ? 1.0f / static_cast<float>(rows) : 0.0f;
  std::vector<float> k(c_n), mean_term(c_n), xhat_term(c_n);
  for (int32_t c = 0; c < c_n; ++c) {
    k[c] = gamma_v_[c] * invstd_[c];
    mean_term[c] = dbeta_[c] * inv_rows;
    xhat_term[c] = dgamma_[c] * inv_rows;
  }
  parallel_chunks(rows, kRowsPerChunk, [&](int64_t, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = in.data() + r * c_n;
      const float* y = output.data() + r * c_n;
      const float* g = grad_output.data() + r * c_n;
      float* dx = grad_in->data() + r * c_n;
#pragma omp simd
      for (int32_t c = 0; c < c_n; ++c) {
        const float xhat = (x[c] - mean_[c]) * invstd_[c];
        const float dy = static_cast<float>((y[c] > lo) & (y[c] < hi)) * g[c];
        dx[c] = k[c] * (dy - mean_term[c] - xhat * xhat_term[c]);
      }
    }
  });
}

}  // namespace nas::supernet
