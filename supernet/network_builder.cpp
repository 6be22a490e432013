#include "supernet/network_builder.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/same_padding.h"
#include "common/yaml_keys.h"
#include "supernet/activation.h"
#include "supernet/add.h"
#include "supernet/batchnorm2d.h"
#include "supernet/conv2d.h"
#include "supernet/reuse_conv2d.h"
#include "supernet/linear.h"
#include "supernet/pooling.h"

namespace nas::supernet {

namespace {

using yaml::join;

// Reads one layer's keys, remembering which were used so that typos are reported, not ignored.
class LayerReader {
 public:
  LayerReader(const YAML::Node& node, std::string where, int32_t classes)
      : node_(node), where_(std::move(where)), classes_(classes) {}

  int32_t integer(const std::string& key, std::optional<int32_t> fallback = std::nullopt) {
    used_.insert(key);
    const YAML::Node value = node_[key];
    if (!value) {
      if (fallback) return *fallback;
      throw Error(where_, "missing key '" + key + "'");
    }
    if (value.IsScalar() && value.Scalar() == "classes") return classes_;
    try {
      return value.as<int32_t>();
    } catch (const YAML::Exception&) {
      // A list here is most often a non-square pooling window: say so rather than only that it is not an integer.
      const std::string hint = value.IsSequence() && (key == "kernel" || key == "stride" || key == "padding")
                                   ? "; pooling windows, strides and padding are square: one integer for both sides"
                                   : "";
      throw Error(where_, "'" + key + "' must be an integer (got " + yaml::shown(value) + ")" + hint);
    }
  }

  // One integer for both dimensions, or [height, width] (a convolution's kernel and stride).
  std::array<int32_t, 2> pair(const std::string& key, int32_t fallback) {
    const YAML::Node value = node_[key];
    if (!value || !value.IsSequence()) {
      const int32_t both = integer(key, fallback);
      return {both, both};
    }
    used_.insert(key);
    const std::array<int32_t, 2> hw = {element(value, 0, key), element(value, 1, key)};
    if (value.size() != 2) throw Error(where_, "'" + key + "' must be an integer or [height, width] (got " +
                                                   yaml::shown(value) + ")");
    // Checked here, not only by the layer: a negative width would read as "the height's" (Conv2dSpec's -1).
    if (hw[0] <= 0 || hw[1] <= 0)
      throw Error(where_, "'" + key + "' must be positive (got " + yaml::shown(value) + ")");
    return hw;
  }

  // Padding of a convolution with kernel `k` and strides `stride` on an input of `in`, as top, bottom, left,
  // right: an integer for every side, [height, width], [top, bottom, left, right], `valid` (none) or `same`
  // (TensorFlow's: the output is ⌈in / stride⌉ and the padding that needs is split with the odd one at the bottom
  // and right). Default: kernel / 2 on each side.
  std::array<int32_t, 4> padding(const Shape& in, std::array<int32_t, 2> k, std::array<int32_t, 2> stride) {
    const std::string key = "padding";
    const YAML::Node value = node_[key];
    const std::string expected = "an integer, [height, width], [top, bottom, left, right], same or valid";
    if (value && value.IsScalar() && (value.Scalar() == "same" || value.Scalar() == "valid")) {
      used_.insert(key);
      if (value.Scalar() == "valid") return {0, 0, 0, 0};
      const SamePadding h = same_padding(in.h, k[0], stride[0]), w = same_padding(in.w, k[1], stride[1]);
      return {h.before, h.after, w.before, w.after};
    }
    if (value && value.IsSequence()) {
      used_.insert(key);
      std::array<int32_t, 4> pad{};
      if (value.size() == 2) {
        const int32_t h = element(value, 0, key), w = element(value, 1, key);
        pad = {h, h, w, w};
      } else if (value.size() == 4) {
        pad = {element(value, 0, key), element(value, 1, key), element(value, 2, key), element(value, 3, key)};
      } else {
        throw Error(where_, "'padding' must be " + expected + " (got " + yaml::shown(value) + ")");
      }
      // A negative side would read as "the top's" (Conv2dSpec's -1), so it is refused here.
      if (std::any_of(pad.begin(), pad.end(), [](int32_t p) { return p < 0; }))
        throw Error(where_, "'padding' must be >= 0 on every side (got " + yaml::shown(value) + ")");
      return pad;
    }
    if (value && value.IsScalar()) {
      try {
        const int32_t all = value.as<int32_t>();
        used_.insert(key);
        return {all, all, all, all};
      } catch (const YAML::Exception&) {
        throw Error(where_, "'padding' must be " + expected + " (got " + yaml::shown(value) + ")");
      }
    }
    if (value) throw Error(where_, "'padding' must be " + expected + " (got " + yaml::shown(value) + ")");
    used_.insert(key);
    return {k[0] / 2, k[0] / 2, k[1] / 2, k[1] / 2};
  }

