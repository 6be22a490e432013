// The search space of a supernet: a chain of searchable blocks, each choosing one operator from its candidates
// (SuperNet style) and keeping a subset of its output channels (PIT style), followed by a fixed head (global
// average pool, then a linear layer to the classes). Described in YAML under `search_space:`:
//
//   search_space:
//     blocks:
//       - {name: b1, out: 32, stride: 1, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
//       - {name: b2, out: 64, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3, dwsep5x5]}
//       - {name: b3, out: 64, stride: 1, ops: [conv3x3, dwsep3x3, skip]}   # skip: stride 1 and in == out only
//       - {name: b4, out: 64, ops: [conv3x3], widths: [16, 32, 48, 64]}    # optional; default ⌈k·out/8⌉, k=1..8
//       - {name: b5, out: 64, ops: [mbconv3x3_e6, mbconv5x5_e3, skip]}    # inverted residuals (below)
//       - {name: b6, out: 64, ops: [conv3x3, conv3x3_reuse_l16h4]}       # TREC reuse convolution (below)
//     share_kernels: false    # optional: k×k candidates use the centre of the largest kernel of their kind
//     share_expansions: false # optional: an mbconv's hidden channels are a subset of the largest expansion's
//
// Every operator is followed by BatchNorm and ReLU; padding is kernel/2 ("same" at stride 1). A depthwise-separable
// operator is a depthwise k×k convolution (BN, ReLU) then a pointwise 1×1 convolution (BN, ReLU). Skip is the
// identity. An inverted residual mbconvKxK_eE (MobileNetV2's block, MCUNet's search unit) is a 1×1 expansion to E
// times its input channels (BN, ReLU6; none when E = 1), a depthwise k×k convolution (BN, ReLU6) and a linear 1×1
// projection (BN, no activation); at stride 1 with as many input as output channels it adds its input to the
// projection (the residual join), and then, like skip, keeps its input's channels whatever width the block picks.
// A reuse convolution convKxK_reuse_lLhH is convKxK computed by transient redundancy elimination
// (supernet/reuse_conv2d.h: sub-vectors of L im2col values hashed by H trainable sign projections, one product per
// cluster), BN, ReLU; the cost model prices it with an estimated reuse rate (cost_models/reuse_rate_model.h).
// The fixed architecture that a search ends with (FixedArch) names one operator and a channel count per block; it is
// the hand-off to training, cost models and deployment.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supernet/tensor.h"

