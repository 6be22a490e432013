#include "supernet/onnx_import.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "supernet/candidate_kinds.h"
#include "supernet/network_builder.h"

namespace nas::supernet {

namespace {

constexpr float kBatchNormEps = 1e-5f;  // BatchNorm2d's, which every block of a fixed network uses

// Every op type the reader follows; anything else is refused by name before the graph is matched.
const std::set<std::string>& known_ops() {
  static const std::set<std::string> ops = {"Conv", "BatchNormalization", "Relu", "Clip", "Add", "GlobalAveragePool",
                                            "ReduceMean", "Flatten", "Reshape", "Gemm", "Identity", "Constant"};
  return ops;
}

// One convolution of a matched block, with what its BatchNorm (or its folded bias) makes of the output.
struct MatchedConv {
  size_t at = 0;  // the conv's index in the reader's node list (its BatchNorm, if any, is the next)
  const onnx::NodeProto* conv = nullptr;
  const onnx::NodeProto* batchnorm = nullptr;  // null: folded into the conv's bias (or none at all)
  std::string layer, bn_layer;                 // our layer names: "b1.conv", "b1.bn"
};

struct MatchedBlock {
  FixedBlock block;
  std::vector<MatchedConv> convs;
  size_t next = 0;  // the node after the block
  std::string output;
  int32_t channels = 0;
};

class Reader {
 public:
  Reader(const onnx::ModelProto& model, std::string origin) : model_(model), origin_(std::move(origin)) {}

  OnnxNetwork read() {
    if (!model_.has_graph()) fail("is not an ONNX model (it has no graph)");
    const onnx::GraphProto& g = model_.graph();
    for (const auto& t : g.initializer()) constants_[t.name()] = &t;
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto& n = g.node(i);
      if (!known_ops().count(n.op_type()))
        fail(fmt::format("node {} is {} ('{}'), which nas import does not read (it reads {})", i, n.op_type(),
                         n.name(), fmt::join(known_ops(), ", ")));
      if (n.op_type() == "Constant") {
        const onnx::AttributeProto* value = attribute(n, "value");
        if (!value || !value->has_t() || n.output_size() != 1)
          fail(fmt::format("node {} (Constant '{}') holds no tensor", i, n.name()));
        constants_[n.output(0)] = &value->t();
      } else if (n.op_type() == "Identity") {
        if (n.input_size() != 1 || n.output_size() != 1) fail_node(i, "has the wrong operands");
        alias_[n.output(0)] = n.input(0);
      } else {
        nodes_.push_back(&n);
        index_.push_back(i);
      }
    }
    OnnxNetwork out;
    out.input = image_input(g);
    out.arch.input_channels = out.input.c;
    std::string current = input_name_;
    int32_t channels = out.input.c;
    size_t at = 0;
    std::vector<MatchedBlock> blocks;
    while (at < nodes_.size() && nodes_[at]->op_type() == "Conv") {
      MatchedBlock b = match_block(at, current, channels, "b" + std::to_string(blocks.size() + 1));
      at = b.next;
      current = b.output;
      channels = b.channels;
      out.arch.blocks.push_back(b.block);
      blocks.push_back(std::move(b));
    }
    if (blocks.empty()) fail("has no convolution block at its start (a seed network begins with a Conv)");
    const auto [fc_weights, fc_bias] = head_weights(match_head(at, current, channels), channels);
    out.classes = static_cast<int32_t>(fc_bias.size());
    out.net = std::make_unique<Network>(build_network(fixed_model_yaml(out.arch), out.input, out.classes, 0));
    for (const MatchedBlock& b : blocks)
      for (const MatchedConv& c : b.convs) copy_conv(c, *out.net);
    copy_head(fc_weights, fc_bias, *out.net);
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(origin_, what); }
  [[noreturn]] void fail_node(size_t graph_index, const std::string& what) const {
    const onnx::NodeProto& n = model_.graph().node(static_cast<int>(graph_index));
    fail(fmt::format("node {} ({} '{}') {}", graph_index, n.op_type(), n.name(), what));
  }
  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    fail_node(static_cast<size_t>(index_.at(at)), what);
  }

