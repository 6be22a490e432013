#include "supernet/candidate_kinds.h"

namespace nas::supernet {

namespace {

using StageKind = CandidateStage::Kind;
using Act = CandidateStage::Activation;

// A k×k convolution to the block's channels, BatchNorm, ReLU.
const CandidateKind kConv{.prefix = "conv",
                          .stages = {{.kind = StageKind::conv, .kxk = true, .name = "conv"},
                                     {.kind = StageKind::batchnorm, .name = "bn", .activation_name = "relu"}}};

// Depthwise k×k, then a pointwise 1×1 to the block's channels (MobileNet's separable convolution).
const CandidateKind kDwsep{.prefix = "dwsep",
                           .stages = {{.kind = StageKind::depthwise, .kxk = true, .name = "dw"},
                                      {.kind = StageKind::batchnorm, .name = "dw_bn", .activation_name = "dw_relu"},
                                      {.kind = StageKind::conv, .name = "pw"},
                                      {.kind = StageKind::batchnorm, .name = "pw_bn", .activation_name = "pw_relu"}}};

const CandidateKind kSkip{.prefix = "skip", .identity = true};

// MobileNetV2's inverted residual (Sandler et al., CVPR 2018): expand 1×1 to E·cin (BN, ReLU6), depthwise k×k at
// the block's stride (BN, ReLU6), project 1×1 to the block's channels (BN, linear: a ReLU would destroy
// information in the narrow output), then the residual join when the shapes allow it.
const CandidateKind kMbconv{
    .prefix = "mbconv",
    .expands = true,
    .residual_join = true,
    .stages = {{.kind = StageKind::expand, .name = "expand", .expansion_only = true},
               {.kind = StageKind::batchnorm, .activation = Act::relu6, .name = "expand_bn",
                .activation_name = "expand_relu6", .expansion_only = true},
               {.kind = StageKind::depthwise, .kxk = true, .name = "dw"},
               {.kind = StageKind::batchnorm, .activation = Act::relu6, .name = "dw_bn", .activation_name = "dw_relu6"},
               {.kind = StageKind::conv, .name = "project"},
               {.kind = StageKind::batchnorm, .activation = Act::none, .name = "project_bn"}},
    .join_name = "add"};

// A k×k reuse convolution (TREC) to the block's channels, BatchNorm, ReLU: conv's stages with the convolution
// computed once per cluster of similar im2col sub-vectors.
const CandidateKind kConvReuse{
    .prefix = "conv",
    .reuses = true,
    .stages = {{.kind = StageKind::reuse_conv, .kxk = true, .name = "conv"},
               {.kind = StageKind::batchnorm, .name = "bn", .activation_name = "relu"}}};

}  // namespace

// A switch without a default: a kind without a row fails to compile (-Wswitch, -Werror).
const CandidateKind& candidate_kind(OpKind kind) {
  switch (kind) {
    case OpKind::conv: return kConv;
    case OpKind::dwsep: return kDwsep;
    case OpKind::skip: return kSkip;
    case OpKind::mbconv: return kMbconv;
    case OpKind::conv_reuse: return kConvReuse;
  }
  return kConv;
}

std::vector<CandidateStage> candidate_stages(const OpCandidate& op) {
  std::vector<CandidateStage> stages;
  for (const CandidateStage& stage : candidate_kind(op.kind).stages)
    if (!stage.expansion_only || op.expansion > 1) stages.push_back(stage);
  return stages;
}

const std::vector<OpKind>& all_candidate_kinds() {
  static const std::vector<OpKind> kinds = [] {
    std::vector<OpKind> all;
    for (int k = 0; k < kOpKindCount; ++k) all.push_back(static_cast<OpKind>(k));
    return all;
  }();
  return kinds;
}

}  // namespace nas::supernet
