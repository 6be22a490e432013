#include "supernet/conv2d.h"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "supernet/gemm.h"
#include "supernet/parallel.h"

namespace nas::supernet {

Conv2dGeometry conv_geometry(const Conv2dSpec& s) {
  auto or_default = [](int32_t v, int32_t fallback) { return v >= 0 ? v : fallback; };
  return {s.stride, or_default(s.stride_w, s.stride), s.padding, or_default(s.pad_left, s.padding),
          or_default(s.pad_bottom, s.padding), or_default(s.pad_right, s.padding)};
}

Shape Conv2d::output_shape(std::span<const Shape> inputs) {
  const Shape& in = inputs[0];
  const auto& s = spec_;
  g_ = conv_geometry(s);
  const Conv2dGeometry& g = g_;
  auto fail = [&](const std::string& what) { throw Error("conv2d", what); };
  if (s.out_channels <= 0) fail("out channels must be positive (got " + std::to_string(s.out_channels) + ")");
  if (s.kernel_h <= 0 || s.kernel_w <= 0) fail("kernel size must be positive");
  if (g.stride_h <= 0 || g.stride_w <= 0)
    fail("stride must be positive (got " + std::to_string(g.stride_h <= 0 ? g.stride_h : g.stride_w) + ")");
  for (const int32_t pad : {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right})
    if (pad < 0) fail("padding must be >= 0 (got " + std::to_string(pad) + ")");
  if (s.groups <= 0 || in.c % s.groups != 0 || s.out_channels % s.groups != 0)
    fail("groups (" + std::to_string(s.groups) + ") must divide input channels (" + std::to_string(in.c) +
         ") and output channels (" + std::to_string(s.out_channels) + ")");
  in_c_ = in.c;
  in_h_ = in.h;
  in_w_ = in.w;
  const int32_t padded_h = in.h + g.pad_top + g.pad_bottom, padded_w = in.w + g.pad_left + g.pad_right;
  if (padded_h < s.kernel_h || padded_w < s.kernel_w)
    fail("kernel " + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + " larger than padded input " +
         std::to_string(padded_h) + "x" + std::to_string(padded_w));
  out_h_ = (padded_h - s.kernel_h) / g.stride_h + 1;
  out_w_ = (padded_w - s.kernel_w) / g.stride_w + 1;
  return {in.n, out_h_, out_w_, s.out_channels};
}

void Conv2d::share_weights_of(const Conv2d* larger, std::vector<int32_t> in_map, std::vector<int32_t> out_map) {
  if (spec_.bias) throw Error("conv2d", "a convolution with a bias cannot share weights", Error::Kind::failure);
  larger_ = larger;
  in_map_ = std::move(in_map);
  out_map_ = std::move(out_map);
}

void Conv2d::declare(ParamStore& store) {
  if (larger_) return;  // computes with the larger kernel's weights
  weight_ = store.declare("conv2d.weight", col_width() * spec_.out_channels, ParamRole::weight);
  if (spec_.bias) bias_ = store.declare("conv2d.bias", spec_.out_channels, ParamRole::no_decay);
}

void Conv2d::bind(ParamStore& store) {
  if (larger_) {
    const Conv2dSpec& big = larger_->spec_;
    const int32_t big_in = larger_->in_c_;
    auto maps_into = [](const std::vector<int32_t>& map, int32_t own, int32_t other) {
      if (map.empty()) return own == other;
      if (map.size() != static_cast<size_t>(own)) return false;
      std::vector<int32_t> sorted = map;  // one-to-one, so that scattering the gradient loses nothing
      std::sort(sorted.begin(), sorted.end());
      return sorted.front() >= 0 && sorted.back() < other &&
             std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    };
    const bool both_dense = spec_.groups == 1 && big.groups == 1;
    const bool both_depthwise = depthwise() && larger_->depthwise() && in_map_.empty();
    if (!(both_dense || both_depthwise) || !maps_into(out_map_, spec_.out_channels, big.out_channels) ||
        (both_dense && !maps_into(in_map_, in_c_, big_in)) || larger_->g_.stride_h != g_.stride_h ||
        larger_->g_.stride_w != g_.stride_w ||
        big.kernel_h < spec_.kernel_h || big.kernel_w < spec_.kernel_w || (big.kernel_h - spec_.kernel_h) % 2 != 0 ||
        (big.kernel_w - spec_.kernel_w) % 2 != 0)
      throw Error("conv2d", "cannot share the weights of a convolution of another shape", Error::Kind::failure);
    // larger_'s own pointers are read at each use: it may be bound after this layer.
    shared_index_ = shared_weight_indices();
    crop_w_.assign(shared_index_.size(), 0.0f);
    crop_dw_.assign(crop_w_.size(), 0.0f);
    w_ = crop_w_.data();
    dw_ = crop_dw_.data();
    return;
  }
  w_ = store.value(weight_).data();
  dw_ = store.grad(weight_).data();
  if (spec_.bias) {
    b_ = store.value(bias_).data();
    db_ = store.grad(bias_).data();
  }
}

// HWIO: weight (kh, kw, i, o) is at ((kh·KW + kw)·(Cin/g) + i)·Cout + o.
std::vector<int64_t> Conv2d::shared_weight_indices() const {
  const Conv2dSpec& big = larger_->spec_;
  const int32_t in_g = in_c_ / spec_.groups, big_in_g = larger_->in_c_ / big.groups;
  const int32_t dh = (big.kernel_h - spec_.kernel_h) / 2, dw = (big.kernel_w - spec_.kernel_w) / 2;
  auto mapped = [](const std::vector<int32_t>& map, int32_t c) {
    return map.empty() ? c : map[static_cast<size_t>(c)];
  };
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(col_width() * spec_.out_channels));
  for (int32_t kh = 0; kh < spec_.kernel_h; ++kh)
    for (int32_t kw = 0; kw < spec_.kernel_w; ++kw)
      for (int32_t i = 0; i < in_g; ++i) {
        const int64_t row = (int64_t{kh + dh} * big.kernel_w + kw + dw) * big_in_g + mapped(in_map_, i);
        for (int32_t o = 0; o < spec_.out_channels; ++o) index.push_back(row * big.out_channels + mapped(out_map_, o));
      }
  return index;
}

