#include "deploy/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deploy/kernel_call.h"

namespace nas::deploy {

namespace {

bool weighted(const Int8Op& op) {
  return op.kind == Int8OpKind::conv || op.kind == Int8OpKind::depthwise || op.kind == Int8OpKind::fully_connected;
}

// Adds, per output channel of `op`, the error of its int8 kernel on image `i` of the batch the network last ran,
// over the values the float output keeps inside the clamp.
void measure(const Int8Model& model, const FoldedModel& folded, const supernet::Network& net,
             const supernet::Tensor& batch, const Int8Op& op, int32_t i, std::vector<double>& error,
             std::vector<double>& count) {
  auto float_values = [&](int32_t t) {
    const FloatTensor& ft = folded.tensors[static_cast<size_t>(t)];
    const int64_t size = int64_t{ft.h} * ft.w * ft.c;
    const float* v = (ft.node == supernet::Network::kInput ? batch.data() : net.output(ft.node).data()) + i * size;
    return std::span<const float>(v, static_cast<size_t>(size));
  };
  const Int8Tensor& in = model.tensors[static_cast<size_t>(op.inputs[0])];
  const Int8Tensor& out = model.tensors[static_cast<size_t>(op.output)];
  const KernelCall call = kernel_call(model, op);
  const mcunas_channel_quant quant{op.multiplier.data(), op.shift.data()};
  std::vector<int8_t> q_in(static_cast<size_t>(in.bytes())), q_out(static_cast<size_t>(out.bytes()));
  const auto x = float_values(op.inputs[0]);
  for (size_t k = 0; k < x.size(); ++k)
    q_in[k] = static_cast<int8_t>(std::clamp(std::round(x[k] / in.quant.scale) + in.quant.zero_point, -128.0, 127.0));
  if (op.kind == Int8OpKind::depthwise)
    mcunas_depthwise_conv_s8(&call.conv, &quant, &call.input, q_in.data(), &call.filter, op.weights.data(),
                             op.bias.data(), &call.output, q_out.data());
  else
    mcunas_conv_s8(&call.conv, &quant, &call.input, q_in.data(), &call.filter, op.weights.data(), op.bias.data(),
                   &call.output, q_out.data());
  const auto y = float_values(op.output);
  const double floor = out.quant.scale * (op.act_min - out.quant.zero_point);
  const double ceiling = out.quant.scale * (op.act_max - out.quant.zero_point);
  const size_t channels = op.bias.size();
  for (size_t k = 0; k < y.size(); ++k) {
    if (y[k] <= floor || y[k] >= ceiling) continue;  // clamped: the error there is not the bias's
    error[k % channels] += out.quant.scale * (q_out[k] - out.quant.zero_point) - y[k];
    count[k % channels] += 1;
  }
}

}  // namespace

void correct_biases(supernet::Network& net, const FoldedModel& folded, Int8Model& model, const supernet::Dataset& data,
                    int32_t images, int32_t batch_size) {
  const int32_t n = std::min(images, data.count);
  std::vector<std::vector<double>> error(model.ops.size()), count(model.ops.size());
  for (size_t j = 0; j < model.ops.size(); ++j) {
    error[j].assign(model.ops[j].bias.size(), 0.0);
    count[j].assign(model.ops[j].bias.size(), 0.0);
  }
  supernet::Tensor batch;
  const int64_t item = data.item_size();
  for (int32_t begin = 0; begin < n; begin += batch_size) {
    const int32_t size = std::min(batch_size, n - begin);
    batch.resize(data.batch_shape(size));
    std::memcpy(batch.data(), data.images.data() + begin * item, sizeof(float) * static_cast<size_t>(size * item));
    net.forward(batch, /*training=*/false);
    for (size_t j = 0; j < model.ops.size(); ++j)
      if (weighted(model.ops[j]))
        for (int32_t i = 0; i < size; ++i) measure(model, folded, net, batch, model.ops[j], i, error[j], count[j]);
  }
  // Each op was measured on float inputs, so the corrections do not depend on each other.
  for (size_t j = 0; j < model.ops.size(); ++j) {
    Int8Op& op = model.ops[j];
    const double s_out = model.tensors[static_cast<size_t>(op.output)].quant.scale;
    for (size_t c = 0; c < error[j].size(); ++c) {
      if (count[j][c] == 0) continue;
      // The bias is at scale s_in · s_w[c] = s_out · multiplier / 2^31 · 2^shift.
      const double bias_scale = s_out * op.multiplier[c] / 2147483648.0 * std::ldexp(1.0, op.shift[c]);
      if (bias_scale > 0) op.bias[c] -= static_cast<int32_t>(std::round(error[j][c] / count[j][c] / bias_scale));
    }
  }
}

}  // namespace nas::deploy
