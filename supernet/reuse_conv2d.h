// A convolution with transient redundancy elimination (TREC; Liu et al., "Enabling Efficient Deep Learning on MCU
// With Transient Redundancy Elimination", IEEE Transactions on Computers 73(12), 2024): similar pieces of the
// im2col rows of one input are clustered by locality-sensitive hashing and each cluster is multiplied with the
// weights once.
//
// Per image: the im2col row of output pixel n (K = KH·KW·Cin values, ordered [kh][kw][c] like the HWIO weights) is
// cut into nb = ceil(K / L) sub-vectors of L values (the last one zero-padded). Each sub-vector s is hashed by H sign
// projections P (L × H, shared by every sub-vector of the layer): bit h = [s·P[:, h] > 0]. Within a block j, the
// sub-vectors of one code form a cluster; its centroid c is their mean, and every member uses c instead of itself:
//   out[n] = bias + Σ_j c_{j, code(n, j)} · W_j          (W_j: rows jL .. jL+L−1 of the K × Cout weights)
// so a block costs clusters × L × Cout multiply-adds instead of N × L × Cout. The int8 kernel
// (deploy/kernels/mcunas_kernels.h, mcunas_reuse_conv_s8) computes the same thing in integers.
//
// Gradients: for the weights, bias and input, exactly (through the centroids, which are means of the members). The
// projections only choose clusters, a step function; they learn through a straight-through surrogate of the sign:
// bit h is read as t_h = tanh(z_h / τ) ∈ (−1, 1), and a member's centroid as if it moved linearly from the
// centroid of the cluster with bit h = 0 to the one with bit h = 1 as t_h goes from −1 to +1:
//   r(P) = c_k + Σ_h (t_h(P) − t_h(P₀)) / 2 · (c_{k | h=1} − c_{k | h=0})
// where the cluster a flip reaches is, when empty, the member alone (its centroid is the member itself). Its
// value at P₀ is the hard forward; its derivative is the projections' gradient. τ = temperature × the root mean
// square of the image's z (held fixed in the derivative), so the surrogate does not depend on P's scale.
#pragma once

#include <vector>

#include "supernet/conv2d.h"
#include "supernet/layer.h"

namespace nas::supernet {

struct ReuseSpec {
  int32_t sub_len = 8;      // L: values per sub-vector
  int32_t hash_bits = 4;    // H: sign projections, 1..8 (the int8 kernel keeps a code in a byte)
  float temperature = 1.0f; // of the surrogate's tanh, relative to the root mean square of z
};

class ReuseConv2d final : public Layer {
 public:
  ReuseConv2d(Conv2dSpec conv, ReuseSpec reuse) : conv_(conv), reuse_(reuse) {}

  std::string type() const override { return "reuse_conv2d"; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void declare(ParamStore& store) override;
  void bind(ParamStore& store) override;
  void init(ParamStore& store, Rng& rng) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

  const Conv2dSpec& conv_spec() const { return conv_; }
  const ReuseSpec& reuse_spec() const { return reuse_; }
  const Conv2dGeometry& geometry() const { return g_; }
  int32_t in_channels() const { return in_c_; }
  int64_t row_length() const { return k_; }  // K
  int64_t blocks() const { return nb_; }     // nb
  // Weights HWIO (K × Cout), the same layout as Conv2d's; projections L × H, row-major.
  std::span<const float> weights() const { return {w_, static_cast<size_t>(k_ * conv_.out_channels)}; }
  std::span<const float> projections() const { return {p_, static_cast<size_t>(reuse_.sub_len * reuse_.hash_bits)}; }

  // Clusters over sub-vectors (nb × output pixels per image) of the last forward pass, summed over its images:
  // the share of a dense convolution's multiply-adds the clusters' products keep.
  double last_reuse_rate() const { return last_subvectors_ ? double(last_clusters_) / double(last_subvectors_) : 1; }

 private:
  struct ImageClusters;
  void cluster_image(const float* image, ImageClusters& c) const;
  template <class Fn>
  void for_each_inside_tap(Fn&& fn) const;
  void im2col_image(const float* image, float* cols) const;
  void col2im_image_add(const float* cols, float* grad_image) const;
  void padded_weights();

  Conv2dSpec conv_;
  ReuseSpec reuse_;
  Conv2dGeometry g_;
  int32_t in_c_ = 0, in_h_ = 0, in_w_ = 0, out_h_ = 0, out_w_ = 0;
  int64_t k_ = 0, nb_ = 0, kp_ = 0;  // K, blocks, nb·L
  int32_t weight_ = -1, bias_ = -1, projection_ = -1;
  float *w_ = nullptr, *dw_ = nullptr, *b_ = nullptr, *db_ = nullptr, *p_ = nullptr, *dp_ = nullptr;
  std::vector<float> wp_;        // the weights with nb·L − K zero rows appended (kp_ × Cout)
  std::vector<float> partials_;  // per-chunk gradients of weights (kp_ × Cout), bias, projections
  int64_t last_clusters_ = 0, last_subvectors_ = 0;
};

}  // namespace nas::supernet
