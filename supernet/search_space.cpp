#include "supernet/search_space.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/error.h"
#include "common/yaml_keys.h"
#include "supernet/candidate_kinds.h"

namespace nas::supernet {

namespace {

// "b1.stride" under "search_space.blocks[0]".
std::string key(const std::string& path, const std::string& name) { return path + "." + name; }

// Block names become layer-name prefixes ("<block>.conv") and parameter slot names, so they must not contain the
// separators those use, nor collide with the head's prefix.
void check_block_name(const std::string& name, const std::string& where) {
  if (name.empty()) throw Error(where, "block name must not be empty");
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '-';
    if (!ok) throw Error(where, "block name '" + name + "' may only use letters, digits, '_' and '-'");
  }
  if (name == "head") throw Error(where, "block name 'head' is reserved for the classifier head");
}

int32_t read_stride(const YAML::Node& node, const std::string& path) {
  const int32_t stride = yaml::read_scalar<int32_t>(node, path, "an integer");
  if (stride != 1 && stride != 2) throw Error(yaml::where(path, node), "stride must be 1 or 2 (got " + std::to_string(stride) + ")");
  return stride;
}

int32_t read_channels(const YAML::Node& node, const std::string& path) {
  const int32_t out = yaml::read_scalar<int32_t>(node, path, "an integer");
  if (out <= 0) throw Error(yaml::where(path, node), "channels must be positive (got " + std::to_string(out) + ")");
  return out;
}

// The value of a required key.
YAML::Node required(const YAML::Node& node, const std::string& path, const std::string& name) {
  const YAML::Node value = node[name];
  if (!value) throw Error(yaml::where(path, node), "missing key '" + name + "'");
  return value;
}

// A block's `name`: valid, and not used by an earlier block of the same list (`names` collects them).
std::string read_block_name(const YAML::Node& item, const std::string& path, std::set<std::string>& names) {
  const YAML::Node node = required(item, path, "name");
  std::string name = yaml::read_scalar<std::string>(node, key(path, "name"), "a string");
  check_block_name(name, yaml::where(key(path, "name"), node));
  if (!names.insert(name).second)
    throw Error(yaml::where(key(path, "name"), node), "block name '" + name + "' is used twice");
  return name;
}

// A spatial size after a k×k operator with padding k/2 at `stride`: (h + 2·(k/2) − k)/s + 1 = (h − 1)/s + 1 for
// odd k, the same for every candidate, which is what lets them share one output shape.
int32_t strided(int32_t size, int32_t stride) { return (size - 1) / stride + 1; }

}  // namespace

std::string OpCandidate::name() const {
  const CandidateKind& row = candidate_kind(kind);
  if (row.identity) return std::string(row.prefix);
  const std::string k = std::to_string(kernel);
  return std::string(row.prefix) + k + "x" + k + (row.expands ? "_e" + std::to_string(expansion) : "") +
         (row.reuses ? "_reuse_l" + std::to_string(sub_len) + "h" + std::to_string(hash_bits) : "");
}

namespace {

// "convKxK, dwsepKxK or mbconvKxK_eE with odd K in 1..7 and E in 1..8 (e.g. conv3x3, dwsep5x5, mbconv3x3_e6), or
// skip", from the rows.
std::string accepted_ops() {
  std::vector<std::string> sized, examples, identities;
  for (const OpKind kind : all_candidate_kinds()) {
    const CandidateKind& row = candidate_kind(kind);
    if (row.identity) {
      identities.emplace_back(row.prefix);
    } else {
      const std::string suffix = row.expands ? "_eE" : row.reuses ? "_reuse_lLhH" : "";
      sized.push_back(std::string(row.prefix) + "KxK" + suffix);
      examples.push_back(std::string(row.prefix) + (examples.empty() ? "3x3" : "5x5") + (row.expands ? "_e6" : "") +
                         (row.reuses ? "_reuse_l16h4" : ""));
    }
  }
  auto join = [](const std::vector<std::string>& items, const char* last) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i)
      out += (i == 0 ? "" : i + 1 == items.size() ? last : ", ") + items[i];
    return out;
  };
  std::string text = join(sized, " or ") + " with odd K in 1..7, E in 1.." + std::to_string(kMaxExpansion) +
                     ", L in 1.." + std::to_string(kMaxReuseSubLen) + " and H in 1..8 (e.g. " + join(examples, ", ") +
                     ")";
  for (const auto& identity : identities) text += ", or " + identity;
  return text;
}

