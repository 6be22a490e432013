#include "deploy/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deploy/kernel_call.h"

namespace nas::deploy {

void correct_biases(supernet::Network& net, const FoldedModel& folded, Int8Model& model, const supernet::Dataset& data,
                    int32_t images) {
  const int32_t n = std::min(images, data.count);
  supernet::Tensor batch(data.batch_shape(n));
  std::memcpy(batch.data(), data.images.data(), sizeof(float) * static_cast<size_t>(batch.size()));
  net.forward(batch, /*training=*/false);
  // A tensor's float values for image i.
  auto float_values = [&](int32_t t, int32_t i) {
    const FloatTensor& ft = folded.tensors[static_cast<size_t>(t)];
    const int64_t size = int64_t{ft.h} * ft.w * ft.c;
    const float* v = (ft.node == supernet::Network::kInput ? batch.data() : net.output(ft.node).data()) + i * size;
    return std::span<const float>(v, static_cast<size_t>(size));
  };
  for (Int8Op& op : model.ops) {
    if (op.kind != Int8OpKind::conv && op.kind != Int8OpKind::depthwise && op.kind != Int8OpKind::fully_connected)
      continue;
    const Int8Tensor& in = model.tensors[static_cast<size_t>(op.inputs[0])];
    const Int8Tensor& out = model.tensors[static_cast<size_t>(op.output)];
    const KernelCall call = kernel_call(model, op);
    const mcunas_channel_quant quant{op.multiplier.data(), op.shift.data()};
    const size_t channels = op.bias.size();
    std::vector<double> error(channels, 0.0), count(channels, 0.0);
    std::vector<int8_t> q_in(static_cast<size_t>(in.bytes())), q_out(static_cast<size_t>(out.bytes()));
    for (int32_t i = 0; i < n; ++i) {
      const auto x = float_values(op.inputs[0], i);
      for (size_t k = 0; k < x.size(); ++k)
        q_in[k] = static_cast<int8_t>(std::clamp(std::round(x[k] / in.quant.scale) + in.quant.zero_point, -128.0, 127.0));
      if (op.kind == Int8OpKind::depthwise)
        mcunas_depthwise_conv_s8(&call.conv, &quant, &call.input, q_in.data(), &call.filter, op.weights.data(),
                                 op.bias.data(), &call.output, q_out.data());
      else
        mcunas_conv_s8(&call.conv, &quant, &call.input, q_in.data(), &call.filter, op.weights.data(), op.bias.data(),
                       &call.output, q_out.data());
      const auto y = float_values(op.output, i);
      const double floor = out.quant.scale * (op.act_min - out.quant.zero_point);
      const double ceiling = out.quant.scale * (op.act_max - out.quant.zero_point);
      for (size_t k = 0; k < y.size(); ++k) {
        if (y[k] <= floor || y[k] >= ceiling) continue;  // clamped: the error there is not the bias's
        const size_t c = k % channels;
        error[c] += out.quant.scale * (q_out[k] - out.quant.zero_point) - y[k];
        count[c] += 1;
      }
    }
    for (size_t c = 0; c < channels; ++c) {
      if (count[c] == 0) continue;
      // bias is at scale s_in · s_w[c] = s_out · multiplier / 2^31 · 2^shift
      const double bias_scale = out.quant.scale * op.multiplier[c] / 2147483648.0 * std::ldexp(1.0, op.shift[c]);
      if (bias_scale <= 0) continue;
      op.bias[c] -= static_cast<int32_t>(std::round(error[c] / count[c] / bias_scale));
    }
  }
}

}  // namespace nas::deploy
