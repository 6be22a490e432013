// The int8 operators of the deploy room, one row each (int8_ops.cpp): everything this room knows about an operator
// in one place — its description, inputs and parameter layout, the kernel path the cost model prices it on, the
// kernel-call arguments, how the host runs it and how generated C calls it. The executor, code generation, the
// validator, BatchNorm folding and bias correction read the rows instead of switching on the kind, so adding an
// operator is adding a row (and its kernel), not editing switches across deploy/ (docs/adding-an-operator.md).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "cost_models/kernel_path.h"
#include "deploy/int8_model.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {

// Where generated C finds one op's operands: C expressions for its tensors and scratch ("arena + 128", "NULL")
// and the prefix of its parameter arrays (<prefix>weights, <prefix>bias, <prefix>multiplier, <prefix>shift).
struct CallSite {
  std::string input, input2, output, scratch, prefix;
};

struct Int8OpRow {
  std::string_view description;  // what the generated C's comments call it
  int32_t inputs = 1;
  // Weights, bias and per-channel requantisation (a BatchNorm folds into it, bias correction adjusts it); its
  // weights stored [k_h][k_w][c] (channel last, depthwise) instead of output channel first.
  bool weighted = false, weights_channel_last = false;
  // Weighted ops: how many weights the op holds for these tensors.
  size_t (*weight_count)(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) = nullptr;
  // What is wrong with these shapes for this operator, beyond what every op checks ("" when nothing is).
  std::string (*shape_problem)(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) = nullptr;
  // The kernel path the cost model prices it on (1×1 convolutions, first layers and global pooling have their own).
  cost_models::KernelPath (*path)(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) = nullptr;
  // Completes the kernel-call arguments that differ from a plain convolution's (kernel_call sets those).
  void (*call)(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op, KernelCall& call) = nullptr;
  // Runs the kernel on the host.
  void (*run)(const Int8Op& op, const KernelCall& call, const int8_t* const* inputs, int8_t* out,
              void* scratch) = nullptr;
  // Writes the kernel call of generated C: its arguments as static const initialisers, then the call.
  void (*emit)(std::ostream& out, const Int8Op& op, const KernelCall& call, const CallSite& site) = nullptr;
};

// The row of an operator kind.
const Int8OpRow& op_row(Int8OpKind kind);

}  // namespace nas::deploy