// "KxK" with one digit each side, K odd: the kernel, or 0.
int32_t kernel_of(const std::string& rest) {
  if (rest.size() != 3 || rest[1] != 'x' || rest[0] != rest[2] || rest[0] < '1' || rest[0] > '7') return 0;
  const int32_t k = rest[0] - '0';
  return k % 2 == 1 ? k : 0;
}

// "_eE" with E one digit in 1..kMaxExpansion: E, or 0.
int32_t expansion_of(const std::string& rest) {
  if (rest.size() != 3 || rest[0] != '_' || rest[1] != 'e' || rest[2] < '1' || rest[2] > '0' + kMaxExpansion)
    return 0;
  return rest[2] - '0';
}

// "_reuse_lLhH" with L in 1..kMaxReuseSubLen and H in 1..8 (decimal, no leading zero): {L, H}, or {0, 0}.
std::pair<int32_t, int32_t> reuse_of(const std::string& rest) {
  const std::string head = "_reuse_l";
  const size_t h = rest.find('h', head.size());
  if (rest.rfind(head, 0) != 0 || h == std::string::npos) return {0, 0};
  auto number = [](const std::string& digits, int32_t most) {
    if (digits.empty() || digits.size() > 2 || digits[0] == '0') return 0;
    int32_t v = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return 0;
      v = v * 10 + (c - '0');
    }
    return v <= most ? v : 0;
  };
  const int32_t len = number(rest.substr(head.size(), h - head.size()), kMaxReuseSubLen);
  const int32_t bits = number(rest.substr(h + 1), 8);
  return len > 0 && bits > 0 ? std::pair{len, bits} : std::pair{0, 0};
}

}  // namespace

bool OpCandidate::is_identity() const { return candidate_kind(kind).identity; }

bool OpCandidate::keeps_input_channels() const { return is_identity() || residual; }

OpCandidate parse_op(const std::string& text, const std::string& where) {
  for (const OpKind kind : all_candidate_kinds()) {
    const CandidateKind& row = candidate_kind(kind);
    if (row.identity) {
      if (text == row.prefix) return {kind, 0};
    } else if (text.rfind(row.prefix, 0) == 0) {
      const std::string rest = text.substr(row.prefix.size());
      if (row.reuses) {
        const int32_t k = rest.size() > 3 ? kernel_of(rest.substr(0, 3)) : 0;
        const auto [len, bits] = rest.size() > 3 ? reuse_of(rest.substr(3)) : std::pair{0, 0};
        if (k > 0 && len > 0) return {.kind = kind, .kernel = k, .sub_len = len, .hash_bits = bits};
      } else if (!row.expands) {
        if (const int32_t k = kernel_of(rest); k > 0) return {kind, k};
      } else if (rest.size() > 3) {
        const int32_t k = kernel_of(rest.substr(0, 3)), e = expansion_of(rest.substr(3));
        if (k > 0 && e > 0) return {kind, k, e};
      }
    }
  }
  throw Error(where, "unknown op '" + text + "' (expected " + accepted_ops() + ")");
}

// `widths:` of a block: a strictly ascending list of positive channel counts ending with `out`.
static std::vector<int32_t> read_widths(const YAML::Node& node, const std::string& path, int32_t out_channels) {
  const std::string expected = "a strictly ascending list of channel counts ending with out (" +
                               std::to_string(out_channels) + ")";
  if (!node.IsSequence() || node.size() == 0) throw Error(yaml::where(path, node), "expected " + expected);
  std::vector<int32_t> widths;
  for (size_t i = 0; i < node.size(); ++i) {
    const int32_t w = read_channels(node[i], path + "[" + std::to_string(i) + "]");
    if (!widths.empty() && w <= widths.back()) throw Error(yaml::where(path, node), "expected " + expected);
    widths.push_back(w);
  }
  if (widths.back() != out_channels) throw Error(yaml::where(path, node), "expected " + expected);
  return widths;
}

