#include "supernet/pooling.h"

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "supernet/parallel.h"

namespace nas::supernet {

namespace {

// The window of output (oh, ow) clipped to the image: rows [h0, h1), columns [w0, w1).
struct Window {
  int32_t h0, h1, w0, w1;
};
Window window(const PoolSpec& s, const Shape& in, int32_t oh, int32_t ow) {
  const int32_t h = oh * s.stride - s.padding, w = ow * s.stride - s.padding;
  return {std::max(h, 0), std::min(h + s.kernel, in.h), std::max(w, 0), std::min(w + s.kernel, in.w)};
}

}  // namespace

Shape WindowPool::output_shape(std::span<const Shape> inputs) {
  const PoolSpec& s = spec_;
  const std::string where = type();
  if (s.kernel <= 0 || s.stride <= 0 || s.padding < 0 || s.padding * 2 >= s.kernel + 1)
    throw Error(where, "needs kernel > 0, stride > 0 and 0 <= padding <= kernel/2 (got kernel " +
                           std::to_string(s.kernel) + ", stride " + std::to_string(s.stride) + ", padding " +
                           std::to_string(s.padding) + ")");
  in_ = inputs[0];
  if (in_.h + 2 * s.padding < s.kernel || in_.w + 2 * s.padding < s.kernel)
    throw Error(where, "kernel " + std::to_string(s.kernel) + " larger than input " + std::to_string(in_.h) + "x" +
                           std::to_string(in_.w));
  out_ = {in_.n, (in_.h + 2 * s.padding - s.kernel) / s.stride + 1, (in_.w + 2 * s.padding - s.kernel) / s.stride + 1,
          in_.c};
  return out_;
}

// ---- max --------------------------------------------------------------------------------------------------------

void MaxPool2d::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor& in = *inputs[0];
  const int32_t batch = in.shape().n, c_n = in_.c;
  output.resize({batch, out_.h, out_.w, c_n});
  argmax_.resize(static_cast<size_t>(output.size()));
  parallel_chunks(batch, 1, [&](int64_t, int64_t n, int64_t) {
    const float* x = in.item(static_cast<int32_t>(n));
    float* y = output.item(static_cast<int32_t>(n));
    int32_t* arg = argmax_.data() + n * out_.item_size();
    for (int32_t oh = 0; oh < out_.h; ++oh) {
      for (int32_t ow = 0; ow < out_.w; ++ow, y += c_n, arg += c_n) {
        const Window win = window(spec_, in_, oh, ow);
        std::fill_n(y, c_n, -std::numeric_limits<float>::infinity());
        for (int32_t ih = win.h0; ih < win.h1; ++ih) {
          for (int32_t iw = win.w0; iw < win.w1; ++iw) {
            const int32_t base = (ih * in_.w + iw) * c_n;
            for (int32_t c = 0; c < c_n; ++c) {
              if (x[base + c] > y[c]) {
                y[c] = x[base + c];
                arg[c] = base + c;
              }
            }
          }
        }
      }
    }
  });
}

void MaxPool2d::backward(std::span<const Tensor* const> inputs, const Tensor&, const Tensor& grad_output,
                         std::span<Tensor* const> grad_inputs) {
  Tensor* grad_in = grad_inputs[0];
  if (!grad_in) return;
  grad_in->resize(inputs[0]->shape());
  const int64_t out_items = out_.item_size();
  parallel_chunks(grad_in->shape().n, 1, [&](int64_t, int64_t n, int64_t) {
    float* dx = grad_in->item(static_cast<int32_t>(n));
    std::fill_n(dx, in_.item_size(), 0.0f);
    const float* dy = grad_output.item(static_cast<int32_t>(n));
    const int32_t* arg = argmax_.data() + n * out_items;
    for (int64_t i = 0; i < out_items; ++i) dx[arg[i]] += dy[i];
  });
}

// ---- average ----------------------------------------------------------------------------------------------------

