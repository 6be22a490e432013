#include "deploy/tflite_export.h"

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/error.h"
#include "common/same_padding.h"
#include "deploy/tflite_schema.h"

namespace nas::deploy {

namespace {

namespace fb = flatbuffers;
using tflite::slot;
using Table = fb::Offset<void>;

constexpr const char* kWhere = "tflite export";

// How a layer's padding reads in TFLite: "same", "valid", or neither, then an explicit PAD before a "valid" layer.
struct PaddingPlan {
  tflite::Padding padding = tflite::Padding::valid;
  bool explicit_pad = false;
  int32_t top = 0, bottom = 0, left = 0, right = 0;
};

// One dimension: whether our leading pad and output size are TensorFlow's "same" (output ⌈in / stride⌉, the total
// padding split with the odd one at the end) or "valid" (no padding, output ⌊(in − k) / stride⌋ + 1).
bool is_same(int32_t in, int32_t out, int32_t k, int32_t stride, int32_t pad) {
  const SamePadding same = same_padding(in, k, stride);
  return out == same.out && pad == same.before;
}
bool is_valid(int32_t in, int32_t out, int32_t k, int32_t stride, int32_t pad) {
  return pad == 0 && in >= k && out == (in - k) / stride + 1;
}

PaddingPlan padding_plan(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
  PaddingPlan plan;
  if (is_same(in.h, out.h, op.kernel_h, op.stride_h, op.pad_h) &&
      is_same(in.w, out.w, op.kernel_w, op.stride_w, op.pad_w)) {
    plan.padding = tflite::Padding::same;
    return plan;
  }
  if (is_valid(in.h, out.h, op.kernel_h, op.stride_h, op.pad_h) &&
      is_valid(in.w, out.w, op.kernel_w, op.stride_w, op.pad_w))
    return plan;
  // Our kernels pad pad_h rows on top and as many at the bottom as the output needs (trailing input rows the
  // windows never reach are left out, as a "valid" layer leaves them).
  plan.explicit_pad = true;
  plan.top = op.pad_h;
  plan.left = op.pad_w;
  plan.bottom = std::max((out.h - 1) * op.stride_h + op.kernel_h - in.h - op.pad_h, 0);
  plan.right = std::max((out.w - 1) * op.stride_w + op.kernel_w - in.w - op.pad_w, 0);
  return plan;
}

// The fused activation whose clamp TFLite derives (from the output's scale and zero point) equal to ours.
tflite::Activation fused_activation(const Int8Op& op, const QuantParams& out, size_t index) {
  const int32_t floor = std::max(-128, out.zero_point);
  const float scale = static_cast<float>(out.scale);
  if (op.act_min == -128 && op.act_max == 127) return tflite::Activation::none;
  if (op.act_min == floor && op.act_max == 127) return tflite::Activation::relu;
  if (op.act_min == floor &&
      op.act_max == std::min(127, out.zero_point + static_cast<int32_t>(std::round(6.0f / scale))))
    return tflite::Activation::relu6;
  throw Error(kWhere, fmt::format("op {} ('{}'): its output clamp [{}, {}] is no TFLite fused activation (none, "
                                  "ReLU or ReLU6 at the output's zero point {})",
                                  index, op.name, op.act_min, op.act_max, out.zero_point));
}

class Writer {
 public:
  explicit Writer(const Int8Model& model) : model_(model) {
    buffers_.push_back(empty_buffer());  // buffer 0: no data, what activations point at
  }