SearchSpace parse_search_space(const YAML::Node& node, Shape input) {
  const std::string root = "search_space";
  if (!node) throw Error(root, "missing (expected a mapping with 'blocks')");
  yaml::check_keys(node, root, {"blocks", "share_kernels", "share_expansions"});
  auto flag = [&](const char* name) {
    return node[name] && yaml::read_scalar<bool>(node[name], key(root, name), "true or false");
  };
  const bool share_kernels = flag("share_kernels"), share_expansions = flag("share_expansions");
  const std::string blocks_path = key(root, "blocks");
  const YAML::Node blocks = required(node, root, "blocks");
  if (!blocks.IsSequence() || blocks.size() == 0)
    throw Error(yaml::where(blocks_path, blocks), "expected a non-empty list of blocks");
  if (input.c <= 0 || input.h <= 0 || input.w <= 0)
    throw Error(root, "input shape " + input.str() + " must be positive", Error::Kind::failure);

  SearchSpace space;
  space.input_channels = input.c;
  std::set<std::string> names;
  int32_t in_channels = input.c;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const YAML::Node& item = blocks[b];
    const std::string path = blocks_path + "[" + std::to_string(b) + "]";
    yaml::check_keys(item, path, {"name", "out", "stride", "ops", "widths"});
    SearchBlock block;
    block.name = read_block_name(item, path, names);
    block.out_channels = read_channels(required(item, path, "out"), key(path, "out"));
    block.stride = item["stride"] ? read_stride(item["stride"], key(path, "stride")) : 1;

    const std::string ops_path = key(path, "ops");
    const YAML::Node ops = required(item, path, "ops");
    if (!ops.IsSequence() || ops.size() == 0) throw Error(yaml::where(ops_path, ops), "expected a non-empty list of ops");
    for (size_t i = 0; i < ops.size(); ++i) {
      const std::string op_path = ops_path + "[" + std::to_string(i) + "]";
      const std::string op_where = yaml::where(op_path, ops[i]);
      OpCandidate op = parse_op(yaml::read_scalar<std::string>(ops[i], op_path, "an op name"), op_where);
      op.residual = candidate_kind(op.kind).residual_join && block.stride == 1 && in_channels == block.out_channels;
      for (const auto& earlier : block.ops)
        if (earlier == op) throw Error(op_where, "op '" + op.name() + "' is listed twice");
      if (op.is_identity() && (block.stride != 1 || in_channels != block.out_channels))
        throw Error(op_where, "skip needs stride 1 and as many input as output channels (got stride " +
                                  std::to_string(block.stride) + ", " + std::to_string(in_channels) + " -> " +
                                  std::to_string(block.out_channels) + " channels)");
      block.ops.push_back(op);
    }
    if (item["widths"]) block.widths = read_widths(item["widths"], key(path, "widths"), block.out_channels);
    block.share_kernels = share_kernels;
    block.share_expansions = share_expansions;
    in_channels = block.out_channels;
    space.blocks.push_back(std::move(block));
  }
  return space;
}

std::vector<int32_t> default_widths(int32_t out_channels) {
  std::vector<int32_t> widths;
  for (int32_t k = 1; k <= 8; ++k) {
    const int32_t w = std::max(1, (k * out_channels + 7) / 8);
    if (widths.empty() || widths.back() != w) widths.push_back(w);
  }
  return widths;
}

std::vector<int32_t> width_choices(const SearchBlock& block) {
  return block.widths.empty() ? default_widths(block.out_channels) : block.widths;
}

Shape block_input_shape(const SearchSpace& space, Shape input, size_t b) {
  if (b >= space.blocks.size())
    throw Error("search space", "block " + std::to_string(b) + " does not exist (" +
                                    std::to_string(space.blocks.size()) + " blocks)", Error::Kind::failure);
  Shape shape{1, input.h, input.w, input.c};
  for (size_t k = 0; k < b; ++k) shape = block_output_shape(space, input, k);
  return shape;
}

Shape block_output_shape(const SearchSpace& space, Shape input, size_t b) {
  const Shape in = block_input_shape(space, input, b);
  const SearchBlock& block = space.blocks[b];
  return {1, strided(in.h, block.stride), strided(in.w, block.stride), block.out_channels};
}