void AvgPool2d::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor& in = *inputs[0];
  const int32_t batch = in.shape().n, c_n = in_.c;
  output.resize({batch, out_.h, out_.w, c_n});
  parallel_chunks(batch, 1, [&](int64_t, int64_t n, int64_t) {
    const float* x = in.item(static_cast<int32_t>(n));
    float* y = output.item(static_cast<int32_t>(n));
    for (int32_t oh = 0; oh < out_.h; ++oh) {
      for (int32_t ow = 0; ow < out_.w; ++ow, y += c_n) {
        const Window win = window(spec_, in_, oh, ow);
        std::fill_n(y, c_n, 0.0f);
        for (int32_t ih = win.h0; ih < win.h1; ++ih)
          for (int32_t iw = win.w0; iw < win.w1; ++iw)
            for (int32_t c = 0; c < c_n; ++c) y[c] += x[(ih * in_.w + iw) * c_n + c];
        const float inv = 1.0f / static_cast<float>((win.h1 - win.h0) * (win.w1 - win.w0));
        for (int32_t c = 0; c < c_n; ++c) y[c] *= inv;
      }
    }
  });
}

void AvgPool2d::backward(std::span<const Tensor* const> inputs, const Tensor&, const Tensor& grad_output,
                         std::span<Tensor* const> grad_inputs) {
  Tensor* grad_in = grad_inputs[0];
  if (!grad_in) return;
  grad_in->resize(inputs[0]->shape());
  const int32_t c_n = in_.c;
  parallel_chunks(grad_in->shape().n, 1, [&](int64_t, int64_t n, int64_t) {
    float* dx = grad_in->item(static_cast<int32_t>(n));
    std::fill_n(dx, in_.item_size(), 0.0f);
    const float* dy = grad_output.item(static_cast<int32_t>(n));
    for (int32_t oh = 0; oh < out_.h; ++oh) {
      for (int32_t ow = 0; ow < out_.w; ++ow, dy += c_n) {
        const Window win = window(spec_, in_, oh, ow);
        const float inv = 1.0f / static_cast<float>((win.h1 - win.h0) * (win.w1 - win.w0));
        for (int32_t ih = win.h0; ih < win.h1; ++ih)
          for (int32_t iw = win.w0; iw < win.w1; ++iw)
            for (int32_t c = 0; c < c_n; ++c) dx[(ih * in_.w + iw) * c_n + c] += dy[c] * inv;
      }
    }
  });
}

// ---- global average ---------------------------------------------------------------------------------------------

Shape GlobalAvgPool::output_shape(std::span<const Shape> inputs) { return {inputs[0].n, 1, 1, inputs[0].c}; }

void GlobalAvgPool::forward(std::span<const Tensor* const> inputs, Tensor& output, bool) {
  const Tensor& in = *inputs[0];
  const Shape s = in.shape();
  output.resize({s.n, 1, 1, s.c});
  const int64_t pixels = int64_t{s.h} * s.w;
  const float inv = 1.0f / static_cast<float>(pixels);
  for (int32_t n = 0; n < s.n; ++n) {
    const float* x = in.item(n);
    float* y = output.item(n);
    std::fill_n(y, s.c, 0.0f);
    for (int64_t p = 0; p < pixels; ++p)
      for (int32_t c = 0; c < s.c; ++c) y[c] += x[p * s.c + c];
    for (int32_t c = 0; c < s.c; ++c) y[c] *= inv;
  }
}

void GlobalAvgPool::backward(std::span<const Tensor* const> inputs, const Tensor&, const Tensor& grad_output,
                             std::span<Tensor* const> grad_inputs) {
  Tensor* grad_in = grad_inputs[0];
  if (!grad_in) return;
  const Shape s = inputs[0]->shape();
  grad_in->resize(s);
  const int64_t pixels = int64_t{s.h} * s.w;
  const float inv = 1.0f / static_cast<float>(pixels);
  for (int32_t n = 0; n < s.n; ++n) {
    const float* dy = grad_output.item(n);
    float* dx = grad_in->item(n);
    for (int64_t p = 0; p < pixels; ++p)
      for (int32_t c = 0; c < s.c; ++c) dx[p * s.c + c] = dy[c] * inv;
  }
}

}  // namespace nas::supernet