namespace nas::supernet {

// The kinds of candidate operator; each has one row in candidate_kinds.cpp (its name and stages).
enum class OpKind { conv, dwsep, skip, mbconv, conv_reuse };
inline constexpr int kOpKindCount = 5;
static_assert(static_cast<int>(OpKind::conv_reuse) + 1 == kOpKindCount, "kOpKindCount counts the kinds");

// The longest sub-vector a reuse convolution candidate may hash (its name's L; the kernel takes any L >= 1, but
// longer sub-vectors than a 7×7 window of one channel cluster almost nothing).
inline constexpr int32_t kMaxReuseSubLen = 64;

// The most an inverted residual may expand its input (MobileNetV2 and MCUNet use 1..6).
inline constexpr int32_t kMaxExpansion = 8;

struct OpCandidate {
  OpKind kind = OpKind::conv;
  int32_t kernel = 3;     // 0 for skip
  int32_t expansion = 0;  // mbconv: the expand stage's factor E (1..kMaxExpansion); 0 for the other kinds
  // mbconv: the block adds its input to the projection (stride 1 and the block's input channels equal its out); set
  // by parse_search_space from the shapes, and by parse_fixed_arch from the architecture's `residual: true`.
  bool residual = false;
  // conv_reuse (TREC, supernet/reuse_conv2d.h): sub-vector length L and hash bits H (1..8); 0 for the other kinds.
  int32_t sub_len = 0, hash_bits = 0;
  std::string name() const;  // "conv3x3", "dwsep5x5", "skip", "mbconv3x3_e6", "conv3x3_reuse_l16h4"
  bool is_identity() const;  // skip: no layers, its output is its input (candidate_kinds.h)
  // Skip and residual candidates: the output has the input's channels and the block's width choice does not apply
  // (a fixed network's block has its input's channels).
  bool keeps_input_channels() const;
  bool operator==(const OpCandidate&) const = default;
};

// Parses "conv3x3", "conv5x5", "dwsep3x3", "dwsep5x5", "skip", "mbconv3x3_e6" (any odd kernel 1..7, any expansion
// 1..kMaxExpansion), "conv3x3_reuse_l16h4" (L in 1..kMaxReuseSubLen, H in 1..8); throws nas::Error naming `where`
// and listing the accepted forms. The result has residual false.
OpCandidate parse_op(const std::string& text, const std::string& where);

struct SearchBlock {
  std::string name;
  int32_t out_channels = 0;  // the most channels the block may keep
  int32_t stride = 1;
  std::vector<OpCandidate> ops;
  // The channel counts the block chooses among (ascending, the last = out_channels); empty: default_widths().
  std::vector<int32_t> widths = {};
  // Candidates of one kind share weights: a k×k kernel is the centre of the block's largest kernel of that kind,
  // and the depthwise-separable candidates share their pointwise weights (OFA's elastic kernel). Off by default:
  // without OFA's kernel transforms and progressive shrinking it trained the supernet faster but ranked worse
  // (docs/search.md, Figures).
  bool share_kernels = false;
  // Inverted residuals of one kernel (of every kernel, with share_kernels) share weights across expansions: an
  // expansion-E' candidate computes with E' of the E hidden channels per input channel of the block's largest E —
  // its expand filters, depthwise channels and projection columns (OFA's elastic expansion ratio). The hidden
  // width is then a mask on one trained set of channels, not a separate network per E. BatchNorm stays per
  // candidate. Off by default (docs/search.md, "Inverted residuals", measures it).
  bool share_expansions = false;
};

// ⌈k·out/8⌉ for k = 1..8 without repeats: eight evenly spaced widths (FBNetV2's channel choice, coarse enough
// that neighbouring widths differ in accuracy, fine enough that fixing wastes at most 1/8 of a block).
std::vector<int32_t> default_widths(int32_t out_channels);
// block.widths, or default_widths(block.out_channels) when empty.
std::vector<int32_t> width_choices(const SearchBlock& block);

struct SearchSpace {
  std::vector<SearchBlock> blocks;
  int32_t input_channels = 0;  // the image's channels (what the first block reads)
};

// Parses the `search_space:` node (strict keys; one clear nas::Error per problem: unknown op, skip where the shapes
// do not allow it, duplicate names, non-positive channels, stride not 1 or 2). `input` is one image's shape; it is
// needed to check skips (the first block's input has input.c channels).
SearchSpace parse_search_space(const YAML::Node& node, Shape input);

// Input and output shape (n = 1) of block `b` for images of shape `input`, all channels kept.
Shape block_input_shape(const SearchSpace& space, Shape input, size_t b);
Shape block_output_shape(const SearchSpace& space, Shape input, size_t b);

// One concrete choice per block.
struct FixedBlock {
  std::string name;
  OpCandidate op;
  int32_t out_channels = 0;  // channels kept; for skip, equal to the block's input channels
  int32_t stride = 1;
};

struct FixedArch {
  std::vector<FixedBlock> blocks;
  // The image's channels: the first block's input, which an expansion stage multiplies. 0 when not known (an
  // architecture YAML written before inverted residuals existed); then a first block that expands is refused.
  int32_t input_channels = 0;
};

// The channels block `b` of `arch` reads: the previous block's out, or the image's for the first.
int32_t fixed_block_input_channels(const FixedArch& arch, size_t b);
// The channels an expansion stage of block `b` writes: E × its input channels (0 when its op does not expand).
int32_t fixed_block_expanded_channels(const FixedArch& arch, size_t b);

// The seed network of a space: every block's first listed operator with all its channels. It is what the search
// starts from and what its results are compared against (docs/iso-accuracy.md); list the seed operator first.
FixedArch seed_arch(const SearchSpace& space);

// The fixed architecture as human-readable YAML (`input_channels`, `blocks: [{name, op, out, stride}]`, plus
// `residual: true` on a residual inverted block) and back (strict).
YAML::Node fixed_arch_yaml(const FixedArch& arch);
FixedArch parse_fixed_arch(const YAML::Node& node);
// One line for logs and reports: `conv3x3 16 → dwsep5x5 32/2 → skip 32` (operator, channels, /stride).
std::string fixed_arch_line(const FixedArch& arch);

// The fixed architecture as a `model:` node for build_network (supernet/network_builder.h): concrete conv2d /
// depthwise_conv2d / batchnorm / relu layers, then global_avg_pool and `linear, out: classes`. Layer names are
// `<block>.conv`, `<block>.bn`, `<block>.dw`, `<block>.dw_bn`, `<block>.pw`, `<block>.pw_bn`, `<block>.expand`,
// `<block>.project`, `<block>.add`, …, `head.pool`, `head.fc` (the stage names of candidate_kinds.cpp), so weights
// can be copied from the supernet by name.
YAML::Node fixed_model_yaml(const FixedArch& arch);

}  // namespace nas::supernet