FixedArch seed_arch(const SearchSpace& space) {
  FixedArch arch;
  arch.input_channels = space.input_channels;
  for (const auto& block : space.blocks)
    arch.blocks.push_back({block.name, block.ops.front(), block.out_channels, block.stride});
  return arch;
}

std::string fixed_arch_line(const FixedArch& arch) {
  std::string line;
  for (const auto& b : arch.blocks) {
    if (!line.empty()) line += " → ";
    line += b.op.name() + " " + std::to_string(b.out_channels);
    if (b.stride > 1) line += "/" + std::to_string(b.stride);
  }
  return line;
}

YAML::Node fixed_arch_yaml(const FixedArch& arch) {
  YAML::Node root;
  YAML::Node blocks(YAML::NodeType::Sequence);
  for (const auto& block : arch.blocks) {
    YAML::Node item;
    item["name"] = block.name;
    item["op"] = block.op.name();
    item["out"] = block.out_channels;
    item["stride"] = block.stride;
    if (block.op.residual) item["residual"] = true;
    item.SetStyle(YAML::EmitterStyle::Flow);
    blocks.push_back(item);
  }
  if (arch.input_channels > 0) root["input_channels"] = arch.input_channels;
  root["blocks"] = blocks;
  return root;
}

FixedArch parse_fixed_arch(const YAML::Node& node) {
  const std::string root = "architecture";
  if (!node) throw Error(root, "missing (expected a mapping with 'blocks')");
  yaml::check_keys(node, root, {"blocks", "input_channels"});
  const std::string blocks_path = key(root, "blocks");
  const YAML::Node blocks = required(node, root, "blocks");
  if (!blocks.IsSequence() || blocks.size() == 0)
    throw Error(yaml::where(blocks_path, blocks), "expected a non-empty list of blocks");
  FixedArch arch;
  if (node["input_channels"])
    arch.input_channels = read_channels(node["input_channels"], key(root, "input_channels"));
  std::set<std::string> names;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const YAML::Node& item = blocks[b];
    const std::string path = blocks_path + "[" + std::to_string(b) + "]";
    yaml::check_keys(item, path, {"name", "op", "out", "stride", "residual"});
    FixedBlock block;
    block.name = read_block_name(item, path, names);
    const YAML::Node op = required(item, path, "op");
    block.op = parse_op(yaml::read_scalar<std::string>(op, key(path, "op"), "an op name"), yaml::where(key(path, "op"), op));
    block.out_channels = read_channels(required(item, path, "out"), key(path, "out"));
    block.stride = item["stride"] ? read_stride(item["stride"], key(path, "stride")) : 1;
    if (const YAML::Node residual = item["residual"]) {
      block.op.residual = yaml::read_scalar<bool>(residual, key(path, "residual"), "true or false");
      if (block.op.residual && !candidate_kind(block.op.kind).residual_join)
        throw Error(yaml::where(key(path, "residual"), residual), block.op.name() + " has no residual join");
    }
    // The first block's input channels are the image's (unknown when input_channels is not given); skips and
    // residual joins must keep their input's.
    if (block.op.keeps_input_channels()) {
      const int32_t in = b > 0 ? arch.blocks.back().out_channels
                         : arch.input_channels > 0 ? arch.input_channels
                                                   : block.out_channels;
      if (block.stride != 1 || in != block.out_channels)
        throw Error(yaml::where(path, item), block.op.name() + (block.op.residual ? " with a residual join" : "") +
                                                 " needs stride 1 and out equal to its input's channels (got stride " +
                                                 std::to_string(block.stride) + ", " + std::to_string(in) + " -> " +
                                                 std::to_string(block.out_channels) + " channels)");
    }
    if (b == 0 && arch.input_channels == 0 && block.op.expansion > 1)
      throw Error(yaml::where(root, node), "missing key 'input_channels' (block '" + block.name + "' expands its " +
                                               "input, so the image's channel count is needed)");
    arch.blocks.push_back(std::move(block));
  }
  return arch;
}

