#include "deploy/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deploy/int8_activations.h"
#include "deploy/int8_ops.h"

namespace nas::deploy {

namespace {

bool weighted(const Int8Op& op) { return op_row(op.kind).weighted; }

}  // namespace

void correct_biases(supernet::Network& net, const FoldedModel& folded, Int8Model& model, const supernet::Dataset& data,
                    int32_t images, int32_t batch_size) {
  const int32_t n = std::min(images, data.count);
  const int64_t item = data.item_size();
  Int8Activations q(model, data, n);

  supernet::Tensor batch;
  for (size_t j = 0; j < model.ops.size(); ++j) {
    Int8Op& op = model.ops[j];
    q.run(op);
    if (weighted(op)) {
      const Int8Tensor& out = model.tensors[static_cast<size_t>(op.output)];
      const FloatTensor& float_out = folded.tensors[static_cast<size_t>(op.output)];
      const double floor = out.quant.scale * (op.act_min - out.quant.zero_point);
      const double ceiling = out.quant.scale * (op.act_max - out.quant.zero_point);
      const size_t channels = op.bias.size();
      std::vector<double> error(channels, 0.0), count(channels, 0.0);
      for (int32_t begin = 0; begin < n; begin += batch_size) {
        const int32_t size = std::min(batch_size, n - begin);
        batch.resize(data.batch_shape(size));
        std::memcpy(batch.data(), data.images.data() + begin * item, sizeof(float) * static_cast<size_t>(size * item));
        net.forward(batch, /*training=*/false);
        const float* y = net.output(float_out.node).data();
        for (int32_t i = 0; i < size; ++i) {
          const int8_t* got = q.at(op.output, begin + i);
          for (int64_t k = 0; k < out.bytes(); ++k) {
            const double want = y[i * out.bytes() + k];
            if (want <= floor || want >= ceiling) continue;  // clamped: the error there is not the bias's
            error[static_cast<size_t>(k) % channels] += out.quant.scale * (got[k] - out.quant.zero_point) - want;
            count[static_cast<size_t>(k) % channels] += 1;
          }
        }
      }
      for (size_t c = 0; c < channels; ++c) {
        if (count[c] == 0) continue;
        // The bias is at scale s_in · s_w[c] = s_out · multiplier / 2^31 · 2^shift.
        const double bias_scale = out.quant.scale * op.multiplier[c] / 2147483648.0 * std::ldexp(1.0, op.shift[c]);
        if (bias_scale > 0) op.bias[c] -= static_cast<int32_t>(std::round(error[c] / count[c] / bias_scale));
      }
      q.run(op);  // the next layers see this one corrected
    }
    q.release_inputs_of(j);
  }
}

}  // namespace nas::deploy
