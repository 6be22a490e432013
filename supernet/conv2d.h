// 2-D convolution in NHWC with weights laid out [KH][KW][Cin/groups][Cout] ("HWIO"): any kernel size, stride,
// zero padding and group count. Two code paths, chosen by shape:
//  - dense and grouped convolutions run as im2col + GEMM (supernet/gemm.h) per chunk of images;
//  - depthwise convolution (groups == Cin == Cout) runs a direct loop vectorised over channels, since its GEMM
//    would have one column.
#pragma once

#include <vector>

#include "supernet/layer.h"

namespace nas::supernet {

struct Conv2dSpec {
  int32_t out_channels = 0;
  int32_t kernel_h = 3, kernel_w = 3;
  int32_t stride = 1;   // both dimensions, unless stride_w is set
  int32_t padding = 0;  // every side, unless the sides below are set: the top's
  int32_t groups = 1;
  bool bias = true;
  // Declared as a depthwise convolution (`depthwise_conv2d`). Only deployment reads it: with one channel a
  // depthwise convolution has groups == 1 like a dense one, yet must run on the depthwise kernel the search priced.
  bool depthwise = false;
  // Non-square strides and uneven padding (DS-CNN's 10×4 first layer at stride 2 with TensorFlow's "same", which
  // pads one more at the bottom than at the top): -1 takes `stride` / `padding`.
  int32_t stride_w = -1;
  int32_t pad_left = -1, pad_bottom = -1, pad_right = -1;
};

// A convolution's strides and the zero padding on each side, resolved from its spec.
struct Conv2dGeometry {
  int32_t stride_h = 1, stride_w = 1;
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool square() const {
    return stride_h == stride_w && pad_top == pad_left && pad_top == pad_bottom && pad_top == pad_right;
  }
};
Conv2dGeometry conv_geometry(const Conv2dSpec& spec);

class Conv2d final : public Layer {
 public:
  explicit Conv2d(Conv2dSpec spec) : spec_(spec) {}

  std::string type() const override { return "conv2d"; }
  Shape output_shape(std::span<const Shape> inputs) override;
  void declare(ParamStore& store) override;
  void bind(ParamStore& store) override;
  void init(ParamStore& store, Rng& rng) override;
  void forward(std::span<const Tensor* const> inputs, Tensor& output, bool training) override;
  void backward(std::span<const Tensor* const> inputs, const Tensor& output, const Tensor& grad_output,
                std::span<Tensor* const> grad_inputs) override;

  const Conv2dSpec& spec() const { return spec_; }
  const Conv2dGeometry& geometry() const { return g_; }
  int32_t in_channels() const { return in_c_; }

  // Weight sharing (Cai et al., "Once-for-All", ICLR 2020: a small kernel is the centre of the large one, a narrow
  // layer a subset of a wide one's channels). Call before declare(): this convolution then declares no parameters
  // and computes with `larger`'s weights — the centre KH×KW taps, input channel `in_map[i]` for its input channel i
  // and output channel `out_map[o]` for its output channel o (an empty map: the same index). Both must be dense
  // (groups 1) or both depthwise (a depthwise layer maps its channels with out_map), with the same stride and a
  // kernel at least as large in each dimension by an even amount (checked at bind()). Backward WRITES `larger`'s
  // whole weight gradient: the mapped taps from this layer, zeros elsewhere, as if `larger` had not run (the
  // supernet runs one of them per step).
  void share_weights_of(const Conv2d* larger, std::vector<int32_t> in_map = {}, std::vector<int32_t> out_map = {});
  bool shares_weights() const { return larger_ != nullptr; }
  // The weights this convolution computes with, HWIO: its own, or the centre of the larger kernel's.
  std::vector<float> weights() const;

 private:
  bool depthwise() const { return spec_.groups == in_c_ && spec_.out_channels == in_c_ && in_c_ > 1; }
  bool pointwise() const {  // 1×1, stride 1, no padding, dense: the input already is the im2col matrix
    return spec_.kernel_h == 1 && spec_.kernel_w == 1 && g_.stride_h == 1 && g_.stride_w == 1 && g_.pad_top == 0 &&
           g_.pad_left == 0 && g_.pad_bottom == 0 && g_.pad_right == 0 && spec_.groups == 1;
  }
  int64_t col_width() const { return int64_t{spec_.kernel_h} * spec_.kernel_w * (in_c_ / spec_.groups); }

  // im2col of images [image_begin, image_end) for one group, into this thread's buffer.
  const float* lowered(const Tensor& in, int64_t image_begin, int64_t image_end, int32_t group) const;
  void im2col(const Tensor& in, int32_t image_begin, int32_t image_end, int32_t group, float* col) const;
  void col2im_add(const float* col, int32_t image_begin, int32_t image_end, int32_t group, Tensor& grad_in) const;

  void forward_gemm(const Tensor& in, Tensor& out);
  void backward_gemm(const Tensor& in, const Tensor& grad_out, Tensor* grad_in);
  // Calls fn(input pixel index h·W + w, tap index kh·KW + kw) for each tap of output pixel (oh, ow) that falls
  // inside the image (taps on the zero padding contribute nothing).
  template <class Fn>
  void for_each_tap(int32_t oh, int32_t ow, Fn&& fn) const {
    for (int32_t kh = 0; kh < spec_.kernel_h; ++kh) {
      const int32_t ih = oh * g_.stride_h - g_.pad_top + kh;
      if (ih < 0 || ih >= in_h_) continue;
      for (int32_t kw = 0; kw < spec_.kernel_w; ++kw) {
        const int32_t iw = ow * g_.stride_w - g_.pad_left + kw;
        if (iw >= 0 && iw < in_w_) fn(int64_t{ih} * in_w_ + iw, int64_t{kh} * spec_.kernel_w + kw);
      }
    }
  }
  void forward_depthwise(const Tensor& in, Tensor& out) const;
  void backward_depthwise(const Tensor& in, const Tensor& grad_out, Tensor* grad_in);

  // The index into larger_'s weights of each of this layer's weights (HWIO): the centre taps, mapped channels.
  std::vector<int64_t> shared_weight_indices() const;
  // larger_'s weights at those indices; copied into w_; w_'s gradient back into larger_'s.
  std::vector<float> centre_of_larger() const;
  void crop_from_larger();
  void scatter_grad_to_larger();

  Conv2dSpec spec_;
  Conv2dGeometry g_ = conv_geometry(spec_);
  const Conv2d* larger_ = nullptr;
  std::vector<int32_t> in_map_, out_map_;  // channels of larger_ this layer computes with (empty: the same)
  std::vector<int64_t> shared_index_;     // shared_weight_indices(), from bind()
  std::vector<float> crop_w_, crop_dw_;  // this layer's weights and gradient when it shares
  int32_t in_c_ = 0, in_h_ = 0, in_w_ = 0, out_h_ = 0, out_w_ = 0;
  int32_t weight_ = -1, bias_ = -1;
  float* w_ = nullptr;
  float* dw_ = nullptr;
  float* b_ = nullptr;
  float* db_ = nullptr;
  std::vector<float> partials_;   // per-chunk weight (and bias) gradients, summed in chunk order
  std::vector<float> weights_t_;  // Wᵀ per group, for the input gradient
};

}  // namespace nas::supernet