  std::string resolve(std::string name) const {
    for (auto it = alias_.find(name); it != alias_.end(); it = alias_.find(name)) name = it->second;
    return name;
  }

  static const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static int64_t int_attr(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
    const auto* a = attribute(n, name);
    return a ? a->i() : fallback;
  }
  static std::vector<int64_t> ints_attr(const onnx::NodeProto& n, const std::string& name) {
    const auto* a = attribute(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }

  // A constant (initializer or Constant node) as float32 values, with its dimensions.
  struct Values {
    std::vector<int64_t> dims;
    std::vector<float> v;
  };
  Values constant(const std::string& name, size_t at, const std::string& what) const {
    const auto it = constants_.find(resolve(name));
    if (it == constants_.end()) fail_at(at, "reads " + what + " '" + name + "', which is not a constant");
    const onnx::TensorProto& t = *it->second;
    if (t.data_type() != onnx::TensorProto::FLOAT)
      fail_at(at, fmt::format("has {} '{}' of data type {}; we read float32 models", what, name, t.data_type()));
    Values out;
    out.dims.assign(t.dims().begin(), t.dims().end());
    int64_t count = 1;
    for (const int64_t d : out.dims) {
      if (d < 0 || d > std::numeric_limits<int32_t>::max() || (d > 0 && count > (int64_t{1} << 40) / d))
        fail_at(at, "has " + what + " '" + name + "' of impossible dimensions");
      count *= d;
    }
    if (t.has_raw_data()) {
      if (t.raw_data().size() != static_cast<size_t>(count) * sizeof(float))
        fail_at(at, fmt::format("has {} '{}' with {} bytes for {} values", what, name, t.raw_data().size(), count));
      out.v.resize(static_cast<size_t>(count));
      std::memcpy(out.v.data(), t.raw_data().data(), t.raw_data().size());  // little-endian, as ONNX stores it
    } else {
      if (t.float_data_size() != count)
        fail_at(at, fmt::format("has {} '{}' with {} values for {}", what, name, t.float_data_size(), count));
      out.v.assign(t.float_data().begin(), t.float_data().end());
    }
    return out;
  }

  Shape image_input(const onnx::GraphProto& g) {
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& v : g.input()) {
      if (constants_.count(v.name())) continue;  // older exporters list the initializers as inputs too
      if (input) fail("has several inputs; we read models of one image input");
      input = &v;
    }
    if (!input) fail("has no input");
    if (g.output_size() != 1) fail("has several outputs (or none); we read models of one output");
    const auto& shape = input->type().tensor_type().shape();
    if (shape.dim_size() != 4) fail("its input '" + input->name() + "' is not one NCHW image");
    std::array<int64_t, 3> chw{};
    for (int d = 1; d < 4; ++d) {
      chw[static_cast<size_t>(d - 1)] = shape.dim(d).dim_value();
      if (chw[static_cast<size_t>(d - 1)] <= 0 || chw[static_cast<size_t>(d - 1)] > 1024)
        fail("its input '" + input->name() + "' has no fixed channel, height and width of at most 1024");
    }
    input_name_ = input->name();
    return {1, static_cast<int32_t>(chw[1]), static_cast<int32_t>(chw[2]), static_cast<int32_t>(chw[0])};
  }

  const onnx::NodeProto* node_reading(size_t at, const std::string& op, const std::string& tensor) const {
    if (at >= nodes_.size() || nodes_[at]->op_type() != op || nodes_[at]->input_size() < 1) return nullptr;
    return resolve(nodes_[at]->input(0)) == tensor ? nodes_[at] : nullptr;
  }

