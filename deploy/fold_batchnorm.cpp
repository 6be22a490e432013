#include "deploy/fold_batchnorm.h"

#include <cmath>

#include "common/error.h"
#include "deploy/int8_ops.h"
#include "supernet/activation.h"
#include "supernet/add.h"
#include "supernet/batchnorm2d.h"
#include "supernet/conv2d.h"
#include "supernet/linear.h"
#include "supernet/pooling.h"
#include "supernet/reuse_conv2d.h"

namespace nas::deploy {

namespace {

using supernet::Network;

// The values of the k-th parameter slot node `node` declared.
std::span<const float> slot(const Network& net, int32_t node, int32_t k) {
  return net.params().value(net.first_param_slot(node) + k);
}

class Folder {
 public:
  explicit Folder(const Network& net) : net_(net), tensor_of_node_(static_cast<size_t>(net.size()), -1) {
    readers_.assign(static_cast<size_t>(net.size()), 0);
    for (int32_t i = 0; i < net.size(); ++i)
      for (const int32_t in : net.inputs(i))
        if (in != Network::kInput) ++readers_[static_cast<size_t>(in)];
    const auto shape = net.input_shape();
    model_.input = add_tensor("input", shape, Network::kInput);
  }

  FoldedModel run() {
    for (int32_t i = 0; i < net_.size(); ++i) lower(i);
    model_.output = tensor_of(net_.size() - 1);
    return std::move(model_);
  }

 private:
  int32_t add_tensor(const std::string& name, const supernet::Shape& s, int32_t node) {
    model_.tensors.push_back({name, s.h, s.w, s.c, node});
    return static_cast<int32_t>(model_.tensors.size()) - 1;
  }
  int32_t tensor_of(int32_t node) const {
    return node == Network::kInput ? model_.input : tensor_of_node_[static_cast<size_t>(node)];
  }
  Error refuse(int32_t node, const std::string& what) const {
    return Error("layer '" + net_.name(node) + "'", what);
  }

  FloatOp& new_op(int32_t node, Int8OpKind kind) {
    FloatOp op;
    op.kind = kind;
    op.name = net_.name(node);
    for (const int32_t in : net_.inputs(node)) op.inputs.push_back(tensor_of(in));
    op.output = add_tensor(net_.name(node), net_.output_shape(node), node);
    tensor_of_node_[static_cast<size_t>(node)] = op.output;
    model_.ops.push_back(std::move(op));
    return model_.ops.back();
  }

  // The op whose output node `node` reads, if a BatchNorm or an activation may fold into it: a convolution or
  // linear layer without an activation yet, read by nothing else; for an activation also a residual add (the ReLU
  // after a ResNet block's join: the add kernel clamps its output as TFLite's fused ADD does).
  FloatOp& foldable_producer(int32_t node, bool activation) {
    const int32_t in = net_.inputs(node).at(0);
    if (in == Network::kInput) throw refuse(node, "reads the network input directly; nothing to fold it into");
    if (readers_[static_cast<size_t>(in)] != 1)
      throw refuse(node, "its input '" + net_.name(in) + "' is read by other layers too, so it cannot be folded "
                         "into it (int8 deployment folds BatchNorm and activations into the layer before)");
    FloatOp& op = model_.ops.back();
    const bool weighted = op_row(op.kind).weighted;
    const bool join = activation && op.kind == Int8OpKind::add;
    if (op.output != tensor_of(in) || !(weighted || join) || std::isfinite(op.act_min))  // set by any activation
      throw refuse(node, "follows '" + net_.name(in) + "', which is not a convolution or linear layer (or, for an "
                         "activation, an add) without an activation; int8 deployment needs it folded into one");
    return op;
  }

  void set_activation(FloatOp& op, float cap) {
    op.act_min = 0.0f;
    if (cap > 0) op.act_max = cap;
  }

  // The fused op's output now holds `node`'s values.
  void takes_over(FloatOp& op, int32_t node) {
    model_.tensors[static_cast<size_t>(op.output)].node = node;
    model_.tensors[static_cast<size_t>(op.output)].name = net_.name(node);
    tensor_of_node_[static_cast<size_t>(node)] = op.output;
  }