int32_t fixed_block_input_channels(const FixedArch& arch, size_t b) {
  return b == 0 ? arch.input_channels : arch.blocks.at(b - 1).out_channels;
}

int32_t fixed_block_expanded_channels(const FixedArch& arch, size_t b) {
  const OpCandidate& op = arch.blocks.at(b).op;
  return op.expansion > 1 ? op.expansion * fixed_block_input_channels(arch, b) : 0;
}

YAML::Node fixed_model_yaml(const FixedArch& arch) {
  YAML::Node layers(YAML::NodeType::Sequence);
  // Keys are set before the layer joins the list, so nothing relies on yaml-cpp's node aliasing.
  auto layer = [](const std::string& name, const std::string& type) {
    YAML::Node node;
    node["name"] = name;
    node["type"] = type;
    node.SetStyle(YAML::EmitterStyle::Flow);
    return node;
  };
  auto add = [&](const std::string& name, const std::string& type) { layers.push_back(layer(name, type)); };
  // A k×k convolution without bias: the BatchNorm after it has its own shift, so a bias would be redundant.
  // A reuse convolution also names its sub-vector length and hash bits (`reuse`: its op, else null).
  auto conv = [&](const std::string& name, const std::string& type, int32_t out, int32_t kernel, int32_t stride,
                  const OpCandidate* reuse = nullptr) {
    YAML::Node node = layer(name, type);
    if (out > 0) node["out"] = out;  // a depthwise convolution keeps its input's channels
    node["kernel"] = kernel;
    node["stride"] = stride;
    node["padding"] = kernel / 2;
    node["bias"] = false;
    if (reuse) {
      node["sub_len"] = reuse->sub_len;
      node["hash_bits"] = reuse->hash_bits;
    }
    layers.push_back(node);
  };
  std::string last = "input";  // the layer the next block reads
  for (size_t b = 0; b < arch.blocks.size(); ++b) {
    const FixedBlock& block = arch.blocks[b];
    const std::string& n = block.name;
    const CandidateKind& row = candidate_kind(block.op.kind);
    const std::string block_input = last;
    for (const CandidateStage& stage : candidate_stages(block.op)) {  // the identity has none
      const int32_t kernel = stage.kxk ? block.op.kernel : 1, stride = stage.kxk ? block.stride : 1;
      const std::string layer_name = n + "." + std::string(stage.name);
      last = layer_name;
      switch (stage.kind) {
        case CandidateStage::Kind::conv:
          conv(layer_name, "conv2d", block.out_channels, kernel, stride);
          break;
        case CandidateStage::Kind::expand: {
          const int32_t expanded = fixed_block_expanded_channels(arch, b);
          if (expanded <= 0)
            throw Error("architecture", "block '" + n + "' expands its input, but the image's channel count is not "
                                        "known (input_channels)");
          conv(layer_name, "conv2d", expanded, kernel, stride);
          break;
        }
        case CandidateStage::Kind::depthwise:
          conv(layer_name, "depthwise_conv2d", 0, kernel, stride);
          break;
        case CandidateStage::Kind::reuse_conv:
          conv(layer_name, "reuse_conv2d", block.out_channels, kernel, stride, &block.op);
          break;
        case CandidateStage::Kind::batchnorm:
          add(layer_name, "batchnorm");
          if (stage.activation != CandidateStage::Activation::none) {
            last = n + "." + std::string(stage.activation_name);
            add(last, stage.activation == CandidateStage::Activation::relu6 ? "relu6" : "relu");
          }
          break;
      }
    }
    if (block.op.residual) {
      YAML::Node join = layer(n + "." + std::string(row.join_name), "add");
      YAML::Node inputs(YAML::NodeType::Sequence);
      inputs.push_back(last);
      inputs.push_back(block_input);
      inputs.SetStyle(YAML::EmitterStyle::Flow);
      join["inputs"] = inputs;
      layers.push_back(join);
      last = n + "." + std::string(row.join_name);
    }
  }
  add("head.pool", "global_avg_pool");
  YAML::Node fc = layer("head.fc", "linear");
  fc["out"] = "classes";
  layers.push_back(fc);
  YAML::Node model;
  model["layers"] = layers;
  return model;
}

}  // namespace nas::supernet