  // Clip(0, 6), its bounds as attributes (opset < 11) or constant inputs.
  bool is_relu6(const onnx::NodeProto& n, size_t at) const {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (const auto* a = attribute(n, "min")) lo = a->f();
    if (const auto* a = attribute(n, "max")) hi = a->f();
    if (n.input_size() > 1 && !n.input(1).empty()) lo = constant(n.input(1), at, "a bound").v.at(0);
    if (n.input_size() > 2 && !n.input(2).empty()) hi = constant(n.input(2), at, "a bound").v.at(0);
    return lo == 0.0f && hi == 6.0f;
  }

  // Tries one candidate kind at node `at`; nullopt with `why` (and how far it got) when the nodes are not it.
  struct Attempt {
    std::optional<MatchedBlock> block;
    size_t reached = 0;
    std::string why;
  };
  Attempt try_kind(OpCandidate op, size_t at, const std::string& input, int32_t in_channels,
                   const std::string& name) const {
    Attempt a;
    MatchedBlock m;
    size_t q = at;
    std::string t = input;
    int32_t c = in_channels, kernel = 0, stride = 0;
    auto stop = [&](const std::string& why) {
      a.reached = q;
      a.why = why;
      return a;
    };
    for (const CandidateStage& stage : candidate_stages(op)) {
      if (stage.kind != CandidateStage::Kind::batchnorm) {
        const onnx::NodeProto* n = node_reading(q, "Conv", t);
        if (!n) return stop("is not the convolution a " + op.name() + " block has next");
        if (n->input_size() < 2) return stop("has no weights");
        const Values w = constant(n->input(1), q, "weights");
        if (w.dims.size() != 4 || w.dims[2] != w.dims[3]) return stop("has weights that are not O×I×k×k");
        const auto k = static_cast<int32_t>(w.dims[2]), out = static_cast<int32_t>(w.dims[0]);
        const int64_t group = int_attr(*n, "group", 1);
        const auto strides = ints_attr(*n, "strides"), pads = ints_attr(*n, "pads"), dil = ints_attr(*n, "dilations");
        const int32_t s = strides.empty() ? 1 : static_cast<int32_t>(strides[0]);
        if (attribute(*n, "auto_pad") && attribute(*n, "auto_pad")->s() != "NOTSET")
          return stop("uses auto_pad; export with explicit pads");
        if (std::any_of(dil.begin(), dil.end(), [](int64_t d) { return d != 1; })) return stop("is dilated");
        if (std::any_of(strides.begin(), strides.end(), [&](int64_t v) { return v != s; }))
          return stop("has different strides along height and width");
        if (std::any_of(pads.begin(), pads.end(), [&](int64_t p) { return p != k / 2; }) ||
            (pads.empty() && k > 1))
          return stop(fmt::format("is not padded by {} on every side (our blocks pad k/2)", k / 2));
        const bool depthwise = stage.kind == CandidateStage::Kind::depthwise;
        if (depthwise ? (group != c || out != c || w.dims[1] != 1) : (group != 1 || w.dims[1] != c))
          return stop(depthwise ? "is not a depthwise convolution of its input's channels"
                                : "is not a plain convolution of its input's channels (group 1)");
        if (stage.kxk) {
          if (kernel == 0) {  // the block's first k×k stage sets its kernel and stride
            kernel = k;
            stride = s;
          }
          if (k != kernel || s != stride) return stop("has another kernel or stride than the block's first");
        } else if (k != 1 || s != 1) {
          return stop("is not the 1×1, stride 1 convolution a " + op.name() + " block has here");
        }
        if (stage.kind == CandidateStage::Kind::expand) {
          if (out % c != 0 || out / c < 2) return stop("does not expand its input by an integer factor");
          op.expansion = out / c;
        }
        m.convs.push_back({q, n, nullptr, name + "." + std::string(stage.name), ""});
        t = resolve(n->output(0));
        c = out;
        ++q;
        continue;
      }
      if (const onnx::NodeProto* bn = node_reading(q, "BatchNormalization", t)) {
        m.convs.back().batchnorm = bn;
        t = resolve(bn->output(0));
        ++q;
      }
      m.convs.back().bn_layer = name + "." + std::string(stage.name);
      if (stage.activation == CandidateStage::Activation::relu) {
        const onnx::NodeProto* relu = node_reading(q, "Relu", t);
        if (!relu) return stop("is not the ReLU a " + op.name() + " block has next");
        t = resolve(relu->output(0));
        ++q;
      } else if (stage.activation == CandidateStage::Activation::relu6) {
        const onnx::NodeProto* clip = node_reading(q, "Clip", t);
        if (!clip || !is_relu6(*clip, q)) return stop("is not the ReLU6 (Clip 0..6) a " + op.name() + " block has");
        t = resolve(clip->output(0));
        ++q;
      }
    }
    op.kernel = kernel;
    if (candidate_kind(op.kind).residual_join && q < nodes_.size() && nodes_[q]->op_type() == "Add" &&
        nodes_[q]->input_size() == 2) {
      const std::string x = resolve(nodes_[q]->input(0)), y = resolve(nodes_[q]->input(1));
      if ((x == t && y == input) || (x == input && y == t)) {
        if (stride != 1 || c != in_channels) return stop("adds tensors of different shapes");
        op.residual = true;
        t = resolve(nodes_[q]->output(0));
        ++q;
      }
    }
    m.block = {name, op, c, stride};
    m.next = q;
    m.output = t;
    m.channels = c;
    a.block = std::move(m);
    return a;
  }

