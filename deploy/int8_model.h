// A network lowered to int8: tensors with their quantisation, and kernel calls in execution order with everything
// the C kernels (kernels/mcunas_kernels.h) take. Post-training quantisation (quantize.h) builds it; the host
// executor (int8_executor.h) runs it and code generation (codegen.h) prints it as C. Both place tensors in one
// arena by the memory plan of cost_models (arena_plan.h) over op_graph(model), the same planner the search prices
// RAM with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cost_models/kernel_path.h"
#include "cost_models/op_graph.h"
#include "mcunas_kernels.h"

namespace nas::deploy {

// real = scale · (q − zero_point)
struct QuantParams {
  double scale = 1.0;
  int32_t zero_point = 0;
};

struct Int8Tensor {
  std::string name;
  int32_t h = 1, w = 1, c = 1;  // one image, NHWC
  QuantParams quant;
  int64_t bytes() const { return int64_t{h} * w * c; }
};

enum class Int8OpKind {
  conv,             // mcunas_conv_s8; weights OHWI [c_out][k_h][k_w][c_in]
  depthwise,        // mcunas_depthwise_conv_s8; weights [k_h][k_w][c]
  fully_connected,  // a linear layer over the flattened input; weights [out][in]. Runs as a 1×1 convolution of
                    // a 1×1×in tensor so its requantisation is per output channel, like the convs (the cost model
                    // prices it so), where mcunas_fully_connected_s8 takes one multiplier per tensor.
  max_pool,         // pooling keeps the input's quantisation
  avg_pool,         // a window of the whole input is global average pooling at the input's quantisation
  global_avg_pool,  // mcunas_global_avg_pool_s8: the mean over the map, requantised to its own scale (mean)
  add,              // residual join: both inputs requantised (add_params)
  reuse_conv,       // mcunas_reuse_conv_s8: a convolution (weights OHWI) whose im2col sub-vectors are clustered
                    // by sign hashes and multiplied once per cluster (TREC, supernet/reuse_conv2d.h)
};

struct Int8Op {
  Int8OpKind kind = Int8OpKind::conv;
  std::string name;
  std::vector<int32_t> inputs;  // tensor ids
  int32_t output = -1;          // tensor id
  int32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int32_t act_min = -128, act_max = 127;  // output clamp in the output's quantised domain (fused ReLU / ReLU6)
  std::vector<int8_t> weights;             // conv, depthwise, fully connected
  std::vector<int32_t> bias;               // per output channel, at scale s_in · s_w[c]
  std::vector<int32_t> multiplier, shift;  // per output channel: s_in · s_w[c] / s_out
  mcunas_add_params add{};                 // add only
  mcunas_mean_params mean{};               // global_avg_pool only
  // Per output channel, the weights' scale s_w[c] (conv, depthwise, fully connected): the multipliers say
  // s_in · s_w[c] / s_out only to 31 bits, and a TFLite file stores s_w itself (tflite_export.h).
  std::vector<double> weight_scale;
  // reuse_conv only: sub-vector length L, hash bits H, the L × H int8 projections (only their signs' pattern
  // matters, so one scale for all), and the clusters per sub-vector measured on calibration images, which the
  // latency model prices the call by (deploy/reuse_rate.h).
  int32_t sub_len = 0, hash_bits = 0;
  std::vector<int8_t> projections;
  double reuse_rate = 1.0;
};

struct Int8Model {
  std::vector<Int8Tensor> tensors;
  std::vector<Int8Op> ops;  // execution order
  int32_t input = -1, output = -1;
  // What the float network expects before quantising its input: x = (pixel − mean[c]) / stddev[c].
  std::vector<float> input_mean, input_stddev;
};

// The kernel path an op runs on, as the cost model names it (1×1 convolutions and global pooling have their own).
cost_models::KernelPath kernel_path(const Int8Model& model, const Int8Op& op);

// Bytes of scratch the op's kernel asks for (the kernels' own *_scratch_bytes functions).
int32_t scratch_bytes(const Int8Model& model, const Int8Op& op);

// Flash bytes of the op's constant arrays: int8 weights (and a reuse convolution's int8 projections), int32 biases,
// int32 multipliers and shifts.
int64_t parameter_bytes(const Int8Op& op);

// The model as the cost model's op graph (tensor bytes, scratch, MACs, parameter bytes) for the memory planner and
// the cost formulas.
cost_models::OpGraph<double> op_graph(const Int8Model& model);

// Throws nas::Error (failure) naming the first inconsistency: tensor ids out of range, parameter arrays of the
// wrong length, an input or output that is not a tensor. Every consumer calls it before trusting a model.
void validate(const Int8Model& model);

}  // namespace nas::deploy
