#include "deploy/int8_model.h"

#include "common/error.h"
#include "cost_models/kernel_scratch.h"
#include "cost_models/kernel_work.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {

cost_models::KernelPath kernel_path(const Int8Model& model, const Int8Op& op) {
  using cost_models::KernelPath;
  switch (op.kind) {
    case Int8OpKind::conv:
      if (op.kernel_h == 1 && op.kernel_w == 1) return KernelPath::conv1x1;
      return model.tensors.at(static_cast<size_t>(op.inputs.at(0))).c <= cost_models::kConvPlanarMaxInputs
                 ? KernelPath::conv_planar
                 : KernelPath::conv;
    case Int8OpKind::depthwise:
      return KernelPath::depthwise;
    case Int8OpKind::fully_connected:
      return KernelPath::fully_connected;
    case Int8OpKind::max_pool:
      return KernelPath::max_pool;
    case Int8OpKind::avg_pool: {
      const auto& out = model.tensors.at(static_cast<size_t>(op.output));
      return out.h == 1 && out.w == 1 ? KernelPath::global_avg_pool : KernelPath::avg_pool;
    }
    case Int8OpKind::global_avg_pool:
      return KernelPath::global_avg_pool;
    case Int8OpKind::add:
      return KernelPath::add;
  }
  return KernelPath::conv;
}

int32_t scratch_bytes(const Int8Model& model, const Int8Op& op) {
  const KernelCall call = kernel_call(model, op);
  return cost_models::kernel_scratch_bytes(kernel_path(model, op),
                                           {call.input, call.filter, call.conv, call.elements});
}

int64_t parameter_bytes(const Int8Op& op) {
  return static_cast<int64_t>(op.weights.size()) + 4 * static_cast<int64_t>(op.bias.size()) +
         4 * static_cast<int64_t>(op.multiplier.size() + op.shift.size());
}

cost_models::OpGraph<double> op_graph(const Int8Model& model) {
  validate(model);
  cost_models::OpGraph<double> g;
  for (const auto& t : model.tensors) g.add_tensor(t.name, static_cast<double>(t.bytes()));
  g.input = model.input;
  g.output = model.output;
  for (const auto& op : model.ops) {
    cost_models::OpInfo<double> info;
    info.name = op.name;
    info.path = kernel_path(model, op);
    info.inputs = op.inputs;
    info.output = op.output;
    const KernelCall call = kernel_call(model, op);
    const cost_models::CallShape shape{call.input.h, call.input.w, call.output.h, call.output.w, op.kernel_h,
                                       op.stride_h, op.pad_h};
    cost_models::set_kernel_work(info, static_cast<double>(call.input.c), static_cast<double>(call.output.c), shape);
    info.weight_bytes = static_cast<double>(op.weights.size());
    info.bias_bytes = 4.0 * static_cast<double>(op.bias.size());
    info.qparam_bytes = 4.0 * static_cast<double>(op.multiplier.size() + op.shift.size());
    info.scratch_bytes = scratch_bytes(model, op);
    g.ops.push_back(std::move(info));
  }
  return g;
}

void validate(const Int8Model& model) {
  auto fail = [](const std::string& what) { return Error("int8 model", what, Error::Kind::failure); };
  const auto n = static_cast<int32_t>(model.tensors.size());
  auto check_id = [&](int32_t id, const std::string& who) {
    if (id < 0 || id >= n) throw fail(who + " refers to tensor " + std::to_string(id) + " of " + std::to_string(n));
  };
  check_id(model.input, "the input");
  check_id(model.output, "the output");
  for (const auto& t : model.tensors)
    if (t.h < 1 || t.w < 1 || t.c < 1 || !(t.quant.scale > 0) || t.quant.zero_point < -128 || t.quant.zero_point > 127)
      throw fail("tensor '" + t.name + "' has a bad shape or quantisation");
  for (const auto& op : model.ops) {
    const size_t arity = op.kind == Int8OpKind::add ? 2 : 1;
    if (op.inputs.size() != arity)
      throw fail("op '" + op.name + "' has " + std::to_string(op.inputs.size()) + " inputs, needs " +
                 std::to_string(arity));
    for (const int32_t t : op.inputs) check_id(t, "op '" + op.name + "'");
    check_id(op.output, "op '" + op.name + "'");
    const auto& in = model.tensors[static_cast<size_t>(op.inputs[0])];
    const auto& out = model.tensors[static_cast<size_t>(op.output)];
    size_t weights = 0, channels = 0;
    switch (op.kind) {
      case Int8OpKind::conv:
        weights = static_cast<size_t>(out.c) * op.kernel_h * op.kernel_w * in.c;
        channels = static_cast<size_t>(out.c);
        break;
      case Int8OpKind::depthwise:
        weights = static_cast<size_t>(op.kernel_h) * op.kernel_w * in.c;
        channels = static_cast<size_t>(out.c);
        if (in.c != out.c) throw fail("depthwise op '" + op.name + "' changes the channel count");
        break;
      case Int8OpKind::fully_connected:
        weights = static_cast<size_t>(in.bytes()) * static_cast<size_t>(out.c);
        channels = static_cast<size_t>(out.c);
        break;
      default:
        break;
    }
    if (op.weights.size() != weights || op.bias.size() != channels || op.multiplier.size() != channels ||
        op.shift.size() != channels)
      throw fail("op '" + op.name + "' has parameter arrays of the wrong length");
    if (op.kind == Int8OpKind::global_avg_pool && (out.h != 1 || out.w != 1 || out.c != in.c))
      throw fail("global average pooling '" + op.name + "' must give 1x1x" + std::to_string(in.c));
    if (op.act_min > op.act_max || op.act_min < -128 || op.act_max > 127)
      throw fail("op '" + op.name + "' has the clamp [" + std::to_string(op.act_min) + ", " +
                 std::to_string(op.act_max) + "]");
  }
}

}  // namespace nas::deploy