  std::vector<uint8_t> finish(const std::string& description) {
    for (size_t t = 0; t < model_.tensors.size(); ++t) {
      const Int8Tensor& tensor = model_.tensors[t];
      activation_index_.push_back(add_tensor(tensor.name, shape_of(static_cast<int32_t>(t)), tflite::TensorType::int8,
                                             0, {static_cast<float>(tensor.quant.scale)},
                                             {tensor.quant.zero_point}, 0));
    }
    for (size_t i = 0; i < model_.ops.size(); ++i) add_op(i);
    const auto tensors = fbb_.CreateVector(tensors_);
    const auto inputs = fbb_.CreateVector(std::vector<int32_t>{activation_index_.at(index(model_.input))});
    const auto outputs = fbb_.CreateVector(std::vector<int32_t>{activation_index_.at(index(model_.output))});
    const auto operators = fbb_.CreateVector(operators_);
    const auto name = fbb_.CreateString("main");
    auto start = fbb_.StartTable();
    fbb_.AddOffset(slot(tflite::subgraph::tensors), tensors);
    fbb_.AddOffset(slot(tflite::subgraph::inputs), inputs);
    fbb_.AddOffset(slot(tflite::subgraph::outputs), outputs);
    fbb_.AddOffset(slot(tflite::subgraph::operators), operators);
    fbb_.AddOffset(slot(tflite::subgraph::name), name);
    const Table subgraph{fbb_.EndTable(start)};

    std::vector<Table> codes;
    for (const tflite::Builtin code : codes_) {
      start = fbb_.StartTable();
      fbb_.AddElement<int8_t>(slot(tflite::operator_code::deprecated_builtin_code), static_cast<int8_t>(code));
      fbb_.AddElement<int32_t>(slot(tflite::operator_code::version), 1);
      fbb_.AddElement<int32_t>(slot(tflite::operator_code::builtin_code), static_cast<int32_t>(code));
      codes.push_back(Table{fbb_.EndTable(start)});
    }
    const auto code_vector = fbb_.CreateVector(codes);
    const auto subgraphs = fbb_.CreateVector(std::vector<Table>{subgraph});
    const auto text = fbb_.CreateString(description);
    const auto buffers = fbb_.CreateVector(buffers_);
    start = fbb_.StartTable();
    fbb_.AddElement<uint32_t>(slot(tflite::model::version), tflite::kSchemaVersion);
    fbb_.AddOffset(slot(tflite::model::operator_codes), code_vector);
    fbb_.AddOffset(slot(tflite::model::subgraphs), subgraphs);
    fbb_.AddOffset(slot(tflite::model::description), text);
    fbb_.AddOffset(slot(tflite::model::buffers), buffers);
    fbb_.Finish(fb::Offset<void>(fbb_.EndTable(start)), tflite::kFileIdentifier);
    return {fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize()};
  }

 private:
  static size_t index(int32_t id) { return static_cast<size_t>(id); }

  // Activations are NHWC with one image.
  std::vector<int32_t> shape_of(int32_t tensor) const {
    const Int8Tensor& t = model_.tensors[index(tensor)];
    return {1, t.h, t.w, t.c};
  }

  Table empty_buffer() {
    const auto start = fbb_.StartTable();
    return Table{fbb_.EndTable(start)};
  }

  // A constant's bytes as a buffer of its own; returns the buffer's index.
  uint32_t add_buffer(const void* data, size_t bytes) {
    fbb_.ForceVectorAlignment(bytes, 1, 16);
    const auto vector = fbb_.CreateVector(static_cast<const uint8_t*>(data), bytes);
    const auto start = fbb_.StartTable();
    fbb_.AddOffset(slot(tflite::buffer::data), vector);
    buffers_.push_back(Table{fbb_.EndTable(start)});
    return static_cast<uint32_t>(buffers_.size() - 1);
  }

  // Returns the tensor's index. An empty `scales` leaves it unquantised (int32 shape operands).
  int32_t add_tensor(const std::string& name, const std::vector<int32_t>& shape, tflite::TensorType type,
                     uint32_t buffer, const std::vector<float>& scales, const std::vector<int64_t>& zero_points,
                     int32_t quantized_dimension) {
    const auto shape_vector = fbb_.CreateVector(shape);
    const auto name_string = fbb_.CreateString(name);
    std::optional<fb::Offset<void>> quant;
    if (!scales.empty()) {
      const auto scale_vector = fbb_.CreateVector(scales);
      const auto zero_vector = fbb_.CreateVector(zero_points);
      const auto start = fbb_.StartTable();
      fbb_.AddOffset(slot(tflite::quantization::scale), scale_vector);
      fbb_.AddOffset(slot(tflite::quantization::zero_point), zero_vector);
      fbb_.AddElement<int32_t>(slot(tflite::quantization::quantized_dimension), quantized_dimension);
      quant = Table{fbb_.EndTable(start)};
    }
    const auto start = fbb_.StartTable();
    fbb_.AddOffset(slot(tflite::tensor::shape), shape_vector);
    fbb_.AddElement<int8_t>(slot(tflite::tensor::type), static_cast<int8_t>(type));
    fbb_.AddElement<uint32_t>(slot(tflite::tensor::buffer), buffer);
    fbb_.AddOffset(slot(tflite::tensor::name), name_string);
    if (quant) fbb_.AddOffset(slot(tflite::tensor::quantization), *quant);
    tensors_.push_back(Table{fbb_.EndTable(start)});
    return static_cast<int32_t>(tensors_.size() - 1);
  }

