#include "supernet/weight_inheritance.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "common/error.h"
#include "supernet/candidate_kinds.h"

namespace nas::supernet {

namespace {

constexpr const char* kWhere = "inherit weights";
constexpr float kBatchNormEps = 1e-5f;  // BatchNorm2d's default, which the searchable blocks use

using Indices = std::vector<int32_t>;

// The fixed network's node for YAML layer `name`: a BatchNorm fused with its ReLU is one node "<bn>+<relu>".
int32_t find_node(const Network& net, const std::string& name) {
  for (int32_t k = 0; k < net.size(); ++k)
    if (net.name(k) == name || net.name(k).rfind(name + "+", 0) == 0) return k;
  throw Error(kWhere, "the fixed network has no layer '" + name + "' (build it with fixed_model_yaml)");
}

std::vector<int32_t> node_slots(const Network& net, int32_t node) {
  std::vector<int32_t> slots(static_cast<size_t>(net.param_slot_count(node)));
  std::iota(slots.begin(), slots.end(), net.first_param_slot(node));
  return slots;
}

// Copies between the supernet's and the fixed network's parameters, checking every size.
class Copier {
 public:
  Copier(const ParamStore& from, ParamStore& to) : from_(from), to_(to) {}

  // HWIO weights [k·k][cin][cout] → [k·k][in.size()][out.size()] keeping the listed channels.
  void conv(int32_t from_slot, int32_t to_slot, int32_t cin, int32_t cout, const Indices& in, const Indices& out,
            const std::string& name) {
    conv(from_.value(from_slot), to_slot, cin, cout, in, out, name);
  }
  void conv(std::span<const float> src, int32_t to_slot, int32_t cin, int32_t cout, const Indices& in,
            const Indices& out, const std::string& name) {
    const auto dst = to_.value(to_slot);
    const auto taps = static_cast<int64_t>(src.size()) / (int64_t{cin} * cout);
    const auto in_n = static_cast<int64_t>(in.size()), out_n = static_cast<int64_t>(out.size());
    expect_size(dst.size(), taps * in_n * out_n, name);
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t i = 0; i < in_n; ++i)
        for (int64_t o = 0; o < out_n; ++o)
          dst[static_cast<size_t>((t * in_n + i) * out_n + o)] =
              src[static_cast<size_t>((t * cin + in[static_cast<size_t>(i)]) * cout + out[static_cast<size_t>(o)])];
  }

  // A per-channel vector (BatchNorm γ, β, running statistics; a bias) keeping the listed channels.
  void channels(int32_t from_slot, int32_t to_slot, const Indices& keep, const std::string& name) {
    const auto src = from_.value(from_slot);
    const auto dst = to_.value(to_slot);
    expect_size(dst.size(), static_cast<int64_t>(keep.size()), name);
    for (size_t i = 0; i < keep.size(); ++i) dst[i] = src[static_cast<size_t>(keep[i])];
  }

  // All four BatchNorm slots: γ, β, running mean, running variance.
  void batchnorm(const std::vector<int32_t>& from, const std::vector<int32_t>& to, const Indices& keep,
                 const std::string& name) {
    if (from.size() != 4 || to.size() != 4) throw Error(kWhere, name + " is not a BatchNorm layer");
    for (size_t k = 0; k < 4; ++k) channels(from[k], to[k], keep, name);
  }

  void all(int32_t from_slot, int32_t to_slot, const std::string& name) {
    const auto src = from_.value(from_slot);
    const auto dst = to_.value(to_slot);
    expect_size(dst.size(), static_cast<int64_t>(src.size()), name);
    std::copy(src.begin(), src.end(), dst.begin());
  }

