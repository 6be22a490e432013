#include "supernet/network.h"

#include <algorithm>
#include <chrono>

#include "common/error.h"

namespace nas::supernet {

Network::Network(Shape input) : input_({1, input.h, input.w, input.c}) {}

int32_t Network::find(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].name == name) return static_cast<int32_t>(i);
  return -2;
}

int32_t Network::add(std::string name, std::unique_ptr<Layer> layer, std::vector<int32_t> inputs) {
  if (finalized_) throw Error("network", "add after finalize", Error::Kind::failure);
  if (static_cast<int>(inputs.size()) != layer->arity())
    throw Error("network: " + name, layer->type() + " takes " + std::to_string(layer->arity()) + " input(s) (got " +
                                         std::to_string(inputs.size()) + ")");
  std::vector<Shape> shapes;
  for (int32_t i : inputs) {
    if (i != kInput && (i < 0 || i >= size()))
      throw Error("network: " + name, "input node " + std::to_string(i) + " does not exist yet");
    shapes.push_back(i == kInput ? input_ : nodes_[static_cast<size_t>(i)].shape);
  }
  Shape shape;
  try {
    shape = layer->output_shape(shapes);
  } catch (const Error& e) {
    throw Error("network: layer '" + name + "'", e.what(), e.kind());
  }
  // Every layer refuses the shapes it cannot take, with the reason, before this: a safety net, not a user error.
  if (shape.h <= 0 || shape.w <= 0 || shape.c <= 0)
    throw Error("network: layer '" + name + "'", "produces an empty output " + shape.str(), Error::Kind::failure);
  nodes_.push_back(Node{std::move(name), std::move(layer), std::move(inputs), shape, {}, {}, {}, false, 0, 0});
  return size() - 1;
}

void Network::finalize(uint64_t seed) {
  if (nodes_.empty()) throw Error("network", "has no layers");
  for (auto& node : nodes_) {
    node.first_slot = static_cast<int32_t>(params_.slots().size());
    node.layer->declare(params_);
    node.slot_count = static_cast<int32_t>(params_.slots().size()) - node.first_slot;
  }
  params_.allocate();
  Rng rng(seed);
  for (auto& node : nodes_) {
    node.layer->bind(params_);
    node.layer->init(params_, rng);
  }
  finalized_ = true;
}

const Tensor& Network::forward(const Tensor& input, bool training) {
  const Shape s = input.shape();
  if (s.h != input_.h || s.w != input_.w || s.c != input_.c)
    throw Error("network", "input shape " + s.str() + " does not match the network's " + input_.str(),
                Error::Kind::failure);
  last_input_ = &input;
  std::vector<const Tensor*> ins;
  for (auto& node : nodes_) {
    ins.clear();
    for (int32_t i : node.inputs) ins.push_back(i == kInput ? &input : &nodes_[static_cast<size_t>(i)].output);
    const auto start = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    node.layer->forward(ins, node.output, training);
    if (profiling_) node.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return nodes_.back().output;
}

void Network::backward(const Tensor& grad_logits) {
  for (auto& node : nodes_) node.grad_written = false;
  nodes_.back().grad = grad_logits;
  nodes_.back().grad_written = true;

  std::vector<const Tensor*> ins;
  std::vector<Tensor*> grads;
  for (int32_t k = size() - 1; k >= 0; --k) {
    Node& node = nodes_[static_cast<size_t>(k)];
    if (!node.grad_written) continue;  // output feeds nothing that reaches the loss
    ins.clear();
    grads.clear();
    std::vector<int32_t> accumulate;  // inputs whose gradient must be added to an existing one
    for (size_t j = 0; j < node.inputs.size(); ++j) {
      const int32_t i = node.inputs[j];
      ins.push_back(i == kInput ? last_input_ : &nodes_[static_cast<size_t>(i)].output);
      if (i == kInput) {
        grads.push_back(nullptr);  // nobody needs dLoss/dInput: skip the work
      } else if (!nodes_[static_cast<size_t>(i)].grad_written) {
        grads.push_back(&nodes_[static_cast<size_t>(i)].grad);
      } else {
        grads.push_back(&node.scratch);  // only one input can use the scratch: Add's two inputs differ
        accumulate.push_back(i);
      }
    }
    if (accumulate.size() > 1)
      throw Error("network", "node '" + node.name + "' reads two already-used outputs", Error::Kind::failure);
    const auto start = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    node.layer->backward(ins, node.output, node.grad, grads);
    if (profiling_) node.backward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t j = 0; j < node.inputs.size(); ++j) {
      if (node.inputs[j] != kInput) nodes_[static_cast<size_t>(node.inputs[j])].grad_written = true;
    }
    for (int32_t i : accumulate) {
      Tensor& target = nodes_[static_cast<size_t>(i)].grad;
      for (int64_t e = 0; e < target.size(); ++e) target[e] += node.scratch[e];
    }
  }
  // Parameters of nodes the loss never reached get zero gradients rather than stale ones.
  for (auto& node : nodes_) {
    if (node.grad_written) continue;
    for (int32_t s = node.first_slot; s < node.first_slot + node.slot_count; ++s) {
      if (params_.slots()[static_cast<size_t>(s)].role == ParamRole::state) continue;
      auto g = params_.grad(s);
      std::fill(g.begin(), g.end(), 0.0f);
    }
  }
}

std::vector<Network::NodeTime> Network::profile() const {
  std::vector<NodeTime> out;
  for (const auto& node : nodes_) out.push_back({node.name, node.layer->type(), node.forward_seconds, node.backward_seconds});
  return out;
}

}  // namespace nas::supernet