  int32_t add_int32_constant(const std::string& name, const std::vector<int32_t>& shape,
                             const std::vector<int32_t>& values) {
    const uint32_t buffer = add_buffer(values.data(), values.size() * sizeof(int32_t));
    return add_tensor(name, shape, tflite::TensorType::int32, buffer, {}, {}, 0);
  }

  uint32_t opcode(tflite::Builtin code) {
    const auto it = std::find(codes_.begin(), codes_.end(), code);
    if (it != codes_.end()) return static_cast<uint32_t>(it - codes_.begin());
    codes_.push_back(code);
    return static_cast<uint32_t>(codes_.size() - 1);
  }

  // `fill` adds the options table's fields between StartTable and EndTable.
  template <class Fill>
  void add_operator(tflite::Builtin code, const std::vector<int32_t>& inputs, int32_t output,
                    tflite::Options options_type, Fill fill) {
    std::optional<Table> options;
    if (options_type != tflite::Options::none) {
      const auto start = fbb_.StartTable();
      fill();
      options = Table{fbb_.EndTable(start)};
    }
    const uint32_t code_index = opcode(code);
    const auto in = fbb_.CreateVector(inputs);
    const auto out = fbb_.CreateVector(std::vector<int32_t>{output});
    const auto start = fbb_.StartTable();
    fbb_.AddElement<uint32_t>(slot(tflite::op::opcode_index), code_index);
    fbb_.AddOffset(slot(tflite::op::inputs), in);
    fbb_.AddOffset(slot(tflite::op::outputs), out);
    if (options) {
      fbb_.AddElement<uint8_t>(slot(tflite::op::builtin_options_type), static_cast<uint8_t>(options_type));
      fbb_.AddOffset(slot(tflite::op::builtin_options), *options);
    }
    operators_.push_back(Table{fbb_.EndTable(start)});
  }

  void add_conv(const std::vector<int32_t>& inputs, int32_t output, tflite::Padding padding, int32_t stride_h,
                int32_t stride_w, tflite::Activation act) {
    add_operator(tflite::Builtin::conv_2d, inputs, output, tflite::Options::conv_2d, [&] {
      namespace o = tflite::conv_options;
      fbb_.AddElement<int8_t>(slot(o::padding), static_cast<int8_t>(padding));
      fbb_.AddElement<int32_t>(slot(o::stride_w), stride_w);
      fbb_.AddElement<int32_t>(slot(o::stride_h), stride_h);
      fbb_.AddElement<int8_t>(slot(o::fused_activation), static_cast<int8_t>(act));
      fbb_.AddElement<int32_t>(slot(o::dilation_w), 1);
      fbb_.AddElement<int32_t>(slot(o::dilation_h), 1);
    });
  }

  // Weights and bias of a conv, depthwise or fully connected op; returns their tensor indices.
  std::pair<int32_t, int32_t> add_weights(const Int8Op& op, size_t i, const std::vector<int32_t>& shape,
                                          int32_t quantized_dimension) {
    const size_t channels = op.bias.size();
    if (op.weight_scale.size() != channels)
      throw Error(kWhere, fmt::format("op {} ('{}') has no per-channel weight scales (Int8Op::weight_scale, which "
                                      "deploy::quantize sets)", i, op.name), Error::Kind::failure);
    const float s_in = static_cast<float>(model_.tensors[index(op.inputs[0])].quant.scale);
    std::vector<float> scales, bias_scales;
    for (const double s : op.weight_scale) {
      scales.push_back(static_cast<float>(s));
      bias_scales.push_back(s_in * static_cast<float>(s));
    }
    const std::vector<int64_t> zeros(channels, 0);
    const uint32_t wb = add_buffer(op.weights.data(), op.weights.size());
    const int32_t weights = add_tensor(op.name + ".weights", shape, tflite::TensorType::int8, wb, scales, zeros,
                                       quantized_dimension);
    const uint32_t bb = add_buffer(op.bias.data(), op.bias.size() * sizeof(int32_t));
    const int32_t bias = add_tensor(op.name + ".bias", {static_cast<int32_t>(channels)}, tflite::TensorType::int32,
                                    bb, bias_scales, zeros, 0);
    return {weights, bias};
  }

