// A network is a directed acyclic graph of layers in execution order. Each node reads the network input or
// earlier nodes' outputs (residual connections read two), owns its output and gradient buffers, and the graph
// sums gradients where an output feeds more than one node. Layers keep the maths; this file keeps the wiring.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "supernet/layer.h"
#include "supernet/param_store.h"

namespace nas::supernet {

class Network {
 public:
  static constexpr int32_t kInput = -1;  // node index of the network input

  // `input` is one image's shape (n is ignored).
  explicit Network(Shape input);

  // Appends a node reading `inputs` (node indices, kInput for the network input); shapes are checked at once and
  // a mismatch throws nas::Error naming the node. Returns the node index.
  int32_t add(std::string name, std::unique_ptr<Layer> layer, std::vector<int32_t> inputs);

  // Declares and allocates all parameters, then draws initial values from `seed`. Call once, after the last add.
  void finalize(uint64_t seed);

  // Runs the graph; returns the last node's output (the logits).
  const Tensor& forward(const Tensor& input, bool training);
  // Back-propagates dLoss/dlogits through the graph, writing every parameter gradient in params().grads().
  void backward(const Tensor& grad_logits);

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  int32_t size() const { return static_cast<int32_t>(nodes_.size()); }
  Shape input_shape() const { return input_; }
  Shape output_shape(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).shape; }
  const std::string& name(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).name; }
  const Layer& layer(int32_t node) const { return *nodes_.at(static_cast<size_t>(node)).layer; }
  int32_t find(const std::string& name) const;  // -2 when absent
  // The nodes `node` reads (kInput for the network input) and what it produced in the last forward pass (deploy/
  // reads both: BatchNorm folding walks the wiring, calibration the activations).
  const std::vector<int32_t>& inputs(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).inputs; }
  const Tensor& output(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).output; }
  // The parameter slots node `node` declared: handles first_param_slot .. first_param_slot + param_slot_count − 1
  // of params(), in the order its layer declared them (weight inheritance copies by them).
  int32_t first_param_slot(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).first_slot; }
  int32_t param_slot_count(int32_t node) const { return nodes_.at(static_cast<size_t>(node)).slot_count; }

  // Per-node wall time of forward and backward passes, accumulated while profiling is on (bench/ uses it to show
  // where an epoch's time goes).
  void set_profiling(bool on) { profiling_ = on; }
  struct NodeTime {
    std::string name, type;
    double forward_seconds = 0, backward_seconds = 0;
  };
  std::vector<NodeTime> profile() const;

 private:
  struct Node {
    std::string name;
    std::unique_ptr<Layer> layer;
    std::vector<int32_t> inputs;
    Shape shape;
    Tensor output, grad, scratch;
    bool grad_written = false;
    double forward_seconds = 0, backward_seconds = 0;
    int32_t first_slot = 0, slot_count = 0;  // parameter slots this node declared
  };

  Shape input_;
  std::vector<Node> nodes_;
  ParamStore params_;
  bool finalized_ = false;
  bool profiling_ = false;
  const Tensor* last_input_ = nullptr;
};

}  // namespace nas::supernet
