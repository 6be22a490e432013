#include "deploy/reuse_rate.h"

#include <algorithm>
#include <vector>

#include "deploy/int8_activations.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {

double reuse_rate_on(const Int8Model& model, const Int8Op& op, const int8_t* input) {
  const KernelCall call = kernel_call(model, op);
  std::vector<int8_t> out(static_cast<size_t>(model.tensors.at(static_cast<size_t>(op.output)).bytes()));
  std::vector<uint8_t> scratch(static_cast<size_t>(scratch_bytes(model, op)));
  const mcunas_channel_quant quant{op.multiplier.data(), op.shift.data()};
  const int32_t clusters = mcunas_reuse_conv_s8(&call.conv, &call.reuse, &quant, &call.input, input, &call.filter,
                                                op.weights.data(), op.bias.data(), &call.output, out.data(),
                                                scratch.data());
  const int64_t row = int64_t{op.kernel_h} * op.kernel_w * call.input.c;
  const int64_t subvectors = int64_t{call.output.h} * call.output.w * ((row + op.sub_len - 1) / op.sub_len);
  return static_cast<double>(clusters) / static_cast<double>(subvectors);
}

void measure_reuse_rates(Int8Model& model, const supernet::Dataset& data, int32_t images) {
  const auto is_reuse = [](const Int8Op& op) { return op.kind == Int8OpKind::reuse_conv; };
  if (std::none_of(model.ops.begin(), model.ops.end(), is_reuse)) return;
  Int8Activations q(model, data, std::max(1, std::min(images, data.count)));
  for (size_t j = 0; j < model.ops.size(); ++j) {
    Int8Op& op = model.ops[j];
    q.run(op);
    if (is_reuse(op)) {
      double sum = 0;
      for (int32_t i = 0; i < q.images(); ++i) sum += reuse_rate_on(model, op, q.at(op.inputs[0], i));
      op.reuse_rate = sum / q.images();
    }
    q.release_inputs_of(j);
  }
}

}  // namespace nas::deploy