  MatchedBlock match_block(size_t at, const std::string& input, int32_t channels, const std::string& name) const {
    std::vector<OpCandidate> tries = {{OpKind::mbconv, 0, 2}, {OpKind::mbconv, 0, 1}, {OpKind::dwsep, 0, 0},
                                      {OpKind::conv, 0, 0}};
    Attempt deepest;
    deepest.reached = at;
    deepest.why = "does not begin a block of the search space";
    for (const OpCandidate& op : tries) {
      Attempt a = try_kind(op, at, input, channels, name);
      if (a.block) return std::move(*a.block);
      if (a.reached > deepest.reached) deepest = std::move(a);
    }
    if (deepest.reached >= nodes_.size()) fail("ends inside a block (no classifier head)");
    fail_at(deepest.reached, deepest.why + " (a seed network is a chain of conv, dwsep and mbconv blocks, then "
                                           "global pooling and a Gemm: docs/search.md)");
  }

  // GlobalAveragePool (or ReduceMean over H, W), Flatten (or Reshape to [1, C]), Gemm: the graph's output.
  const onnx::NodeProto& match_head(size_t at, const std::string& input, int32_t channels) const {
    const std::string where = "a global-pooling classifier head (GlobalAveragePool, Flatten, Gemm)";
    if (at >= nodes_.size()) fail("ends without " + where);
    const onnx::NodeProto* pool = node_reading(at, "GlobalAveragePool", input);
    if (!pool) {
      pool = node_reading(at, "ReduceMean", input);
      auto axes = pool ? ints_attr(*pool, "axes") : std::vector<int64_t>{};
      for (auto& a : axes) a = a < 0 ? a + 4 : a;
      std::sort(axes.begin(), axes.end());
      if (!pool || axes != std::vector<int64_t>{2, 3} || int_attr(*pool, "keepdims", 1) != 1 || pool->input_size() > 1)
        fail_at(at, "is not where our blocks end; after them comes " + where);
    }
    const std::string pooled = resolve(pool->output(0));
    const onnx::NodeProto* flat = node_reading(at + 1, "Flatten", pooled);
    if (flat && int_attr(*flat, "axis", 1) != 1) flat = nullptr;
    if (!flat) {
      flat = node_reading(at + 1, "Reshape", pooled);
      if (flat && (flat->input_size() != 2 || !flattens(flat->input(1), channels))) flat = nullptr;
    }
    if (!flat) fail_at(std::min(at + 1, nodes_.size() - 1), "is not the Flatten of " + where);
    const onnx::NodeProto* fc = node_reading(at + 2, "Gemm", resolve(flat->output(0)));
    if (!fc) fail_at(std::min(at + 2, nodes_.size() - 1), "is not the Gemm of " + where);
    if (at + 3 != nodes_.size()) fail_at(at + 3, "comes after the classifier; the Gemm must be the output");
    if (resolve(fc->output(0)) != model_.graph().output(0).name())
      fail_at(at + 2, "is not the graph's output");
    const auto* alpha = attribute(*fc, "alpha");
    const auto* beta = attribute(*fc, "beta");
    if (int_attr(*fc, "transA", 0) != 0 || (alpha && alpha->f() != 1.0f) || (beta && beta->f() != 1.0f))
      fail_at(at + 2, "scales or transposes its input (alpha, beta 1 and transA 0 only)");
    return *fc;
  }

