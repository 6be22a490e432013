#include "tests/armnn/armnn_compare.h"

#include <algorithm>
#include <cstdlib>
#include <random>

#include "common/error.h"
#include "deploy/int8_executor.h"
#include "deploy/tflite_export.h"

namespace nas::armnn_check {

ArmNNModel::ArmNNModel(const std::vector<uint8_t>& flatbuffer) {
  auto parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network = parser->CreateNetworkFromBinary(flatbuffer);
  input_ = parser->GetNetworkInputBindingInfo(0, parser->GetSubgraphInputTensorNames(0).at(0));
  output_ = parser->GetNetworkOutputBindingInfo(0, parser->GetSubgraphOutputTensorNames(0).at(0));
  runtime_ = armnn::IRuntime::Create(armnn::IRuntime::CreationOptions());
  armnn::IOptimizedNetworkPtr optimized = armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime_->GetDeviceSpec());
  std::string message;
  armnn::INetworkProperties properties;
  if (runtime_->LoadNetwork(id_, std::move(optimized), message, properties) != armnn::Status::Success)
    throw Error("Arm NN", "could not load the network: " + message);
}

std::vector<int8_t> ArmNNModel::run(std::span<const int8_t> image) {
  std::vector<int8_t> out(output_.second.GetNumElements());
  const armnn::InputTensors inputs{{input_.first, armnn::ConstTensor(input_.second, image.data())}};
  const armnn::OutputTensors outputs{{output_.first, armnn::Tensor(output_.second, out.data())}};
  if (runtime_->EnqueueWorkload(id_, inputs, outputs) != armnn::Status::Success)
    throw Error("Arm NN", "the workload failed");
  return out;
}

deploy::Int8Model one_op_model(const deploy::Int8Model& model, size_t i) {
  deploy::Int8Model m;
  deploy::Int8Op op = model.ops[i];
  m.tensors = {model.tensors[static_cast<size_t>(op.inputs[0])], model.tensors[static_cast<size_t>(op.output)]};
  op.inputs = {0};
  op.output = 1;
  m.ops = {std::move(op)};
  m.input = 0;
  m.output = 1;
  m.input_mean = model.input_mean;
  m.input_stddev = model.input_stddev;
  return m;
}

namespace {

void add(Agreement& a, std::span<const int8_t> got, std::span<const int8_t> expected) {
  if (got.size() != expected.size())
    throw Error("Arm NN", "gives " + std::to_string(got.size()) + " outputs where we give " +
                              std::to_string(expected.size()), Error::Kind::failure);
  for (size_t k = 0; k < got.size(); ++k) {
    const int32_t d = std::abs(int32_t{got[k]} - int32_t{expected[k]});
    a.differing += d != 0;
    a.max_difference = std::max(a.max_difference, d);
  }
  a.bytes += static_cast<int64_t>(got.size());
  a.same_class += std::max_element(got.begin(), got.end()) - got.begin() ==
                  std::max_element(expected.begin(), expected.end()) - expected.begin();
  ++a.images;
}

}  // namespace

std::vector<Agreement> each_op_agreement(const deploy::Int8Model& model, int32_t draws) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> value(-128, 127);
  std::vector<Agreement> out(model.ops.size());
  for (size_t i = 0; i < model.ops.size(); ++i) {
    if (model.ops[i].inputs.size() != 1) continue;
    deploy::Int8Executor ours(one_op_model(model, i));
    ArmNNModel theirs(deploy::tflite_model(ours.model(), "one op"));
    for (int32_t draw = 0; draw < draws; ++draw) {
      std::vector<int8_t> input(ours.input().size());
      for (int8_t& v : input) v = static_cast<int8_t>(value(rng));
      std::copy(input.begin(), input.end(), ours.input().begin());
      ours.invoke();  // a depthwise op alone runs in place: its input is gone after this
      add(out[i], theirs.run(input), ours.output());
    }
  }
  return out;
}

bool armnn_pads_with_zero(const deploy::Int8Model& model, size_t i) {
  const deploy::Int8Op& op = model.ops.at(i);
  return op.kind == deploy::Int8OpKind::depthwise && deploy::tflite_writes_pad(model, i) &&
         model.tensors.at(static_cast<size_t>(op.inputs[0])).quant.zero_point != 0;
}

Agreement network_agreement(const deploy::Int8Model& model, const supernet::Dataset& test, int32_t images) {
  deploy::Int8Executor ours(model);
  ArmNNModel theirs(deploy::tflite_model(ours.model(), "armnn_compare"));
  if (theirs.input_size() != ours.input().size())
    throw Error("Arm NN", "takes " + std::to_string(theirs.input_size()) + " input values where we take " +
                              std::to_string(ours.input().size()), Error::Kind::failure);
  Agreement a;
  const auto item = static_cast<size_t>(test.item_size());
  for (int32_t i = 0; i < std::min(images, test.count); ++i) {
    deploy::quantize_input(ours.model(), {test.images.data() + static_cast<size_t>(i) * item, item}, ours.input());
    const std::vector<int8_t> input(ours.input().begin(), ours.input().end());
    ours.invoke();
    add(a, theirs.run(input), ours.output());
  }
  return a;
}

}  // namespace nas::armnn_check
