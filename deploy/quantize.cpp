#include "deploy/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "deploy/int8_ops.h"
#include "deploy/quantize_multiplier.h"

namespace nas::deploy {

namespace {

int32_t clamp_to_int32(double v) {
  return static_cast<int32_t>(std::clamp(std::round(v), static_cast<double>(std::numeric_limits<int32_t>::min()),
                                         static_cast<double>(std::numeric_limits<int32_t>::max())));
}

// The output clamp of a fused activation in the output's quantised domain.
void set_clamp(Int8Op& op, const FloatOp& f, const QuantParams& out) {
  op.act_min = -128;
  op.act_max = 127;
  if (std::isfinite(f.act_min))
    op.act_min = std::clamp(out.zero_point + static_cast<int32_t>(std::round(f.act_min / out.scale)), -128, 127);
  if (std::isfinite(f.act_max))
    op.act_max = std::clamp(out.zero_point + static_cast<int32_t>(std::round(f.act_max / out.scale)), -128, 127);
}

// Weights per output channel, biases and requantisation of a conv, depthwise or fully connected op.
void quantize_weights(Int8Op& op, const FloatOp& f, double s_in, double s_out) {
  const size_t channels = f.bias.size();
  const size_t per_channel = f.weights.size() / channels;
  const bool channel_last = op_row(f.kind).weights_channel_last;  // [k_h][k_w][c]
  auto index = [&](size_t c, size_t t) { return channel_last ? t * channels + c : c * per_channel + t; };
  op.weights.resize(f.weights.size());
  op.bias.resize(channels);
  op.multiplier.resize(channels);
  op.shift.resize(channels);
  op.weight_scale.resize(channels);
  for (size_t c = 0; c < channels; ++c) {
    double max_abs = 0;
    for (size_t t = 0; t < per_channel; ++t) max_abs = std::max(max_abs, std::abs(static_cast<double>(f.weights[index(c, t)])));
    // An all-zero channel: any scale quantises it exactly; 1/127 keeps the bias and multiplier finite.
    const double s_w = max_abs > 0 ? max_abs / 127.0 : 1.0 / 127.0;
    op.weight_scale[c] = s_w;
    for (size_t t = 0; t < per_channel; ++t)
      op.weights[index(c, t)] = static_cast<int8_t>(std::clamp(std::round(f.weights[index(c, t)] / s_w), -127.0, 127.0));
    op.bias[c] = clamp_to_int32(f.bias[c] / (s_in * s_w));
    const FixedPointScale m = quantize_multiplier(s_in * s_w / s_out);
    op.multiplier[c] = m.multiplier;
    op.shift[c] = m.shift;
  }
}

// A reuse convolution's hash projections: symmetric int8 with one scale (only the signs of the input's products
// with them are used, so the scale itself is not stored). The int8 kernel hashes the input's integer values, whose
// products have the float ones' signs up to rounding near zero.
void quantize_projections(Int8Op& op, const FloatOp& f) {
  op.sub_len = f.sub_len;
  op.hash_bits = f.hash_bits;
  double max_abs = 0;
  for (const float p : f.projections) max_abs = std::max(max_abs, std::abs(static_cast<double>(p)));
  const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
  op.projections.resize(f.projections.size());
  for (size_t i = 0; i < f.projections.size(); ++i)
    op.projections[i] = static_cast<int8_t>(std::clamp(std::round(f.projections[i] / scale), -127.0, 127.0));
}

}  // namespace

QuantParams activation_quant(double min, double max) {
  const double lo = std::min(0.0, min), hi = std::max(0.0, max);
  QuantParams q;
  q.scale = hi > lo ? (hi - lo) / 255.0 : 1.0 / 255.0;  // a tensor that is always 0
  q.zero_point = static_cast<int32_t>(std::clamp(std::round(-128.0 - lo / q.scale), -128.0, 127.0));
  return q;
}

Int8Model quantize(const FoldedModel& model, const std::vector<TensorRange>& ranges, std::vector<float> mean,
                   std::vector<float> stddev) {
  if (ranges.size() != model.tensors.size())
    throw Error("quantize", std::to_string(ranges.size()) + " ranges for " + std::to_string(model.tensors.size()) +
                                " tensors", Error::Kind::failure);
  Int8Model q;
  q.input = model.input;
  q.output = model.output;
  q.input_mean = std::move(mean);
  q.input_stddev = std::move(stddev);
  for (size_t t = 0; t < model.tensors.size(); ++t) {
    const auto& ft = model.tensors[t];
    q.tensors.push_back({ft.name, ft.h, ft.w, ft.c, activation_quant(ranges[t].min, ranges[t].max)});
  }
  for (const FloatOp& f : model.ops) {
    Int8Op op;
    op.kind = f.kind;
    op.name = f.name;
    op.inputs = f.inputs;
    op.output = f.output;
    op.kernel_h = f.kernel_h;
    op.kernel_w = f.kernel_w;
    op.stride_h = f.stride_h;
    op.stride_w = f.stride_w;
    op.pad_h = f.pad_h;
    op.pad_w = f.pad_w;
    QuantParams& out = q.tensors[static_cast<size_t>(f.output)].quant;
    const QuantParams& in = q.tensors[static_cast<size_t>(f.inputs.at(0))].quant;
    switch (f.kind) {
      case Int8OpKind::conv:
      case Int8OpKind::depthwise:
      case Int8OpKind::fully_connected:
        quantize_weights(op, f, in.scale, out.scale);
        break;
      case Int8OpKind::reuse_conv:
        quantize_weights(op, f, in.scale, out.scale);
        quantize_projections(op, f);
        break;
      case Int8OpKind::max_pool:
      case Int8OpKind::avg_pool:
        out = in;  // the kernels keep the input's quantisation
        break;
      case Int8OpKind::global_avg_pool: {  // its own output scale: the mean is far below the map's maximum
        const auto& t = q.tensors[static_cast<size_t>(f.inputs[0])];
        const FixedPointScale m = quantize_multiplier(in.scale / (out.scale * static_cast<double>(t.h * t.w)));
        op.mean = {-in.zero_point, out.zero_point, m.multiplier, m.shift, -128, 127};
        break;
      }
      case Int8OpKind::add: {
        const QuantParams& in2 = q.tensors[static_cast<size_t>(f.inputs.at(1))].quant;
        const AddScales s = add_scales(in.scale, in2.scale, out.scale);
        op.add = {-in.zero_point, s.input1.multiplier, s.input1.shift, -in2.zero_point, s.input2.multiplier,
                  s.input2.shift, s.left_shift, out.zero_point, s.output.multiplier, s.output.shift, -128, 127};
        break;
      }
    }
    set_clamp(op, f, out);
    if (f.kind == Int8OpKind::add) {
      op.add.act_min = op.act_min;
      op.add.act_max = op.act_max;
    }
    if (f.kind == Int8OpKind::global_avg_pool) {
      op.mean.act_min = op.act_min;
      op.mean.act_max = op.act_max;
    }
    q.ops.push_back(std::move(op));
  }
  validate(q);
  return q;
}

}  // namespace nas::deploy
