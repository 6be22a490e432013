#include "deploy/kernel_call.h"

namespace nas::deploy {

KernelCall kernel_call(const Int8Model& model, const Int8Op& op) {
  const Int8Tensor& in = model.tensors.at(static_cast<size_t>(op.inputs.at(0)));
  const Int8Tensor& out = model.tensors.at(static_cast<size_t>(op.output));
  KernelCall call;
  call.input = {1, in.h, in.w, in.c};
  call.output = {1, out.h, out.w, out.c};
  call.conv = {op.stride_h, op.stride_w, op.pad_h, op.pad_w, -in.quant.zero_point, out.quant.zero_point,
               op.act_min, op.act_max};
  switch (op.kind) {
    case Int8OpKind::conv:
      call.filter = {out.c, op.kernel_h, op.kernel_w, in.c};
      break;
    case Int8OpKind::depthwise:
      call.filter = {1, op.kernel_h, op.kernel_w, in.c};
      break;
    case Int8OpKind::fully_connected: {  // a 1×1 convolution of the flattened input
      const int32_t features = static_cast<int32_t>(in.bytes());
      call.input = {1, 1, 1, features};
      call.output = {1, 1, 1, out.c};
      call.filter = {out.c, 1, 1, features};
      call.conv.stride_h = call.conv.stride_w = 1;
      call.conv.pad_h = call.conv.pad_w = 0;
      break;
    }
    case Int8OpKind::max_pool:
    case Int8OpKind::avg_pool:
      call.pool = {op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.pad_h, op.pad_w, op.act_min, op.act_max};
      break;
    case Int8OpKind::global_avg_pool:
      break;
    case Int8OpKind::add:
      call.elements = static_cast<int32_t>(out.bytes());
      break;
  }
  return call;
}

}  // namespace nas::deploy
