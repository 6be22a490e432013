// The candidate operators of a searchable block, one row per kind (candidate_kinds.cpp): its name, whether it is
// the identity, and its stages — the layers it is made of, in order. The supernet builds a candidate's trainable
// stages from the row (searchable_block.cpp), a fixed network's model YAML lists the same stages as plain layers
// (search_space.cpp), and OFA-style kernel sharing links the stages the row marks. A new candidate made of these
// stage kinds is one row here (and its pricing in cost_models/lowering.h, its weight copy in weight_inheritance.cpp;
// docs/adding-an-operator.md).
#pragma once

#include <string_view>
#include <vector>

#include "supernet/search_space.h"

namespace nas::supernet {

struct CandidateStage {
  enum class Kind {
    conv,            // a bias-free convolution (its BatchNorm shifts)
    depthwise,       // a bias-free depthwise convolution: as many outputs as inputs
    batchnorm_relu,  // BatchNorm then ReLU (fused in the supernet, two layers in a fixed network)
  };
  Kind kind;
  // conv and depthwise: the candidate's k×k kernel at the block's stride (else 1×1 at stride 1); a conv outputs the
  // block's channels.
  bool kxk = false;
  // The fixed network's layer names below "<block>.": the stage's, and for batchnorm_relu its ReLU's.
  std::string_view name, relu_name = {};
};

struct CandidateKind {
  std::string_view prefix;  // the op's name is <prefix><k>x<k> ("conv3x3"), or the prefix alone for the identity
  bool identity = false;    // skip: no stages, its output is its input (stride 1, the same channels)
  std::vector<CandidateStage> stages;
};

const CandidateKind& candidate_kind(OpKind kind);

// Every kind, in OpKind order (parsing tries their prefixes).
const std::vector<OpKind>& all_candidate_kinds();

}  // namespace nas::supernet
