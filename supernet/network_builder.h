// Builds a Network from its YAML description (the `model:` section of an experiment config):
//
//   model:
//     layers:
//       - {type: conv2d, out: 32, kernel: 3, stride: 1, padding: 1, bias: false}
//       - {type: batchnorm}
//       - {type: relu}
//       - {name: skip, type: conv2d, out: 32, kernel: 1}
//       - {name: join, type: add, inputs: [skip, 2]}   # names or 0-based layer indices
//       - {type: global_avg_pool}
//       - {type: linear, out: classes}                  # `classes` = the dataset's class count
//
// Every layer reads the previous one unless it names `input:` (or `inputs:` for add). Unknown layer types and
// unknown keys are errors that list what is known. docs/network-yaml.md documents every layer and key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "supernet/network.h"

namespace nas::supernet {

// Builds and finalises the network for images of shape `input` (n ignored) and `num_classes` outputs.
Network build_network(const YAML::Node& model, Shape input, int32_t num_classes, uint64_t seed);

// The layer types build_network understands, for error messages and docs.
std::vector<std::string> known_layer_types();

}  // namespace nas::supernet