 private:
  static void expect_size(size_t got, int64_t expected, const std::string& name) {
    if (static_cast<int64_t>(got) != expected)
      throw Error(kWhere, name + " has " + std::to_string(got) + " parameters, expected " + std::to_string(expected) +
                              " (was the fixed network built from this architecture?)");
  }
  const ParamStore& from_;
  ParamStore& to_;
};

// Channels in [0, count) not in `kept` (sorted): with `kept` the supernet's mask, the channels that are zero there.
Indices dropped(int32_t count, const Indices& kept) {
  Indices out;
  for (int32_t c = 0; c < count; ++c)
    if (!std::binary_search(kept.begin(), kept.end(), c)) out.push_back(c);
  return out;
}

// Channels that were zero in the supernet (masked) and that the fixed network does not have: their constant
// depthwise response is what the fold below moves into the BatchNorm. A masked channel the fixed network does have
// (added back by the fit step) is computed for real there, so it is not folded.
Indices zero_and_dropped(int32_t count, const Indices& live, const Indices& kept) {
  Indices out;
  for (const int32_t c : dropped(count, live))
    if (!std::binary_search(kept.begin(), kept.end(), c)) out.push_back(c);
  return out;
}

// The depthwise stage maps a zero input channel c to the constant ReLU(β_c − μ_c·γ_c/√(σ²_c + ε)) in inference
// mode; the pointwise convolution adds Σ_c W[c][o]·const_c to output o. Subtracting that from the pointwise
// BatchNorm's running mean makes the fixed net (which has no channel c) compute the same.
void fold_dropped_depthwise_channels(const ParamStore& from, ParamStore& to, const std::vector<int32_t>& dw_bn,
                                     std::span<const float> w, int32_t cout, const Indices& dropped_in,
                                     const Indices& kept_out, int32_t fixed_running_mean) {
  if (dropped_in.empty()) return;
  const auto gamma = from.value(dw_bn[0]), beta = from.value(dw_bn[1]);
  const auto mean = from.value(dw_bn[2]), var = from.value(dw_bn[3]);
  auto running_mean = to.value(fixed_running_mean);
  for (size_t o = 0; o < kept_out.size(); ++o) {
    double shift = 0;
    for (int32_t c : dropped_in) {
      const auto k = static_cast<size_t>(c);
      // As BatchNorm2d computes it, in float: scale = γ·invstd, shift = β − mean·scale, y = max(0·scale + shift, 0).
      const float scale = gamma[k] * (1.0f / std::sqrt(var[k] + kBatchNormEps));
      const float constant = std::max(beta[k] - mean[k] * scale, 0.0f);
      shift += double{w[static_cast<size_t>(int64_t{c} * cout + kept_out[o])]} * constant;
    }
    running_mean[o] = static_cast<float>(running_mean[o] - shift);
  }
}

}  // namespace

