// The candidate operators of a searchable block, one row per kind (candidate_kinds.cpp): its name, whether it is
// the identity or ends with a residual join, and its stages — the layers it is made of, in order. The supernet
// builds a candidate's trainable stages from the row (searchable_block.cpp), a fixed network's model YAML lists the
// same stages as plain layers (search_space.cpp), kernel sharing links them, weight inheritance copies them
// (weight_inheritance.cpp) and the cost model lowers them to kernel calls (cost_models/lowering.h). A new candidate
// made of these stage kinds is its OpKind and one row here (docs/adding-an-operator.md).
#pragma once

#include <string_view>
#include <vector>

#include "supernet/search_space.h"

namespace nas::supernet {

struct CandidateStage {
  enum class Kind {
    conv,       // a bias-free convolution to the block's channels (its BatchNorm shifts); the candidate's last
                // weighted stage
    expand,     // a bias-free 1×1 convolution to E × the input's channels (only when E > 1)
    depthwise,  // a bias-free depthwise convolution: as many outputs as inputs
    reuse_conv, // a bias-free k×k reuse convolution (TREC, supernet/reuse_conv2d.h) to the block's channels, with
                // the candidate's L and H; the candidate's last weighted stage
    batchnorm,  // BatchNorm then `activation` (fused in the supernet; a BatchNorm and an activation layer in a
                // fixed network)
  };
  enum class Activation { none, relu, relu6 };
  Kind kind = Kind::conv;
  // conv and depthwise: the candidate's k×k kernel at the block's stride (else 1×1 at stride 1).
  bool kxk = false;
  Activation activation = Activation::relu;  // batchnorm only
  // The fixed network's layer names below "<block>.": the stage's, and for a batchnorm with an activation, the
  // activation's.
  std::string_view name, activation_name = {};
  // expand and its batchnorm: the stage exists only when the candidate's expansion E > 1.
  bool expansion_only = false;
};

struct CandidateKind {
  // The op's name is <prefix><k>x<k> ("conv3x3"), <prefix><k>x<k>_e<E> for an expanding kind ("mbconv3x3_e6"),
  // <prefix><k>x<k>_reuse_l<L>h<H> for a reusing kind ("conv3x3_reuse_l16h4"), or the prefix alone for the identity.
  std::string_view prefix;
  bool identity = false;   // skip: no stages, its output is its input (stride 1, the same channels)
  bool expands = false;    // the name carries an expansion factor E (OpCandidate::expansion)
  bool reuses = false;     // the name carries a sub-vector length and hash bits: _reuse_lLhH (OpCandidate::sub_len)
  // The candidate adds the block's input to its last stage's output when the block has stride 1 and as many input
  // as output channels (OpCandidate::residual); the join is named "<block>.<join_name>".
  bool residual_join = false;
  std::vector<CandidateStage> stages = {};
  std::string_view join_name = {};
};

// The stages candidate `op` runs: its row's, less the expansion stages when E = 1.
std::vector<CandidateStage> candidate_stages(const OpCandidate& op);

const CandidateKind& candidate_kind(OpKind kind);

// Every kind, in OpKind order (parsing tries their prefixes).
const std::vector<OpKind>& all_candidate_kinds();

}  // namespace nas::supernet