  bool boolean(const std::string& key, bool fallback) {
    used_.insert(key);
    const YAML::Node value = node_[key];
    if (!value) return fallback;
    try {
      return value.as<bool>();
    } catch (const YAML::Exception&) {
      throw Error(where_, "'" + key + "' must be true or false (got " + yaml::shown(value) + ")");
    }
  }

  void mark(const std::string& key) { used_.insert(key); }

  void reject_unknown_keys() const {
    for (const auto& entry : node_) {
      const auto key = yaml::key_name(entry.first, where_);
      if (!used_.count(key)) {
        std::vector<std::string> known(used_.begin(), used_.end());
        throw Error(where_, "unknown key '" + key + "' (known for this layer: " + join(known) + ")");
      }
    }
  }

 private:
  int32_t element(const YAML::Node& list, size_t i, const std::string& key) const {
    if (i >= list.size()) return 0;  // the caller reports the length
    try {
      return list[i].as<int32_t>();
    } catch (const YAML::Exception&) {
      throw Error(where_, "'" + key + "' must hold integers (got " + yaml::shown(list) + ")");
    }
  }

  const YAML::Node& node_;
  std::string where_;
  int32_t classes_;
  std::set<std::string> used_{"type", "name", "input", "inputs"};
};

using Factory = std::function<std::unique_ptr<Layer>(LayerReader&, const Shape& in)>;

Conv2dSpec read_conv(LayerReader& r, const Shape& in, int32_t out, int32_t groups) {
  Conv2dSpec spec;
  const std::array<int32_t, 2> kernel = r.pair("kernel", 3), stride = r.pair("stride", 1);
  spec.kernel_h = kernel[0];
  spec.kernel_w = kernel[1];
  spec.stride = stride[0];
  spec.stride_w = stride[1];
  const std::array<int32_t, 4> pad = r.padding(in, kernel, stride);  // top, bottom, left, right
  spec.padding = pad[0];
  spec.pad_bottom = pad[1];
  spec.pad_left = pad[2];
  spec.pad_right = pad[3];
  spec.out_channels = out;
  spec.groups = groups;
  spec.bias = r.boolean("bias", true);
  return spec;
}

PoolSpec read_pool(LayerReader& r) {
  PoolSpec spec;
  spec.kernel = r.integer("kernel", 2);
  spec.stride = r.integer("stride", spec.kernel);
  spec.padding = r.integer("padding", 0);
  return spec;
}

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"conv2d",
       [](LayerReader& r, const Shape& in) {
         const int32_t out = r.integer("out");
         return std::make_unique<Conv2d>(read_conv(r, in, out, r.integer("groups", 1)));
       }},
      {"depthwise_conv2d",
       [](LayerReader& r, const Shape& in) {
         Conv2dSpec spec = read_conv(r, in, in.c, in.c);
         spec.depthwise = true;
         return std::make_unique<Conv2d>(spec);
       }},
      {"reuse_conv2d",
       [](LayerReader& r, const Shape& in) {
         const Conv2dSpec conv = read_conv(r, in, r.integer("out"), 1);
         ReuseSpec reuse;
         reuse.sub_len = r.integer("sub_len", reuse.sub_len);
         reuse.hash_bits = r.integer("hash_bits", reuse.hash_bits);
         return std::make_unique<ReuseConv2d>(conv, reuse);
       }},
      {"batchnorm", [](LayerReader&, const Shape&) { return std::make_unique<BatchNorm2d>(); }},
      {"relu", [](LayerReader&, const Shape&) { return std::make_unique<Relu>(0.0f); }},
      {"relu6", [](LayerReader&, const Shape&) { return std::make_unique<Relu>(6.0f); }},
      {"max_pool", [](LayerReader& r, const Shape&) { return std::make_unique<MaxPool2d>(read_pool(r)); }},
      {"avg_pool", [](LayerReader& r, const Shape&) { return std::make_unique<AvgPool2d>(read_pool(r)); }},
      {"global_avg_pool", [](LayerReader&, const Shape&) { return std::make_unique<GlobalAvgPool>(); }},
      {"linear",
       [](LayerReader& r, const Shape&) {
         const int32_t out = r.integer("out");
         return std::make_unique<Linear>(out, r.boolean("bias", true));
       }},
      {"add", [](LayerReader&, const Shape&) { return std::make_unique<Add>(); }},
  };
  return table;
}

// Names and indices of the YAML layers, mapped to graph nodes. They differ once a BatchNorm and the activation
// after it are fused into one node: both YAML layers then name that node.
class NodeNames {
 public:
  void bind(const std::string& name, size_t yaml_index, int32_t node) {
    by_name_[name] = node;
    if (by_index_.size() <= yaml_index) by_index_.resize(yaml_index + 1, -2);
    by_index_[yaml_index] = node;
  }
  bool has(const std::string& name) const { return by_name_.count(name) > 0; }