void inherit_weights(const SuperNet& supernet, const FixedArch& arch, Network& fixed) {
  const SearchSpace& space = supernet.space();
  if (arch.blocks.size() != space.blocks.size())
    throw Error(kWhere, "architecture has " + std::to_string(arch.blocks.size()) + " blocks, the supernet " +
                            std::to_string(space.blocks.size()));
  Copier copy(supernet.weights(), fixed.params());
  // The channels of the supernet's activations that the fixed network keeps, as they enter each block, and those
  // the supernet's mask keeps (the others are zero there).
  Indices in(static_cast<size_t>(supernet.input_shape().c));
  std::iota(in.begin(), in.end(), 0);
  Indices in_live = in;
  int32_t in_full = supernet.input_shape().c;  // channels of that activation in the supernet

  for (size_t b = 0; b < arch.blocks.size(); ++b) {
    const FixedBlock& fb = arch.blocks[b];
    const SearchBlock& sb = space.blocks[b];
    const std::string where = "block '" + sb.name + "'";
    if (fb.name != sb.name) throw Error(kWhere, "architecture block " + std::to_string(b) + " is '" + fb.name +
                                                    "', the supernet's is '" + sb.name + "'");
    const auto found = std::find(sb.ops.begin(), sb.ops.end(), fb.op);
    if (found == sb.ops.end()) throw Error(kWhere, where + ": op " + fb.op.name() + " is not one of its candidates");
    const CandidateKind& row = candidate_kind(fb.op.kind);
    if (row.identity) continue;  // nothing to copy, channels unchanged
    const auto op = static_cast<size_t>(found - sb.ops.begin());
    const SearchableBlock& block = supernet.block(b);
    if (fb.out_channels > sb.out_channels || fb.out_channels <= 0)
      throw Error(kWhere, where + " has " + std::to_string(sb.out_channels) + " channels in the supernet, the "
                              "architecture keeps " + std::to_string(fb.out_channels));
    // A residual join keeps its input's channels; otherwise a count other than the mask's (repaired down, or fitted
    // up to the budget) keeps the first channels.
    const bool residual = fb.op.residual;
    if (residual && fb.out_channels != static_cast<int32_t>(in.size()))
      throw Error(kWhere, where + ": " + fb.op.name() + " with a residual join keeps its input's " +
                              std::to_string(in.size()) + " channels (the architecture says " +
                              std::to_string(fb.out_channels) + ")");
    const Indices live = residual ? in_live : block.kept_channel_indices();
    const Indices out = residual ? in : block.strongest_channels(fb.out_channels);
    auto fixed_slots = [&](const std::string& layer) { return node_slots(fixed, find_node(fixed, layer)); };
    // Stage by stage (the row's order): the channels the current activation keeps in the fixed network, those the
    // supernet's mask keeps, and its width in the supernet. A depthwise stage keeps its input's channels, an
    // expansion writes E per input channel (hidden channel h belongs to input channel h / E), and the candidate's
    // convolution (its last stage with weights) outputs the block's.
    Indices cur = in, cur_live = in_live;
    int32_t cur_full = in_full;
    std::vector<int32_t> depthwise_bn;  // the supernet slots of the BatchNorm after a depthwise stage
    // A convolution reading a depthwise stage's output: its weights and the channels to fold (see below), applied
    // to the BatchNorm that follows it. An expanding kind masks that output by its input's keep (SearchableBlock),
    // so its dropped channels are zero there and nothing folds.
    std::optional<std::pair<std::vector<float>, Indices>> fold;
    const std::vector<CandidateStage> stages = candidate_stages(fb.op);
    for (size_t s = 0; s < stages.size(); ++s) {
      const CandidateStage& stage = stages[s];
      const std::string layer = sb.name + "." + std::string(stage.name);
      switch (stage.kind) {
        case CandidateStage::Kind::depthwise: {
          const Indices one{0};  // a depthwise weight has one input channel per group: [k·k][1][c]
          copy.conv(block.conv_weights(op, s), fixed_slots(layer)[0], 1, cur_full, one, cur, layer);
          break;
        }
        case CandidateStage::Kind::expand: {
          const int32_t e = fb.op.expansion;
          auto hidden_of = [e](const Indices& channels) {
            Indices hidden;
            for (const int32_t c : channels)
              for (int32_t k = 0; k < e; ++k) hidden.push_back(c * e + k);
            return hidden;
          };
          const Indices hidden = hidden_of(cur);
          copy.conv(block.conv_weights(op, s), fixed_slots(layer)[0], cur_full, cur_full * e, cur, hidden, layer);
          cur_live = hidden_of(cur_live);
          cur = hidden;
          cur_full *= e;
          break;
        }
        case CandidateStage::Kind::reuse_conv:  // a convolution's weights, plus its projections as they are
        case CandidateStage::Kind::conv: {
          const auto weighted = [](const CandidateStage& later) {
            return later.kind != CandidateStage::Kind::batchnorm;
          };
          if (std::any_of(stages.begin() + static_cast<std::ptrdiff_t>(s) + 1, stages.end(), weighted))
            throw Error(kWhere, where + ": a convolution before the candidate's last stage is not supported yet",
                        Error::Kind::failure);
          std::vector<float> weights = block.conv_weights(op, s);
          copy.conv(weights, fixed_slots(layer)[0], cur_full, sb.out_channels, cur, out, layer);
          if (stage.kind == CandidateStage::Kind::reuse_conv)
            copy.all(block.stage_slots(op, s).at(1), fixed_slots(layer).at(1), layer + " projections");
          if (!depthwise_bn.empty() && !row.expands)
            fold.emplace(std::move(weights), zero_and_dropped(cur_full, cur_live, cur));
          cur = out;
          cur_live = live;
          cur_full = sb.out_channels;
          break;
        }
        case CandidateStage::Kind::batchnorm: {
          const std::vector<int32_t> to = fixed_slots(layer);
          copy.batchnorm(block.stage_slots(op, s), to, cur, layer);
          if (s > 0 && stages[s - 1].kind == CandidateStage::Kind::depthwise) depthwise_bn = block.stage_slots(op, s);
          if (fold) {
            fold_dropped_depthwise_channels(supernet.weights(), fixed.params(), depthwise_bn, fold->first,
                                            sb.out_channels, fold->second, out, to[2]);
            fold.reset();
            depthwise_bn.clear();
          }
          break;
        }
      }
    }
    in = out;
    in_live = live;
    in_full = sb.out_channels;  // a residual join's too: it needs the block's in = out
  }

  // Head: linear weights [in][classes] for the kept input channels, and the bias.
  const std::vector<int32_t> from = node_slots(supernet.network(), supernet.head_fc_node());
  const std::vector<int32_t> to = node_slots(fixed, find_node(fixed, "head.fc"));
  if (from.size() != to.size() || from.empty()) throw Error(kWhere, "head.fc layers differ");
  Indices classes(static_cast<size_t>(supernet.num_classes()));
  std::iota(classes.begin(), classes.end(), 0);
  copy.conv(from[0], to[0], in_full, supernet.num_classes(), in, classes, "head.fc");
  for (size_t k = 1; k < from.size(); ++k) copy.all(from[k], to[k], "head.fc bias");
}

