// A float ONNX model (as PyTorch's torch.onnx.export writes it) read into a fixed network of our search space, so
// that a user's own network can be the seed of a search: its blocks become searchable in width (PIT masks) with
// their weights kept (docs/search.md, "A seed network of your own").
//
// What it reads: one image input (NCHW, batch 1) and one output; a chain of the blocks the search space knows,
// each recognised by its candidate kind's stages (candidate_kinds.h):
//   convKxK        Conv k×k (group 1, padding k/2) [BatchNormalization] Relu
//   dwsepKxK       Conv k×k depthwise [BN] Relu, Conv 1×1 [BN] Relu
//   mbconvKxK_eE   [Conv 1×1 to E·C [BN] Clip(0, 6)], Conv k×k depthwise [BN] Clip(0, 6), Conv 1×1 [BN] [Add input]
// then the classifier head GlobalAveragePool (or ReduceMean over H and W), Flatten (or Reshape), Gemm. A
// BatchNormalization may be there or folded into the convolution's bias (PyTorch's eval-mode export folds it);
// Identity and Constant nodes are followed through. Anything else is refused on one line naming the node.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "supernet/network.h"
#include "supernet/search_space.h"

namespace nas::supernet {

struct OnnxNetwork {
  FixedArch arch;                // blocks b1, b2, … in file order
  Shape input;                   // one image, NHWC (n = 1)
  int32_t classes = 0;
  std::unique_ptr<Network> net;  // build_network(fixed_model_yaml(arch), input, classes) with the file's weights
};

// Throws nas::Error (bad_input), one line beginning with `origin` (the file name): not an ONNX model (protobuf does
// not parse it, no graph), several inputs or outputs, a node of an operator we do not read (its index, op type and
// name), a node where our blocks cannot have it (e.g. a pooling layer inside the chain), attributes we do not
// compute (dilation, padding other than k/2, auto_pad), or weights that are not float32 of the expected shape.
OnnxNetwork read_onnx(std::span<const uint8_t> bytes, const std::string& origin);

}  // namespace nas::supernet