  void lower(int32_t node) {
    const supernet::Layer& layer = net_.layer(node);
    const supernet::Shape in = net_.inputs(node).at(0) == Network::kInput
                                   ? net_.input_shape()
                                   : net_.output_shape(net_.inputs(node).at(0));
    const supernet::Shape out = net_.output_shape(node);
    if (const auto* conv = dynamic_cast<const supernet::Conv2d*>(&layer)) {
      lower_conv(node, *conv, in, out);
    } else if (const auto* reuse = dynamic_cast<const supernet::ReuseConv2d*>(&layer)) {
      lower_reuse_conv(node, *reuse, in, out);
    } else if (const auto* bn = dynamic_cast<const supernet::BatchNorm2d*>(&layer)) {
      FloatOp& op = foldable_producer(node, /*activation=*/false);
      fold(op, node, *bn);
      if (bn->activation() != supernet::BatchNorm2d::Activation::none)
        set_activation(op, bn->activation() == supernet::BatchNorm2d::Activation::relu6 ? 6.0f : 0.0f);
      takes_over(op, node);
    } else if (const auto* relu = dynamic_cast<const supernet::Relu*>(&layer)) {
      FloatOp& op = foldable_producer(node, /*activation=*/true);
      set_activation(op, relu->cap());
      takes_over(op, node);
    } else if (const auto* pool = dynamic_cast<const supernet::WindowPool*>(&layer)) {
      const bool is_max = dynamic_cast<const supernet::MaxPool2d*>(&layer) != nullptr;
      FloatOp& op = new_op(node, is_max ? Int8OpKind::max_pool : Int8OpKind::avg_pool);
      op.kernel_h = op.kernel_w = pool->spec().kernel;
      op.stride_h = op.stride_w = pool->spec().stride;
      op.pad_h = op.pad_w = pool->spec().padding;
    } else if (dynamic_cast<const supernet::GlobalAvgPool*>(&layer) != nullptr) {
      FloatOp& op = new_op(node, Int8OpKind::global_avg_pool);
      op.kernel_h = in.h;
      op.kernel_w = in.w;
    } else if (dynamic_cast<const supernet::Linear*>(&layer) != nullptr) {
      lower_linear(node, in, out);
    } else if (dynamic_cast<const supernet::Add*>(&layer) != nullptr) {
      new_op(node, Int8OpKind::add);
    } else {
      throw refuse(node, "layer type '" + layer.type() + "' has no int8 kernel (known: conv2d, depthwise_conv2d, "
                         "reuse_conv2d, batchnorm, relu, relu6, max_pool, avg_pool, global_avg_pool, linear, add)");
    }
  }

  void lower_conv(int32_t node, const supernet::Conv2d& conv, const supernet::Shape& in, const supernet::Shape& out) {
    const auto& spec = conv.spec();
    const int32_t cin = in.c, cout = out.c, kh = spec.kernel_h, kw = spec.kernel_w;
    // A declared depthwise layer stays depthwise with one channel (groups == 1 then), as the search prices it.
    const bool depthwise = spec.depthwise || (spec.groups == cin && cout == cin && cin > 1);
    if (spec.groups != 1 && !depthwise)
      throw refuse(node, "a grouped convolution (" + std::to_string(spec.groups) + " groups) has no int8 kernel; "
                         "use groups: 1 or a depthwise convolution");
    FloatOp& op = new_op(node, depthwise ? Int8OpKind::depthwise : Int8OpKind::conv);
    op.kernel_h = kh;
    op.kernel_w = kw;
    // The kernels take the leading (top, left) pads; the trailing ones follow from the output's size.
    const supernet::Conv2dGeometry& g = conv.geometry();
    op.stride_h = g.stride_h;
    op.stride_w = g.stride_w;
    op.pad_h = g.pad_top;
    op.pad_w = g.pad_left;
    const auto w = slot(net_, node, 0);  // HWIO: [kh][kw][cin / groups][cout]
    if (depthwise) {
      op.weights.assign(w.begin(), w.end());  // [kh][kw][1][c] is already [kh][kw][c]
    } else {
      op.weights.resize(w.size());
      for (int32_t o = 0; o < cout; ++o)
        for (int32_t t = 0; t < kh * kw; ++t)
          for (int32_t i = 0; i < cin; ++i)
            op.weights[(static_cast<size_t>(o) * kh * kw + t) * cin + i] = w[(static_cast<size_t>(t) * cin + i) * cout + o];
    }
    op.bias.assign(static_cast<size_t>(cout), 0.0f);
    if (spec.bias) {
      const auto b = slot(net_, node, 1);
      op.bias.assign(b.begin(), b.end());
    }
  }