void seed_supernet(const Network& fixed, const FixedArch& arch, SuperNet& supernet) {
  const SearchSpace& space = supernet.space();
  if (arch.blocks.size() != space.blocks.size())
    throw Error(kWhere, "the seed network has " + std::to_string(arch.blocks.size()) + " blocks, the supernet " +
                            std::to_string(space.blocks.size()));
  ParamStore& to = supernet.weights();
  auto copy = [&](const std::vector<int32_t>& from_slots, const std::vector<int32_t>& to_slots,
                  const std::string& layer) {
    if (from_slots.size() != to_slots.size())
      throw Error(kWhere, layer + ": the seed network and the supernet have different parameters");
    for (size_t k = 0; k < from_slots.size(); ++k) {
      const auto src = fixed.params().value(from_slots[k]);
      const auto dst = to.value(to_slots[k]);
      if (src.size() != dst.size())
        throw Error(kWhere, layer + " has " + std::to_string(src.size()) + " values in the seed network, " +
                                std::to_string(dst.size()) + " in the supernet");
      std::copy(src.begin(), src.end(), dst.begin());
    }
  };
  for (size_t b = 0; b < arch.blocks.size(); ++b) {
    const FixedBlock& fb = arch.blocks[b];
    const SearchBlock& sb = space.blocks[b];
    if (sb.ops.size() != 1 || !(sb.ops[0] == fb.op) || sb.out_channels != fb.out_channels || sb.share_kernels)
      throw Error(kWhere, "block '" + sb.name + "' is not the seed network's " + fb.op.name() + " of " +
                              std::to_string(fb.out_channels) + " channels");
    const std::vector<CandidateStage> stages = candidate_stages(fb.op);
    for (size_t s = 0; s < stages.size(); ++s) {
      const std::string layer = sb.name + "." + std::string(stages[s].name);
      copy(node_slots(fixed, find_node(fixed, layer)), supernet.block(b).stage_slots(0, s), layer);
    }
  }
  copy(node_slots(fixed, find_node(fixed, "head.fc")), node_slots(supernet.network(), supernet.head_fc_node()),
       "head.fc");
}

}  // namespace nas::supernet
