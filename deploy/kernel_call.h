// The arguments of one kernel call for an op of an int8 model, as the C kernels take them. The host executor
// passes them to the kernels and code generation prints them as C initialisers, so the two run the very same calls.
#pragma once

#include "deploy/int8_model.h"

namespace nas::deploy {

struct KernelCall {
  mcunas_dims input{}, filter{}, output{};  // filter: conv, depthwise, fully connected (as a 1×1 convolution)
  mcunas_conv_params conv{};                // conv, depthwise, fully connected
  mcunas_pool_params pool{};                // max and average pooling
  int32_t elements = 0;                     // add: values per input
  mcunas_reuse_params reuse{};              // reuse_conv: its projections point into the op's
};

KernelCall kernel_call(const Int8Model& model, const Int8Op& op);

}  // namespace nas::deploy