  // A Reshape's shape that makes [1, C] of the pooled [1, C, 1, 1]: two int64 values, the second −1 or C.
  bool flattens(const std::string& shape_name, int32_t channels) const {
    const auto it = constants_.find(resolve(shape_name));
    if (it == constants_.end() || it->second->data_type() != onnx::TensorProto::INT64) return false;
    const onnx::TensorProto& t = *it->second;
    std::vector<int64_t> v(t.int64_data().begin(), t.int64_data().end());
    if (t.has_raw_data() && t.raw_data().size() == 2 * sizeof(int64_t)) {
      v.resize(2);
      std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
    }
    return v.size() == 2 && (v[0] == 1 || v[0] == -1 || v[0] == 0) && (v[1] == -1 || v[1] == channels);
  }

  // The Gemm as our Linear's [in][out] weights and its bias.
  std::pair<std::vector<float>, std::vector<float>> head_weights(const onnx::NodeProto& fc, int32_t in) const {
    const size_t at = nodes_.size() - 1;
    if (fc.input_size() < 2) fail_at(at, "has no weights");
    const Values b = constant(fc.input(1), at, "weights");
    const bool trans = int_attr(fc, "transB", 0) != 0;
    if (b.dims.size() != 2 || b.dims[trans ? 1 : 0] != in)
      fail_at(at, fmt::format("has weights that do not take the {} channels of the last block", in));
    const auto out = static_cast<size_t>(b.dims[trans ? 0 : 1]);
    std::vector<float> w(static_cast<size_t>(in) * out), bias(out, 0.0f);
    for (size_t i = 0; i < static_cast<size_t>(in); ++i)
      for (size_t o = 0; o < out; ++o) w[i * out + o] = trans ? b.v[o * static_cast<size_t>(in) + i] : b.v[i * out + o];
    if (fc.input_size() > 2 && !fc.input(2).empty()) {
      const Values c = constant(fc.input(2), at, "a bias");
      if (c.v.size() != out) fail_at(at, "has a bias that is not one value per output");
      bias = c.v;
    }
    return {std::move(w), std::move(bias)};
  }

  // A fixed network's node for YAML layer `name`; a BatchNorm fused with its activation is "<bn>+<act>".
  static int32_t node_of(const Network& net, const std::string& name) {
    for (int32_t k = 0; k < net.size(); ++k)
      if (net.name(k) == name || net.name(k).rfind(name + "+", 0) == 0) return k;
    throw Error("onnx import", "the fixed network has no layer '" + name + "'", Error::Kind::failure);
  }