  // The layer's input, through an explicit PAD (zero point as the padding value) when its padding needs one.
  int32_t padded_input(const Int8Op& op, const PaddingPlan& plan) {
    const int32_t input = activation_index_.at(index(op.inputs[0]));
    if (!plan.explicit_pad) return input;
    const Int8Tensor& in = model_.tensors[index(op.inputs[0])];
    const int32_t paddings = add_int32_constant(op.name + ".paddings", {4, 2},
                                                {0, 0, plan.top, plan.bottom, plan.left, plan.right, 0, 0});
    const int32_t padded = add_tensor(op.name + ".padded", {1, in.h + plan.top + plan.bottom,
                                                            in.w + plan.left + plan.right, in.c},
                                      tflite::TensorType::int8, 0, {static_cast<float>(in.quant.scale)},
                                      {in.quant.zero_point}, 0);
    add_operator(tflite::Builtin::pad, {input, paddings}, padded, tflite::Options::pad, [] {});
    return padded;
  }

  void add_op(size_t i) {
    const Int8Op& op = model_.ops[i];
    const Int8Tensor& in = model_.tensors[index(op.inputs.at(0))];
    const Int8Tensor& out = model_.tensors[index(op.output)];
    const int32_t output = activation_index_.at(index(op.output));
    switch (op.kind) {
      case Int8OpKind::conv:
      case Int8OpKind::depthwise: {
        const bool depthwise = op.kind == Int8OpKind::depthwise;
        const PaddingPlan plan = padding_plan(in, out, op);
        const tflite::Activation act = fused_activation(op, out.quant, i);
        const int32_t input = padded_input(op, plan);
        // Ours and TFLite's layouts agree: conv OHWI [c_out][k_h][k_w][c_in], depthwise [1][k_h][k_w][c].
        const auto [weights, bias] =
            depthwise ? add_weights(op, i, {1, op.kernel_h, op.kernel_w, out.c}, 3)
                      : add_weights(op, i, {out.c, op.kernel_h, op.kernel_w, in.c}, 0);
        if (depthwise) {
          add_operator(tflite::Builtin::depthwise_conv_2d, {input, weights, bias}, output,
                       tflite::Options::depthwise_conv_2d, [&] {
                         namespace o = tflite::depthwise_options;
                         fbb_.AddElement<int8_t>(slot(o::padding), static_cast<int8_t>(plan.padding));
                         fbb_.AddElement<int32_t>(slot(o::stride_w), op.stride_w);
                         fbb_.AddElement<int32_t>(slot(o::stride_h), op.stride_h);
                         fbb_.AddElement<int32_t>(slot(o::depth_multiplier), 1);
                         fbb_.AddElement<int8_t>(slot(o::fused_activation), static_cast<int8_t>(act));
                         fbb_.AddElement<int32_t>(slot(o::dilation_w), 1);
                         fbb_.AddElement<int32_t>(slot(o::dilation_h), 1);
                       });
        } else {
          add_conv({input, weights, bias}, output, plan.padding, op.stride_h, op.stride_w, act);
        }
        return;
      }
      case Int8OpKind::fully_connected: {
        // As a 1×1 CONV_2D on the input flattened to [1, 1, 1, h·w·c] (NHWC order, as ours flattens): TFLite's
        // FULLY_CONNECTED has per-channel weight scales only in newer runtimes (Arm NN 20.08 refuses them), a
        // convolution has them everywhere, and the output stays our [1, 1, 1, units] tensor.
        const tflite::Activation act = fused_activation(op, out.quant, i);
        const int32_t depth = static_cast<int32_t>(op.weights.size()) / out.c;
        int32_t input = activation_index_.at(index(op.inputs[0]));
        if (in.h != 1 || in.w != 1) {
          const std::vector<int32_t> flat = {1, 1, 1, depth};
          const int32_t shape = add_int32_constant(op.name + ".flat_shape", {4}, flat);
          const int32_t flattened = add_tensor(op.name + ".flat", flat, tflite::TensorType::int8, 0,
                                               {static_cast<float>(in.quant.scale)}, {in.quant.zero_point}, 0);
          const auto new_shape = fbb_.CreateVector(flat);
          add_operator(tflite::Builtin::reshape, {input, shape}, flattened, tflite::Options::reshape, [&] {
            fbb_.AddOffset(slot(tflite::reshape_options::new_shape), new_shape);
          });
          input = flattened;
        }
        const auto [weights, bias] = add_weights(op, i, {out.c, 1, 1, depth}, 0);
        add_conv({input, weights, bias}, output, tflite::Padding::valid, 1, 1, act);
        return;
      }
      case Int8OpKind::max_pool:
      case Int8OpKind::avg_pool: {
        const PaddingPlan plan = padding_plan(in, out, op);
        if (plan.explicit_pad)
          throw Error(kWhere, fmt::format("op {} ('{}'): pooling with {} rows and {} columns of padding is neither "
                                          "TFLite's \"same\" nor \"valid\"", i, op.name, op.pad_h, op.pad_w));
        const tflite::Activation act = fused_activation(op, out.quant, i);
        const bool max = op.kind == Int8OpKind::max_pool;
        add_operator(max ? tflite::Builtin::max_pool_2d : tflite::Builtin::average_pool_2d,
                     {activation_index_.at(index(op.inputs[0]))}, output, tflite::Options::pool_2d, [&] {
                       namespace o = tflite::pool_options;
                       fbb_.AddElement<int8_t>(slot(o::padding), static_cast<int8_t>(plan.padding));
                       fbb_.AddElement<int32_t>(slot(o::stride_w), op.stride_w);
                       fbb_.AddElement<int32_t>(slot(o::stride_h), op.stride_h);
                       fbb_.AddElement<int32_t>(slot(o::filter_width), op.kernel_w);
                       fbb_.AddElement<int32_t>(slot(o::filter_height), op.kernel_h);
                       fbb_.AddElement<int8_t>(slot(o::fused_activation), static_cast<int8_t>(act));
                     });
        return;
      }
      case Int8OpKind::global_avg_pool: {
        if (op.act_min != -128 || op.act_max != 127)
          throw Error(kWhere, fmt::format("op {} ('{}'): a clamped mean has no TFLite MEAN", i, op.name));
        const int32_t axes = add_int32_constant(op.name + ".axes", {2}, {1, 2});
        add_operator(tflite::Builtin::mean, {activation_index_.at(index(op.inputs[0])), axes}, output,
                     tflite::Options::reducer, [&] {
                       fbb_.AddElement<uint8_t>(slot(tflite::reducer_options::keep_dims), 1);
                     });
        return;
      }
      case Int8OpKind::add: {
        const tflite::Activation act = fused_activation(op, out.quant, i);
        add_operator(tflite::Builtin::add,
                     {activation_index_.at(index(op.inputs[0])), activation_index_.at(index(op.inputs[1]))}, output,
                     tflite::Options::add, [&] {
                       fbb_.AddElement<int8_t>(slot(tflite::add_options::fused_activation), static_cast<int8_t>(act));
                     });
        return;
      }
      case Int8OpKind::reuse_conv:  // refused in tflite_model() before anything is written
        return;
    }
  }

  const Int8Model& model_;
  fb::FlatBufferBuilder fbb_{1 << 16};
  std::vector<Table> buffers_, tensors_, operators_;
  std::vector<int32_t> activation_index_;  // our tensor id → its TFLite tensor index
  std::vector<tflite::Builtin> codes_;
};

}  // namespace

std::vector<uint8_t> tflite_model(const Int8Model& model, const std::string& description) {
  validate(model);
  for (const Int8Op& op : model.ops)
    if (op.kind == Int8OpKind::reuse_conv)
      throw Error("tflite export", "op '" + op.name + "' is a reuse convolution (TREC), which TFLite has no "
                  "operator for; export it as C (--format c or arduino) instead");
  return Writer(model).finish(description);
}

bool tflite_writes_pad(const Int8Model& model, size_t i) {
  const Int8Op& op = model.ops.at(i);
  return padding_plan(model.tensors.at(static_cast<size_t>(op.inputs.at(0))),
                      model.tensors.at(static_cast<size_t>(op.output)), op)
      .explicit_pad;
}

}  // namespace nas::deploy
