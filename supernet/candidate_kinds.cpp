#include "supernet/candidate_kinds.h"

namespace nas::supernet {

namespace {

using Stage = CandidateStage;
using StageKind = CandidateStage::Kind;

const CandidateKind kConv{
    "conv", false, {Stage{StageKind::conv, true, "conv"}, Stage{StageKind::batchnorm_relu, false, "bn", "relu"}}};

// Depthwise k×k, then a pointwise 1×1 to the block's channels (MobileNet's separable convolution).
const CandidateKind kDwsep{"dwsep", false,
                           {Stage{StageKind::depthwise, true, "dw"},
                            Stage{StageKind::batchnorm_relu, false, "dw_bn", "dw_relu"},
                            Stage{StageKind::conv, false, "pw"},
                            Stage{StageKind::batchnorm_relu, false, "pw_bn", "pw_relu"}}};

const CandidateKind kSkip{"skip", true, {}};

}  // namespace

// A switch without a default: a kind without a row fails to compile (-Wswitch, -Werror).
const CandidateKind& candidate_kind(OpKind kind) {
  switch (kind) {
    case OpKind::conv: return kConv;
    case OpKind::dwsep: return kDwsep;
    case OpKind::skip: return kSkip;
  }
  return kConv;
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