  // OIHW weights into our HWIO ones; the BatchNorm (or the folded bias) into our BatchNorm's four slots, its ε and
  // the conv's bias moved into the running statistics: γ(x + b − μ)/√(σ² + ε) + β = γ(x − μ')/√(σ'² + ε₀) + β with
  // μ' = μ − b and σ'² = σ² + ε − ε₀.
  void copy_conv(const MatchedConv& m, Network& net) const {
    const size_t at = m.at;
    const Values w = constant(m.conv->input(1), at, "weights");
    const auto out = static_cast<size_t>(w.dims[0]), in = static_cast<size_t>(w.dims[1]),
               k = static_cast<size_t>(w.dims[2]);
    ParamStore& params = net.params();
    auto dst = params.value(net.first_param_slot(node_of(net, m.layer)));
    if (dst.size() != w.v.size()) throw Error("onnx import", m.layer + ": weight count differs", Error::Kind::failure);
    for (size_t o = 0; o < out; ++o)
      for (size_t i = 0; i < in; ++i)
        for (size_t y = 0; y < k; ++y)
          for (size_t x = 0; x < k; ++x) dst[((y * k + x) * in + i) * out + o] = w.v[((o * in + i) * k + y) * k + x];
    std::vector<float> bias(out, 0.0f);
    if (m.conv->input_size() > 2 && !m.conv->input(2).empty()) {
      bias = constant(m.conv->input(2), at, "a bias").v;
      if (bias.size() != out) fail_at(at, "has a bias that is not one value per output channel");
    }
    std::vector<float> gamma(out, 1.0f), beta(out, 0.0f), mean(out, 0.0f), var(out, 1.0f);
    float eps = 0.0f;
    if (m.batchnorm) {
      const size_t bn_at = at + 1;
      if (m.batchnorm->input_size() != 5) fail_at(bn_at, "does not have scale, bias, mean and variance");
      gamma = constant(m.batchnorm->input(1), bn_at, "a scale").v;
      beta = constant(m.batchnorm->input(2), bn_at, "a bias").v;
      mean = constant(m.batchnorm->input(3), bn_at, "a mean").v;
      var = constant(m.batchnorm->input(4), bn_at, "a variance").v;
      const auto* e = attribute(*m.batchnorm, "epsilon");
      eps = e ? e->f() : 1e-5f;
      for (const auto* v : {&gamma, &beta, &mean, &var})
        if (v->size() != out) fail_at(bn_at, "has statistics that are not one value per channel");
    } else {
      beta = bias;  // a folded BatchNorm: y = x + b
      std::fill(bias.begin(), bias.end(), 0.0f);
    }
    const int32_t bn = node_of(net, m.bn_layer), slot = net.first_param_slot(bn);
    auto g = params.value(slot), be = params.value(slot + 1), mu = params.value(slot + 2), s2 = params.value(slot + 3);
    for (size_t c = 0; c < out; ++c) {
      const float v = var[c] + eps - kBatchNormEps;
      if (!(v > 0.0f)) fail_at(at, "has a BatchNorm variance our BatchNorm (ε = 1e-5) cannot hold");
      g[c] = gamma[c];
      be[c] = beta[c];
      mu[c] = mean[c] - bias[c];
      s2[c] = v;
    }
  }

  static void copy_head(const std::vector<float>& w, const std::vector<float>& bias, Network& net) {
    const int32_t node = node_of(net, "head.fc"), slot = net.first_param_slot(node);
    auto dst = net.params().value(slot), b = net.params().value(slot + 1);
    if (dst.size() != w.size() || b.size() != bias.size())
      throw Error("onnx import", "head.fc: weight count differs", Error::Kind::failure);
    std::copy(w.begin(), w.end(), dst.begin());
    std::copy(bias.begin(), bias.end(), b.begin());
  }

  const onnx::ModelProto& model_;
  std::string origin_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, std::string> alias_;
  std::vector<const onnx::NodeProto*> nodes_;  // in graph order, without Constant and Identity
  std::vector<int> index_;                     // each one's index in the graph, for messages
  std::string input_name_;
};

}  // namespace

OnnxNetwork read_onnx(std::span<const uint8_t> bytes, const std::string& origin) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(origin, "is not an ONNX model (the protobuf does not parse: truncated, or another kind of file)");
  return Reader(model, origin).read();
}

}  // namespace nas::supernet