  // The weights as a convolution's (OHWI, folded like one: BatchNorm scales whole output channels, which the
  // clusters do not depend on); the projections as they are.
  void lower_reuse_conv(int32_t node, const supernet::ReuseConv2d& conv, const supernet::Shape& in,
                        const supernet::Shape& out) {
    FloatOp& op = new_op(node, Int8OpKind::reuse_conv);
    const auto& spec = conv.conv_spec();
    const int32_t cin = in.c, cout = out.c, kh = spec.kernel_h, kw = spec.kernel_w;
    const supernet::Conv2dGeometry& g = conv.geometry();
    op.kernel_h = kh;
    op.kernel_w = kw;
    op.stride_h = g.stride_h;
    op.stride_w = g.stride_w;
    op.pad_h = g.pad_top;
    op.pad_w = g.pad_left;
    const auto w = conv.weights();  // HWIO
    op.weights.resize(w.size());
    for (int32_t o = 0; o < cout; ++o)
      for (int32_t t = 0; t < kh * kw; ++t)
        for (int32_t i = 0; i < cin; ++i)
          op.weights[(static_cast<size_t>(o) * kh * kw + t) * cin + i] =
              w[(static_cast<size_t>(t) * cin + i) * cout + o];
    op.bias.assign(static_cast<size_t>(cout), 0.0f);
    if (spec.bias) {
      const auto b = slot(net_, node, 1);
      op.bias.assign(b.begin(), b.end());
    }
    op.sub_len = conv.reuse_spec().sub_len;
    op.hash_bits = conv.reuse_spec().hash_bits;
    const auto p = conv.projections();
    op.projections.assign(p.begin(), p.end());
  }

  void lower_linear(int32_t node, const supernet::Shape& in, const supernet::Shape& out) {
    FloatOp& op = new_op(node, Int8OpKind::fully_connected);
    const int64_t n_in = in.item_size();
    const int32_t n_out = out.c;
    const auto w = slot(net_, node, 0);  // [in][out]
    op.weights.resize(w.size());
    for (int32_t o = 0; o < n_out; ++o)
      for (int64_t i = 0; i < n_in; ++i) op.weights[static_cast<size_t>(o * n_in + i)] = w[static_cast<size_t>(i * n_out + o)];
    op.bias.assign(static_cast<size_t>(n_out), 0.0f);
    if (net_.param_slot_count(node) > 1) {
      const auto b = slot(net_, node, 1);
      op.bias.assign(b.begin(), b.end());
    }
  }

  void fold(FloatOp& op, int32_t node, const supernet::BatchNorm2d& bn) {
    const auto gamma = slot(net_, node, 0), beta = slot(net_, node, 1);
    const auto mean = slot(net_, node, 2), var = slot(net_, node, 3);
    const size_t channels = op.bias.size();
    if (gamma.size() != channels)
      throw refuse(node, "has " + std::to_string(gamma.size()) + " channels, its input " + std::to_string(channels));
    const size_t per_channel = op.weights.size() / channels;
    for (size_t o = 0; o < channels; ++o) {
      const double s = gamma[o] / std::sqrt(static_cast<double>(var[o]) + bn.eps());
      op.bias[o] = static_cast<float>(s * (op.bias[o] - mean[o]) + beta[o]);
      if (op_row(op.kind).weights_channel_last) {  // [kh][kw][c]: channel o every `channels` values
        for (size_t t = 0; t < per_channel; ++t) op.weights[t * channels + o] *= static_cast<float>(s);
      } else {                                 // output channel first
        for (size_t t = 0; t < per_channel; ++t) op.weights[o * per_channel + t] *= static_cast<float>(s);
      }
    }
  }

  const Network& net_;
  FoldedModel model_;
  std::vector<int32_t> readers_;
  std::vector<int32_t> tensor_of_node_;
};

}  // namespace

FoldedModel fold_batchnorm(const supernet::Network& net) {
  if (net.size() == 0) throw Error("model", "has no layers to deploy");
  return Folder(net).run();
}

}  // namespace nas::deploy
