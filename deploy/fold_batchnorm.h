// The float network as the int8 kernels will run it: BatchNorm folded into the convolution or linear layer before
// it, ReLU / ReLU6 fused as output clamps, pooling and residual adds as they are. Each tensor remembers which node
// of the supernet::Network holds its values, so calibration can read activations from an ordinary forward pass.
//
// Folding (Jacob et al. 2018, TFLite): with s = γ / sqrt(σ² + ε), w'[o] = s[o]·w[o] and b'[o] = s[o]·(b[o] − μ[o]) + β[o].
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "deploy/int8_model.h"
#include "supernet/network.h"

namespace nas::deploy {

struct FloatTensor {
  std::string name;
  int32_t h = 1, w = 1, c = 1;
  int32_t node = supernet::Network::kInput;  // the network node whose output these values are
};

struct FloatOp {
  Int8OpKind kind = Int8OpKind::conv;
  std::string name;
  std::vector<int32_t> inputs;
  int32_t output = -1;
  int32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  float act_min = -std::numeric_limits<float>::infinity();  // fused activation: ReLU [0, inf), ReLU6 [0, 6]
  float act_max = std::numeric_limits<float>::infinity();
  std::vector<float> weights;  // in the int8 layouts (int8_model.h): OHWI, [k_h][k_w][c], [out][in]
  std::vector<float> bias;     // one per output channel (zeros when the layer had none)
  int32_t sub_len = 0, hash_bits = 0;  // reuse_conv: as supernet::ReuseSpec
  std::vector<float> projections;      // reuse_conv: L × H
};

struct FoldedModel {
  std::vector<FloatTensor> tensors;
  std::vector<FloatOp> ops;
  int32_t input = -1, output = -1;
};

// Throws nas::Error (bad_input) naming the layer for anything the int8 kernels cannot run: grouped (not depthwise)
// convolutions, a BatchNorm or activation that cannot be folded (its input is read elsewhere too, or is not a
// convolution or linear layer), an unknown layer type.
FoldedModel fold_batchnorm(const supernet::Network& net);

}  // namespace nas::deploy
