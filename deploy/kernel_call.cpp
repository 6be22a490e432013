#include "deploy/kernel_call.h"

#include "deploy/int8_ops.h"

namespace nas::deploy {

KernelCall kernel_call(const Int8Model& model, const Int8Op& op) {
  const Int8Tensor& in = model.tensors.at(static_cast<size_t>(op.inputs.at(0)));
  const Int8Tensor& out = model.tensors.at(static_cast<size_t>(op.output));
  KernelCall call;
  call.input = {1, in.h, in.w, in.c};
  call.output = {1, out.h, out.w, out.c};
  call.conv = {op.stride_h, op.stride_w, op.pad_h, op.pad_w, -in.quant.zero_point, out.quant.zero_point,
               op.act_min, op.act_max};
  op_row(op.kind).call(in, out, op, call);
  return call;
}

}  // namespace nas::deploy