std::vector<float> Conv2d::centre_of_larger() const {
  std::vector<float> centre(shared_index_.size());  // shared_index_ is set at bind(), before any weights exist
  for (size_t k = 0; k < shared_index_.size(); ++k) centre[k] = larger_->w_[shared_index_[k]];
  return centre;
}

void Conv2d::crop_from_larger() {
  for (size_t k = 0; k < shared_index_.size(); ++k) crop_w_[k] = larger_->w_[shared_index_[k]];
}

void Conv2d::scatter_grad_to_larger() {
  const Conv2dSpec& big = larger_->spec_;
  std::fill_n(larger_->dw_, int64_t{big.kernel_h} * big.kernel_w * (larger_->in_c_ / big.groups) * big.out_channels,
              0.0f);
  for (size_t k = 0; k < shared_index_.size(); ++k) larger_->dw_[shared_index_[k]] = crop_dw_[k];
}

std::vector<float> Conv2d::weights() const {
  if (larger_) return centre_of_larger();
  return {w_, w_ + col_width() * spec_.out_channels};
}

void Conv2d::init(ParamStore& store, Rng& rng) {
  if (larger_) return;  // the larger kernel's init covers these weights
  // He et al. (2015) normal initialisation for ReLU networks: std = sqrt(2 / fan_in).
  const double std_dev = std::sqrt(2.0 / static_cast<double>(col_width()));
  for (float& v : store.value(weight_)) v = static_cast<float>(rng.normal() * std_dev);
  if (spec_.bias) std::fill_n(b_, spec_.out_channels, 0.0f);
}

namespace {

// Copies n floats. Runs this short (a 3-tap row of a one-channel image is 3 floats) would cost more in a memcpy
// call than in the copy, so they are copied in a loop the compiler cannot turn back into a call: adding +0.0f is
// not an identity (it maps -0 to +0), so the loop is not a plain copy. Convolution sums do not see the difference.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n >= 16) {
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] + 0.0f;
}