  // A reference: a layer's name, its 0-based YAML index, or "input".
  int32_t resolve(const YAML::Node& ref, const std::string& where) const {
    const auto text = ref.Scalar();
    if (text == "input") return Network::kInput;
    if (const auto it = by_name_.find(text); it != by_name_.end()) return it->second;
    try {
      const auto index = ref.as<size_t>();
      if (index < by_index_.size() && by_index_[index] >= 0) return by_index_[index];
    } catch (const YAML::Exception&) {
    }
    throw Error(where, "input '" + text + "' names no earlier layer");
  }

 private:
  std::map<std::string, int32_t> by_name_;
  std::vector<int32_t> by_index_;
};

std::string layer_name(const YAML::Node& node, size_t index) {
  return node["name"] ? node["name"].as<std::string>() : node["type"].as<std::string>() + std::to_string(index);
}

// True when some layer reads layer `k` explicitly (by name or index) through `input:` or `inputs:`.
bool referenced(const YAML::Node& layers, size_t k) {
  const std::string name = layer_name(layers[k], k), index = std::to_string(k);
  auto matches = [&](const YAML::Node& ref) { return ref.IsScalar() && (ref.Scalar() == name || ref.Scalar() == index); };
  for (size_t j = k + 1; j < layers.size(); ++j) {
    const YAML::Node& node = layers[j];
    if (node["input"] && matches(node["input"])) return true;
    if (node["inputs"])
      for (const auto& ref : node["inputs"])
        if (matches(ref)) return true;
  }
  return false;
}

// A batchnorm whose only reader is the ReLU/ReLU6 right after it (which reads it implicitly, with no other keys)
// runs as one fused node.
std::optional<BatchNorm2d::Activation> fusable_activation(const YAML::Node& layers, size_t k) {
  if (k + 1 >= layers.size() || layers[k]["type"].Scalar() != "batchnorm") return std::nullopt;
  const YAML::Node& next = layers[k + 1];
  if (!next.IsMap() || !next["type"] || next["input"] || next["inputs"] || referenced(layers, k)) return std::nullopt;
  for (const auto& entry : next) {
    const auto key = entry.first.Scalar();
    if (key != "type" && key != "name") return std::nullopt;  // let the reader report unknown keys
  }
  if (next["type"].Scalar() == "relu") return BatchNorm2d::Activation::relu;
  if (next["type"].Scalar() == "relu6") return BatchNorm2d::Activation::relu6;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> known_layer_types() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

Network build_network(const YAML::Node& model, Shape input, int32_t num_classes, uint64_t seed) {
  const YAML::Node layers = model["layers"];
  if (!layers || !layers.IsSequence() || layers.size() == 0)
    throw Error("model", "needs a non-empty list 'layers'");
  Network net(input);
  NodeNames names;
  for (size_t k = 0; k < layers.size(); ++k) {
    const YAML::Node& node = layers[k];
    std::string where = "model.layers[" + std::to_string(k) + "]";
    if (!node.IsMap() || !node["type"]) throw Error(where, "each layer is a map with a 'type'");
    const auto type = node["type"].as<std::string>();
    const std::string name = layer_name(node, k);
    if (names.has(name)) throw Error(where, "layer name '" + name + "' is used twice");
    where += " (" + type + ")";
    const auto factory = factories().find(type);
    if (factory == factories().end())
      throw Error(where, "unknown layer type '" + type + "' (known: " + join(known_layer_types()) + ")");

    std::vector<int32_t> inputs;
    if (const YAML::Node list = node["inputs"]) {
      for (const auto& ref : list) inputs.push_back(names.resolve(ref, where));
    } else if (const YAML::Node single = node["input"]) {
      inputs.push_back(names.resolve(single, where));
    } else {
      inputs.push_back(net.size() - 1);  // the previous layer, or the network input for the first
    }
    const Shape in = inputs[0] == Network::kInput ? net.input_shape() : net.output_shape(inputs[0]);
    LayerReader reader(node, where, num_classes);
    std::unique_ptr<Layer> layer;
    const auto fused = fusable_activation(layers, k);
    if (fused) {
      layer = std::make_unique<BatchNorm2d>(*fused);
    } else {
      layer = factory->second(reader, in);
    }
    reader.reject_unknown_keys();
    const int32_t index = net.add(fused ? name + "+" + layer_name(layers[k + 1], k + 1) : name, std::move(layer),
                                  std::move(inputs));
    names.bind(name, k, index);
    if (fused) {
      ++k;
      names.bind(layer_name(layers[k], k), k, index);
    }
  }
  const Shape out = net.output_shape(net.size() - 1);
  if (out.h != 1 || out.w != 1 || out.c != num_classes)
    throw Error("model", "the last layer must output " + std::to_string(num_classes) + " class scores (got " +
                             std::to_string(out.h) + "x" + std::to_string(out.w) + "x" + std::to_string(out.c) +
                             "); end with {type: linear, out: classes}");
  net.finalize(seed);
  return net;
}

}  // namespace nas::supernet
