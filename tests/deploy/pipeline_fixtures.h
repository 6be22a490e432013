// Shared set-up of the float→int8 pipeline tests (fold_batchnorm, quantize, calibration, int8_executor): small
// networks from YAML with non-trivial BatchNorm statistics and biases, random inputs, and a little training. A header
// with inline functions, not a helper .cpp, so it adds nothing to the other deploy tests' link.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <random>
#include <string>

#include "supernet/batchnorm2d.h"
#include "supernet/conv2d.h"
#include "supernet/data_spec.h"
#include "supernet/dataset.h"
#include "supernet/linear.h"
#include "supernet/loss.h"
#include "supernet/network.h"
#include "supernet/network_builder.h"
#include "supernet/optimizer.h"
#include "supernet/tensor.h"

namespace nas::deploy::testing {

inline supernet::Network network_from_yaml(const std::string& layers_yaml, supernet::Shape input, int32_t classes,
                                           uint64_t seed = 3) {
  return supernet::build_network(YAML::Load(layers_yaml), input, classes, seed);
}

// BatchNorm's initial state (γ = 1, β = 0, μ = 0, σ² = 1) folds to almost nothing, and biases start at zero, so
// every BatchNorm gets random γ (either sign), β, running mean and variance, and every conv / linear bias random
// values: a wrong index or a missing term of the fold then shows in the outputs.
inline void randomize_batchnorm_and_biases(supernet::Network& net, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f), positive(0.2f, 2.5f), magnitude(0.5f, 1.8f);
  for (int32_t node = 0; node < net.size(); ++node) {
    const int32_t first = net.first_param_slot(node);
    if (dynamic_cast<const supernet::BatchNorm2d*>(&net.layer(node)) != nullptr) {
      for (float& g : net.params().value(first + 0)) g = magnitude(rng) * (unit(rng) < -0.6f ? -1.0f : 1.0f);
      for (float& b : net.params().value(first + 1)) b = 0.5f * unit(rng);
      for (float& m : net.params().value(first + 2)) m = 0.5f * unit(rng);
      for (float& v : net.params().value(first + 3)) v = positive(rng);
    } else if (const auto* conv = dynamic_cast<const supernet::Conv2d*>(&net.layer(node))) {
      if (conv->spec().bias)
        for (float& b : net.params().value(first + 1)) b = 0.3f * unit(rng);
    } else if (dynamic_cast<const supernet::Linear*>(&net.layer(node)) != nullptr) {
      if (net.param_slot_count(node) > 1)
        for (float& b : net.params().value(first + 1)) b = 0.3f * unit(rng);
    }
  }
}

inline supernet::Tensor random_images(supernet::Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  supernet::Tensor t(shape);
  for (float& v : t.span()) v = normal(rng);
  return t;
}

// A few epochs of plain SGD, so that BatchNorm statistics and weights look like a trained network's (the int8
// comparison of an untrained network would compare near-ties of the logits).
inline void train(supernet::Network& net, const supernet::Dataset& data, int32_t epochs, uint64_t seed) {
  supernet::OptimizerSpec sgd;
  sgd.weight_decay = 0;
  auto optimizer = supernet::make_optimizer(sgd, net.params());
  supernet::BatchLoader loader(data, 32, true, {}, seed);
  supernet::Tensor images, grad;
  std::vector<int32_t> labels;
  for (int32_t epoch = 0; epoch < epochs; ++epoch) {
    loader.start_epoch(epoch);
    while (loader.next(images, labels)) {
      supernet::softmax_cross_entropy(net.forward(images, true), labels, &grad);
      net.backward(grad);
      optimizer->step(net.params(), 0.05);
    }
  }
}

// 1,200 training and 300 test images of 12×12×3 in 4 classes (evaluate_int8 then runs a full and a partial batch
// of 250).
inline supernet::DataSplits synthetic_splits() {
  supernet::DataSpec spec;
  spec.format = "synthetic";
  spec.synthetic.count = 1200;
  spec.synthetic.height = spec.synthetic.width = 12;
  spec.synthetic.channels = 3;
  spec.synthetic.num_classes = 4;
  spec.synthetic.noise = 0.4f;
  spec.synthetic.seed = 17;
  return supernet::load_data(spec, 1);
}

// Small networks (12×12×3 inputs) the int8 executor and the TFLite tests share.
// conv3x3 stride 2 + BN + ReLU, depthwise + BN + ReLU, conv1x1 + BN, global average pooling, linear: a chain.
constexpr const char* kChainNetwork = R"(
layers:
  - {type: conv2d, out: 8, kernel: 3, stride: 2, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, out: 12, kernel: 1, bias: false}
  - {type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

// A linear layer on a spatial tensor: the fully connected op runs as a 1x1 convolution of the flattened input.
constexpr const char* kSpatialLinearNetwork = R"(
layers:
  - {type: conv2d, out: 6, kernel: 3, stride: 2, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: max_pool, kernel: 2}
  - {type: linear, out: classes}
)";

// A residual join (the ReLU after it folds into the add) after TensorFlow's "same" padding at stride 2.
constexpr const char* kResidualSameNetwork = R"(
layers:
  - {type: conv2d, out: 8, kernel: 3, stride: 2, padding: same, bias: false}
  - {type: batchnorm}
  - {name: stem, type: relu}
  - {type: conv2d, out: 8, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, out: 8, kernel: 3, bias: false}
  - {name: bn, type: batchnorm}
  - {name: join, type: add, inputs: [bn, stem]}
  - {name: after, type: relu}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

}  // namespace nas::deploy::testing
