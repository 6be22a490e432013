#include "deploy/int8_model.h"

#include "common/error.h"
#include "cost_models/kernel_scratch.h"
#include "cost_models/kernel_work.h"
#include "deploy/int8_ops.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {

cost_models::KernelPath kernel_path(const Int8Model& model, const Int8Op& op) {
  return op_row(op.kind).path(model.tensors.at(static_cast<size_t>(op.inputs.at(0))),
                              model.tensors.at(static_cast<size_t>(op.output)), op);
}

namespace {
cost_models::ScratchCall scratch_call(const KernelCall& call) {
  return {call.input, call.filter, call.conv, call.elements, call.output, call.reuse};
}
}  // namespace

int32_t scratch_bytes(const Int8Model& model, const Int8Op& op) {
  return cost_models::kernel_scratch_bytes(kernel_path(model, op), scratch_call(kernel_call(model, op)));
}

int64_t parameter_bytes(const Int8Op& op) {
  return static_cast<int64_t>(op.weights.size() + op.projections.size()) + 4 * static_cast<int64_t>(op.bias.size()) +
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
                                       op.stride_h,  op.pad_h,     op.kernel_w,   op.stride_w,   op.pad_w,
                                       op.sub_len,   op.hash_bits, op.reuse_rate};
    cost_models::set_kernel_work(info, static_cast<double>(call.input.c), static_cast<double>(call.output.c), shape);
    info.weight_bytes = static_cast<double>(op.weights.size() + op.projections.size());  // projections: int8 too
    info.bias_bytes = 4.0 * static_cast<double>(op.bias.size());
    info.qparam_bytes = 4.0 * static_cast<double>(op.multiplier.size() + op.shift.size());
    info.scratch_bytes = scratch_bytes(model, op);
    info.writes_over_input =
        cost_models::may_write_over_input(info.path, scratch_call(call), call.output.h, call.output.w);
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
    const Int8OpRow& row = op_row(op.kind);
    const auto arity = static_cast<size_t>(row.inputs);
    if (op.inputs.size() != arity)
      throw fail("op '" + op.name + "' has " + std::to_string(op.inputs.size()) + " inputs, needs " +
                 std::to_string(arity));
    for (const int32_t t : op.inputs) check_id(t, "op '" + op.name + "'");
    check_id(op.output, "op '" + op.name + "'");
    const auto& in = model.tensors[static_cast<size_t>(op.inputs[0])];
    const auto& out = model.tensors[static_cast<size_t>(op.output)];
    const size_t weights = row.weighted ? row.weight_count(in, out, op) : 0;
    const size_t channels = row.weighted ? static_cast<size_t>(out.c) : 0;
    if (op.weights.size() != weights || op.bias.size() != channels || op.multiplier.size() != channels ||
        op.shift.size() != channels)
      throw fail("op '" + op.name + "' has parameter arrays of the wrong length");
    if (row.shape_problem)
      if (const std::string problem = row.shape_problem(in, out, op); !problem.empty()) throw fail(problem);
    if (op.act_min > op.act_max || op.act_min < -128 || op.act_max > 127)
      throw fail("op '" + op.name + "' has the clamp [" + std::to_string(op.act_min) + ", " +
                 std::to_string(op.act_max) + "]");
  }
}

}  // namespace nas::deploy
