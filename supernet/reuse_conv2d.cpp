#include "supernet/reuse_conv2d.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "supernet/gemm.h"
#include "supernet/parallel.h"

namespace nas::supernet {

// One image's hashing and clusters, computed again in backward rather than kept (they are small next to the
// im2col rows they come from, which are rebuilt from the input as Conv2d does).
struct ReuseConv2d::ImageClusters {
  std::vector<float> cols;       // N × kp im2col rows, zero tail
  std::vector<float> z;          // (N·nb) × H projections of the sub-vectors
  std::vector<int32_t> member;   // N·nb: the cluster (index over all blocks) of sub-vector (n, j)
  std::vector<int32_t> first;    // nb + 1: block j's clusters are [first[j], first[j+1])
  std::vector<int32_t> count;    // members per cluster
  std::vector<int32_t> code;     // per cluster
  std::vector<float> centroid;   // clusters × L
  std::vector<int32_t> by_code;  // nb × 2^H: the cluster of a code in block j, −1 when none
  float tau = 1.0f;              // the surrogate's temperature for this image
  int32_t clusters() const { return first.back(); }
};

Shape ReuseConv2d::output_shape(std::span<const Shape> inputs) {
  if (conv_.groups != 1 || conv_.depthwise)
    throw Error("reuse_conv2d", "only dense convolutions reuse (groups 1)");
  if (reuse_.sub_len < 1)
    throw Error("reuse_conv2d", "sub_len must be at least 1 (got " + std::to_string(reuse_.sub_len) + ")");
  if (reuse_.hash_bits < 1 || reuse_.hash_bits > 8)
    throw Error("reuse_conv2d", "hash_bits must be 1 to 8 (got " + std::to_string(reuse_.hash_bits) + ")");
  if (!(reuse_.temperature > 0.0f))
    throw Error("reuse_conv2d", "temperature must be positive (got " + std::to_string(reuse_.temperature) + ")");
  // The convolution's own checks and output size, from a Conv2d of the same spec.
  Conv2d shape_of(conv_);
  const Shape out = shape_of.output_shape(inputs);
  g_ = shape_of.geometry();
  in_c_ = inputs[0].c;
  in_h_ = inputs[0].h;
  in_w_ = inputs[0].w;
  out_h_ = out.h;
  out_w_ = out.w;
  k_ = int64_t{conv_.kernel_h} * conv_.kernel_w * in_c_;
  nb_ = (k_ + reuse_.sub_len - 1) / reuse_.sub_len;
  kp_ = nb_ * reuse_.sub_len;
  return out;
}

void ReuseConv2d::declare(ParamStore& store) {
  weight_ = store.declare("reuse_conv2d.weight", k_ * conv_.out_channels, ParamRole::weight);
  if (conv_.bias) bias_ = store.declare("reuse_conv2d.bias", conv_.out_channels, ParamRole::no_decay);
  // No decay: only the projections' signs matter, and τ follows their scale.
  projection_ = store.declare("reuse_conv2d.projection", int64_t{reuse_.sub_len} * reuse_.hash_bits,
                              ParamRole::no_decay);
}

void ReuseConv2d::bind(ParamStore& store) {
  w_ = store.value(weight_).data();
  dw_ = store.grad(weight_).data();
  if (conv_.bias) {
    b_ = store.value(bias_).data();
    db_ = store.grad(bias_).data();
  }
  p_ = store.value(projection_).data();
  dp_ = store.grad(projection_).data();
}

void ReuseConv2d::init(ParamStore& store, Rng& rng) {
  // He et al. (2015) as Conv2d; random Gaussian projections, the classic sign-LSH of cosine similarity (Charikar).
  const double std_dev = std::sqrt(2.0 / static_cast<double>(k_));
  for (float& v : store.value(weight_)) v = static_cast<float>(rng.normal() * std_dev);
  if (conv_.bias) std::fill_n(b_, conv_.out_channels, 0.0f);
  for (float& v : store.value(projection_)) v = static_cast<float>(rng.normal());
}

void ReuseConv2d::padded_weights() {
  const int32_t cout = conv_.out_channels;
  wp_.assign(static_cast<size_t>(kp_ * cout), 0.0f);
  std::copy_n(w_, k_ * cout, wp_.data());
}

// Calls fn(input offset, im2col offset) for every kernel tap inside the input of every output pixel (row n of the
// im2col matrix starts at n·kp): the tap's in_c values are one run in both.
template <class Fn>
void ReuseConv2d::for_each_inside_tap(Fn&& fn) const {
  int64_t row = 0;
  for (int32_t oh = 0; oh < out_h_; ++oh)
    for (int32_t ow = 0; ow < out_w_; ++ow, row += kp_)
      for (int32_t kh = 0; kh < conv_.kernel_h; ++kh) {
        const int32_t ih = oh * g_.stride_h - g_.pad_top + kh;
        if (ih < 0 || ih >= in_h_) continue;
        for (int32_t kw = 0; kw < conv_.kernel_w; ++kw) {
          const int32_t iw = ow * g_.stride_w - g_.pad_left + kw;
          if (iw >= 0 && iw < in_w_)
            fn((int64_t{ih} * in_w_ + iw) * in_c_, row + (int64_t{kh} * conv_.kernel_w + kw) * in_c_);
        }
      }
}

void ReuseConv2d::im2col_image(const float* image, float* cols) const {
  std::fill_n(cols, int64_t{out_h_} * out_w_ * kp_, 0.0f);
  for_each_inside_tap([&](int64_t in, int64_t col) { std::copy_n(image + in, in_c_, cols + col); });
}

void ReuseConv2d::col2im_image_add(const float* cols, float* grad_image) const {
  for_each_inside_tap([&](int64_t in, int64_t col) {
    for (int32_t c = 0; c < in_c_; ++c) grad_image[in + c] += cols[col + c];
  });
}

void ReuseConv2d::cluster_image(const float* image, ImageClusters& c) const {
  const int64_t pixels = int64_t{out_h_} * out_w_, subs = pixels * nb_;
  const int32_t len = reuse_.sub_len, bits = reuse_.hash_bits, codes = 1 << bits;
  c.cols.resize(static_cast<size_t>(pixels * kp_));
  im2col_image(image, c.cols.data());
  // A row n, block j sub-vector starts at (n·nb + j)·L: the rows read as one (N·nb) × L matrix.
  c.z.resize(static_cast<size_t>(subs * bits));
  gemm_nn(subs, bits, len, c.cols.data(), len, p_, bits, c.z.data(), bits, false);
  double z_sq = 0;
  for (const float v : c.z) z_sq += double{v} * v;
  const double rms = std::sqrt(z_sq / static_cast<double>(std::max<int64_t>(1, subs * bits)));
  c.tau = reuse_.temperature * static_cast<float>(rms > 0 ? rms : 1.0);

  c.member.resize(static_cast<size_t>(subs));
  c.by_code.assign(static_cast<size_t>(nb_ * codes), -1);
  c.first.assign(1, 0);
  c.count.clear();
  c.code.clear();
  for (int64_t j = 0; j < nb_; ++j) {  // block by block, so a block's clusters are consecutive
    int32_t* table = c.by_code.data() + j * codes;
    for (int64_t n = 0; n < pixels; ++n) {
      const float* z = c.z.data() + (n * nb_ + j) * bits;
      int32_t code = 0;
      for (int32_t h = 0; h < bits; ++h) code |= (z[h] > 0.0f ? 1 : 0) << h;
      if (table[code] < 0) {
        table[code] = static_cast<int32_t>(c.count.size());
        c.count.push_back(0);
        c.code.push_back(code);
      }
      c.member[static_cast<size_t>(n * nb_ + j)] = table[code];
      ++c.count[static_cast<size_t>(table[code])];
    }
    c.first.push_back(static_cast<int32_t>(c.count.size()));
  }
  c.centroid.assign(c.count.size() * static_cast<size_t>(len), 0.0f);
  for (int64_t s = 0; s < subs; ++s) {
    float* dst = c.centroid.data() + int64_t{c.member[static_cast<size_t>(s)]} * len;
    const float* src = c.cols.data() + s * len;
    for (int32_t i = 0; i < len; ++i) dst[i] += src[i];
  }
  for (size_t k = 0; k < c.count.size(); ++k) {
    const float inv = 1.0f / static_cast<float>(c.count[k]);
    for (int32_t i = 0; i < len; ++i) c.centroid[k * static_cast<size_t>(len) + static_cast<size_t>(i)] *= inv;
  }
}

namespace {
// Per-thread buffers, kept between images and steps: one image's im2col rows alone are hundreds of KB, which a fresh
// vector per image would map, fault in and unmap every time.
struct ThreadBuffers {
  std::vector<float> table, dtable, dcentroid, dcols, gr, dz;
};
ThreadBuffers& thread_buffers() {
  thread_local ThreadBuffers buffers;
  return buffers;
}
}  // namespace

void ReuseConv2d::forward(std::span<const Tensor* const> inputs, Tensor& output, bool /*training*/) {
  const Tensor& in = *inputs[0];
  const int32_t batch = in.shape().n, cout = conv_.out_channels, len = reuse_.sub_len;
  const int64_t pixels = int64_t{out_h_} * out_w_;
  output.resize({batch, out_h_, out_w_, cout});
  padded_weights();
  std::vector<int64_t> clusters(static_cast<size_t>(batch), 0);
  parallel_chunks(batch, 1, [&](int64_t, int64_t n0, int64_t) {
    thread_local ImageClusters c;
    cluster_image(in.item(static_cast<int32_t>(n0)), c);
    // Each cluster's product with its block of weights, once.
    std::vector<float>& table = thread_buffers().table;
    table.resize(static_cast<size_t>(c.clusters()) * static_cast<size_t>(cout));
    for (int64_t j = 0; j < nb_; ++j) {
      const int32_t k0 = c.first[static_cast<size_t>(j)], kn = c.first[static_cast<size_t>(j + 1)] - k0;
      gemm_nn(kn, cout, len, c.centroid.data() + int64_t{k0} * len, len, wp_.data() + j * len * cout, cout,
              table.data() + int64_t{k0} * cout, cout, false);
    }
    float* y = output.item(static_cast<int32_t>(n0));
    for (int64_t n = 0; n < pixels; ++n, y += cout) {
      if (conv_.bias) std::copy_n(b_, cout, y); else std::fill_n(y, cout, 0.0f);
      for (int64_t j = 0; j < nb_; ++j) {
        const float* t = table.data() + int64_t{c.member[static_cast<size_t>(n * nb_ + j)]} * cout;
        for (int32_t o = 0; o < cout; ++o) y[o] += t[o];
      }
    }
    clusters[static_cast<size_t>(n0)] = c.clusters();
  });
  last_clusters_ = std::accumulate(clusters.begin(), clusters.end(), int64_t{0});
  last_subvectors_ = int64_t{batch} * pixels * nb_;
}

void ReuseConv2d::backward(std::span<const Tensor* const> inputs, const Tensor& /*output*/,
                           const Tensor& grad_output, std::span<Tensor* const> grad_inputs) {
  const Tensor& in = *inputs[0];
  Tensor* grad_in = grad_inputs[0];
  if (grad_in) grad_in->resize(in.shape());
  const int32_t batch = in.shape().n, cout = conv_.out_channels, len = reuse_.sub_len, bits = reuse_.hash_bits;
  const int64_t pixels = int64_t{out_h_} * out_w_, subs = pixels * nb_;
  const int64_t weight_size = kp_ * cout, proj_size = int64_t{len} * bits;
  const int64_t partial_size = weight_size + cout + proj_size;  // weights (padded rows), bias, projections
  // Images in 16 fixed chunks (the split depends on the batch alone, so the sums do not depend on the threads),
  // each summing into its own partial gradients.
  const int64_t chunk = (batch + 15) / 16, chunks = chunk_count(batch, chunk);
  partials_.assign(static_cast<size_t>(chunks * partial_size), 0.0f);
  padded_weights();

  parallel_chunks(batch, chunk, [&](int64_t index, int64_t begin, int64_t end) {
    for (int64_t n0 = begin; n0 < end; ++n0) {
      thread_local ImageClusters c;
      cluster_image(in.item(static_cast<int32_t>(n0)), c);
      ThreadBuffers& buffers = thread_buffers();
      const float* dy = grad_output.item(static_cast<int32_t>(n0));
      float* dw = partials_.data() + index * partial_size;
      float* dbias = dw + weight_size;
      float* dproj = dbias + cout;
      const size_t clusters = static_cast<size_t>(c.clusters());

      // dLoss/d(table row) of each cluster: the sum of its members' output gradients.
      std::vector<float>& dtable = buffers.dtable;
      dtable.assign(clusters * static_cast<size_t>(cout), 0.0f);
      for (int64_t n = 0; n < pixels; ++n) {
        const float* g = dy + n * cout;
        for (int32_t o = 0; o < cout; ++o) dbias[o] += g[o];
        for (int64_t j = 0; j < nb_; ++j) {
          float* t = dtable.data() + int64_t{c.member[static_cast<size_t>(n * nb_ + j)]} * cout;
          for (int32_t o = 0; o < cout; ++o) t[o] += g[o];
        }
      }
      std::vector<float>& dcentroid = buffers.dcentroid;
      dcentroid.resize(clusters * static_cast<size_t>(len));
      for (int64_t j = 0; j < nb_; ++j) {
        const int32_t k0 = c.first[static_cast<size_t>(j)], kn = c.first[static_cast<size_t>(j + 1)] - k0;
        const float* cj = c.centroid.data() + int64_t{k0} * len;
        const float* tj = dtable.data() + int64_t{k0} * cout;
        gemm_tn(len, cout, kn, cj, len, tj, cout, dw + j * len * cout, cout, true);  // dW_j = C_jᵀ · dT_j
        gemm_nt(kn, len, cout, tj, cout, wp_.data() + j * len * cout, cout, dcentroid.data() + int64_t{k0} * len, len,
                false);  // dC_j = dT_j · W_jᵀ
      }
      if (grad_in) {  // a centroid is the mean of its members: each member gets 1/count of its gradient
        std::vector<float>& dcols = buffers.dcols;
        dcols.resize(c.cols.size());
        for (int64_t s = 0; s < subs; ++s) {
          const int32_t k = c.member[static_cast<size_t>(s)];
          const float inv = 1.0f / static_cast<float>(c.count[static_cast<size_t>(k)]);
          const float* src = dcentroid.data() + int64_t{k} * len;
          for (int32_t i = 0; i < len; ++i) dcols[static_cast<size_t>(s * len + i)] = src[i] * inv;
        }
        float* dx = grad_in->item(static_cast<int32_t>(n0));
        std::fill_n(dx, in.shape().item_size(), 0.0f);
        col2im_image_add(dcols.data(), dx);
      }

      // The projections, through the surrogate (header): g = dLoss/dr of each member's reconstruction, dY · Wᵀ.
      std::vector<float>& gr = buffers.gr;
      gr.resize(static_cast<size_t>(pixels * kp_));
      gemm_nt(pixels, kp_, cout, dy, cout, wp_.data(), cout, gr.data(), kp_, false);
      std::vector<float>& dz = buffers.dz;
      dz.resize(static_cast<size_t>(subs * bits));
      const int32_t codes = 1 << bits;
      for (int64_t s = 0; s < subs; ++s) {
        const int64_t j = s % nb_;
        const int32_t k = c.member[static_cast<size_t>(s)], code = c.code[static_cast<size_t>(k)];
        const float* ck = c.centroid.data() + int64_t{k} * len;
        const float* g = gr.data() + s * len;
        const float* self = c.cols.data() + s * len;
        for (int32_t h = 0; h < bits; ++h) {
          const int32_t other = c.by_code[static_cast<size_t>(j * codes + (code ^ (1 << h)))];
          const float* reached = other >= 0 ? c.centroid.data() + int64_t{other} * len : self;
          double slope = 0;  // g · (c_{h=1} − c_{h=0}) / 2
          for (int32_t i = 0; i < len; ++i) slope += double{g[i]} * (reached[i] - ck[i]);
          if (code & (1 << h)) slope = -slope;
          const float t = std::tanh(c.z[static_cast<size_t>(s * bits + h)] / c.tau);
          dz[static_cast<size_t>(s * bits + h)] = static_cast<float>(0.5 * slope) * (1.0f - t * t) / c.tau;
        }
      }
      gemm_tn(len, bits, subs, c.cols.data(), len, dz.data(), bits, dproj, bits, true);  // dP = Sᵀ · dZ
    }
  });
  sum_partials(partials_.data(), chunks, partial_size, k_ * cout, dw_);
  if (conv_.bias) sum_partials(partials_.data() + weight_size, chunks, partial_size, cout, db_);
  sum_partials(partials_.data() + weight_size + cout, chunks, partial_size, proj_size, dp_);
}

}  // namespace nas::supernet