inline void zero_floats(float* dst, int64_t n) {
  if (n >= 16) {
    std::memset(dst, 0, sizeof(float) * static_cast<size_t>(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f * static_cast<float>(i);  // not a memset pattern, see above
}

}  // namespace

// Row layout: [kh][kw][channel of the group]. For one output pixel and one kernel row the taps kw = 0..KW-1 read
// consecutive input columns, so without groups they are one contiguous run of KW·C floats in NHWC memory.
void Conv2d::im2col(const Tensor& in, int32_t image_begin, int32_t image_end, int32_t group, float* col) const {
  const int32_t cg = in_c_ / spec_.groups, c0 = group * cg;
  const int32_t kh_n = spec_.kernel_h, kw_n = spec_.kernel_w;
  for (int32_t n = image_begin; n < image_end; ++n) {
    const float* image = in.item(n);
    for (int32_t oh = 0; oh < out_h_; ++oh) {
      for (int32_t ow = 0; ow < out_w_; ++ow) {
        const int32_t iw0 = ow * g_.stride_w - g_.pad_left;
        const int32_t kw_lo = std::max(0, -iw0), kw_hi = std::min(kw_n, in_w_ - iw0);  // taps inside the image
        for (int32_t kh = 0; kh < kh_n; ++kh, col += int64_t{kw_n} * cg) {
          const int32_t ih = oh * g_.stride_h - g_.pad_top + kh;
          if (ih < 0 || ih >= in_h_ || kw_lo >= kw_hi) {
            zero_floats(col, int64_t{kw_n} * cg);
            continue;
          }
          zero_floats(col, int64_t{kw_lo} * cg);
          const float* src = image + (int64_t{ih} * in_w_ + iw0 + kw_lo) * in_c_ + c0;
          if (spec_.groups == 1) {
            copy_floats(col + int64_t{kw_lo} * cg, src, int64_t{kw_hi - kw_lo} * cg);
          } else {
            for (int32_t kw = kw_lo; kw < kw_hi; ++kw) copy_floats(col + int64_t{kw} * cg, src + int64_t{kw - kw_lo} * in_c_, cg);
          }
          zero_floats(col + int64_t{kw_hi} * cg, int64_t{kw_n - kw_hi} * cg);
        }
      }
    }
  }
}

void Conv2d::col2im_add(const float* col, int32_t image_begin, int32_t image_end, int32_t group,
                        Tensor& grad_in) const {
  const int32_t cg = in_c_ / spec_.groups, c0 = group * cg;
  for (int32_t n = image_begin; n < image_end; ++n) {
    float* image = grad_in.item(n);
    for (int32_t oh = 0; oh < out_h_; ++oh) {
      for (int32_t ow = 0; ow < out_w_; ++ow) {
        for (int32_t kh = 0; kh < spec_.kernel_h; ++kh) {
          const int32_t ih = oh * g_.stride_h - g_.pad_top + kh;
          for (int32_t kw = 0; kw < spec_.kernel_w; ++kw, col += cg) {
            const int32_t iw = ow * g_.stride_w - g_.pad_left + kw;
            if (ih < 0 || ih >= in_h_ || iw < 0 || iw >= in_w_) continue;
            float* dst = image + (int64_t{ih} * in_w_ + iw) * in_c_ + c0;
            for (int32_t c = 0; c < cg; ++c) dst[c] += col[c];
          }
        }
      }
    }
  }
}

void Conv2d::forward(std::span<const Tensor* const> inputs, Tensor& output, bool /*training*/) {
  const Tensor& in = *inputs[0];
  output.resize({in.shape().n, out_h_, out_w_, spec_.out_channels});
  if (larger_) crop_from_larger();  // the larger kernel's weights may have been stepped since
  if (depthwise()) {
    forward_depthwise(in, output);
  } else {
    forward_gemm(in, output);
  }
}

void Conv2d::backward(std::span<const Tensor* const> inputs, const Tensor& /*output*/, const Tensor& grad_output,
                      std::span<Tensor* const> grad_inputs) {
  const Tensor& in = *inputs[0];
  Tensor* grad_in = grad_inputs[0];
  if (grad_in) grad_in->resize(in.shape());
  if (depthwise()) {
    backward_depthwise(in, grad_output, grad_in);
  } else {
    backward_gemm(in, grad_output, grad_in);
  }
  if (larger_) scatter_grad_to_larger();
}

// ---- dense and grouped: im2col + GEMM (supernet/gemm.h) -------------------------------------------------------
//
// The im2col block of one chunk lives in a per-thread buffer sized for the L2 cache and is rebuilt in the backward
// pass rather than kept: rebuilding reads the (smaller) input from cache, keeping would stream the whole batch's
// im2col matrix (K times the output size) through DRAM twice and hold it in memory between the passes.

namespace {
// Two reusable buffers per thread: the im2col block and the gradient of the im2col block.
std::vector<float>& thread_buffer(int which) {
  static tbb::enumerable_thread_specific<std::array<std::vector<float>, 2>> buffers;
  return buffers.local()[static_cast<size_t>(which)];
}
}  // namespace

const float* Conv2d::lowered(const Tensor& in, int64_t image_begin, int64_t image_end, int32_t group) const {
  auto& col = thread_buffer(0);
  col.resize(static_cast<size_t>((image_end - image_begin) * out_h_ * out_w_ * col_width()));
  im2col(in, static_cast<int32_t>(image_begin), static_cast<int32_t>(image_end), group, col.data());
  return col.data();
}

void Conv2d::forward_gemm(const Tensor& in, Tensor& out) {
  const int32_t batch = in.shape().n, groups = spec_.groups, cout = spec_.out_channels, cout_g = cout / groups;
  const int64_t rows_per_image = int64_t{out_h_} * out_w_, k = col_width();
  const int64_t chunk = images_per_chunk(batch, rows_per_image);

  parallel_chunks(batch, chunk, [&](int64_t, int64_t n0, int64_t n1) {
    const int64_t row0 = n0 * rows_per_image, rows = (n1 - n0) * rows_per_image;
    float* y = out.data() + row0 * cout;
    for (int32_t g = 0; g < groups; ++g) {
      const float* a = pointwise() ? in.data() + row0 * in_c_ : lowered(in, n0, n1, g);
      gemm_nn(rows, cout_g, k, a, pointwise() ? in_c_ : k, w_ + g * cout_g, cout, y + g * cout_g, cout, false);
    }
    if (spec_.bias) {
      for (int64_t r = 0; r < rows; ++r)
        for (int32_t c = 0; c < cout; ++c) y[r * cout + c] += b_[c];
    }
  });
}

void Conv2d::backward_gemm(const Tensor& in, const Tensor& grad_out, Tensor* grad_in) {
  const int32_t batch = in.shape().n, groups = spec_.groups, cout = spec_.out_channels, cout_g = cout / groups;
  const int64_t rows_per_image = int64_t{out_h_} * out_w_, k = col_width();
  const int64_t chunk = images_per_chunk(batch, rows_per_image);
  const int64_t chunks = chunk_count(batch, chunk);
  const int64_t weight_size = k * cout, partial_size = weight_size + cout;  // weights then bias
  partials_.resize(static_cast<size_t>(chunks * partial_size));
  // Wᵀ of each group (cout_g × k), transposed once here rather than once per chunk inside the GEMM.
  if (grad_in) {
    weights_t_.resize(static_cast<size_t>(k * cout));
    for (int32_t g = 0; g < groups; ++g)
      for (int32_t j = 0; j < cout_g; ++j)
        for (int64_t p = 0; p < k; ++p)
          weights_t_[static_cast<size_t>((int64_t{g} * cout_g + j) * k + p)] = w_[p * cout + g * cout_g + j];
  }

  parallel_chunks(batch, chunk, [&](int64_t index, int64_t n0, int64_t n1) {
    const int64_t row0 = n0 * rows_per_image, rows = (n1 - n0) * rows_per_image;
    const float* dy = grad_out.data() + row0 * cout;
    float* partial = partials_.data() + index * partial_size;
    if (grad_in && !pointwise())  // col2im adds into it
      std::fill_n(grad_in->item(static_cast<int32_t>(n0)), (n1 - n0) * in.shape().item_size(), 0.0f);
    for (int32_t g = 0; g < groups; ++g) {
      const float* a = pointwise() ? in.data() + row0 * in_c_ : lowered(in, n0, n1, g);
      // dW_g (k × cout_g) = colᵀ · dY_g
      gemm_tn(k, cout_g, rows, a, k, dy + g * cout_g, cout, partial + g * cout_g, cout, false);
      if (!grad_in) continue;
      if (pointwise()) {  // dX = dY · Wᵀ, written straight into the input gradient
        gemm_nn(rows, k, cout, dy, cout, weights_t_.data(), k, grad_in->data() + row0 * in_c_, in_c_, false);
        continue;
      }
      auto& dcol = thread_buffer(1);
      dcol.resize(static_cast<size_t>(rows * k));
      gemm_nn(rows, k, cout_g, dy + g * cout_g, cout, weights_t_.data() + int64_t{g} * cout_g * k, k, dcol.data(), k,
              false);
      col2im_add(dcol.data(), static_cast<int32_t>(n0), static_cast<int32_t>(n1), g, *grad_in);
    }
    float* dbias = partial + weight_size;
    std::fill_n(dbias, cout, 0.0f);
    if (spec_.bias) {
      for (int64_t r = 0; r < rows; ++r)
        for (int32_t c = 0; c < cout; ++c) dbias[c] += dy[r * cout + c];
    }
  });
  sum_partials(partials_.data(), chunks, partial_size, weight_size, dw_);
  if (spec_.bias) sum_partials(partials_.data() + weight_size, chunks, partial_size, cout, db_);
}

// ---- depthwise: direct loops, vectorised over channels ---------------------------------------------------------

void Conv2d::forward_depthwise(const Tensor& in, Tensor& out) const {
  const int32_t batch = in.shape().n, channels = in_c_;
  parallel_chunks(batch, 1, [&](int64_t, int64_t n, int64_t) {
    const float* image = in.item(static_cast<int32_t>(n));
    float* y = out.item(static_cast<int32_t>(n));
    for (int32_t oh = 0; oh < out_h_; ++oh) {
      for (int32_t ow = 0; ow < out_w_; ++ow, y += channels) {
        if (spec_.bias) std::copy_n(b_, channels, y); else std::fill_n(y, channels, 0.0f);
        for_each_tap(oh, ow, [&](int64_t pixel, int64_t tap) {
          const float* x = image + pixel * channels;
          const float* w = w_ + tap * channels;
          for (int32_t c = 0; c < channels; ++c) y[c] += x[c] * w[c];
        });
      }
    }
  });
}

void Conv2d::backward_depthwise(const Tensor& in, const Tensor& grad_out, Tensor* grad_in) {
  const int32_t batch = in.shape().n, channels = in_c_;
  const int64_t weight_size = col_width() * channels, partial_size = weight_size + channels;
  const int64_t chunk = images_per_chunk(batch, int64_t{out_h_} * out_w_), chunks = chunk_count(batch, chunk);
  partials_.assign(static_cast<size_t>(chunks * partial_size), 0.0f);

  parallel_chunks(batch, chunk, [&](int64_t index, int64_t n0, int64_t n1) {
    float* dw = partials_.data() + index * partial_size;
    float* dbias = dw + weight_size;
    for (int64_t n = n0; n < n1; ++n) {
      const float* image = in.item(static_cast<int32_t>(n));
      const float* dy = grad_out.item(static_cast<int32_t>(n));
      float* dx = grad_in ? grad_in->item(static_cast<int32_t>(n)) : nullptr;
      if (dx) std::fill_n(dx, in.shape().item_size(), 0.0f);
      for (int32_t oh = 0; oh < out_h_; ++oh) {
        for (int32_t ow = 0; ow < out_w_; ++ow, dy += channels) {
          for (int32_t c = 0; c < channels; ++c) dbias[c] += dy[c];
          for_each_tap(oh, ow, [&](int64_t pixel, int64_t tap) {
            const float* x = image + pixel * channels;
            float* gw = dw + tap * channels;
            for (int32_t c = 0; c < channels; ++c) gw[c] += dy[c] * x[c];
            if (!dx) return;
            const float* w = w_ + tap * channels;
            float* gx = dx + pixel * channels;
            for (int32_t c = 0; c < channels; ++c) gx[c] += dy[c] * w[c];
          });
        }
      }
    }
  });
  sum_partials(partials_.data(), chunks, partial_size, weight_size, dw_);
  if (spec_.bias) sum_partials(partials_.data() + weight_size, chunks, partial_size, channels, db_);
}

}  // namespace nas::supernet
