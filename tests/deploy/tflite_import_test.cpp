// Reading .tflite files back (deploy/tflite_import.h): what we export reads back into a model that exports to the
// same bytes and computes what the original does; bad files (truncated, another format, an operator or a tensor
// type we do not run) are refused with one line naming the problem.
#include "deploy/tflite_import.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/error.h"
#include "deploy/int8_executor.h"
#include "deploy/post_training.h"
#include "deploy/tflite_export.h"
#include "deploy/tflite_schema.h"
#include "tests/common/test_support.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using test_support::contains;
using test_support::error_of;

Int8Model trained_model(const char* layers_yaml, supernet::DataSplits& data) {
  data = testing::synthetic_splits();
  supernet::Network net = testing::network_from_yaml(layers_yaml, {1, 12, 12, 3}, 4, 5);
  testing::train(net, data.train, 2, 7);
  CalibrationSpec spec;
  spec.images = 256;
  return quantize_network(net, data, spec);
}

// Every operator the exporter writes: PAD before a convolution, "same" padding, depthwise, MEAN, ADD, max pooling,
// a linear layer over a spatial tensor (RESHAPE and a 1×1 CONV_2D) and over a pooled one.
constexpr const char* kNetworks[] = {testing::kChainNetwork, testing::kResidualSameNetwork,
                                     testing::kSpatialLinearNetwork};

TEST(TfliteImport, WhatWeExportReadsBackToTheSameBytesAndTheSameOutputs) {
  for (const char* yaml : kNetworks) {
    supernet::DataSplits data;
    const Int8Model original = trained_model(yaml, data);
    const std::vector<uint8_t> first = tflite_model(original, "round trip: run 3 of mcunas.db");
    std::string description;
    const Int8Model read = read_tflite(first, "first.tflite", &description);
    EXPECT_EQ(description, "round trip: run 3 of mcunas.db");
    ASSERT_EQ(read.ops.size(), original.ops.size());
    for (size_t i = 0; i < read.ops.size(); ++i) {
      EXPECT_EQ(read.ops[i].kind, original.ops[i].kind) << i;
      EXPECT_EQ(read.ops[i].weights, original.ops[i].weights) << i;
      EXPECT_EQ(read.ops[i].bias, original.ops[i].bias) << i;
      EXPECT_EQ(read.ops[i].pad_h, original.ops[i].pad_h) << i;
      EXPECT_EQ(read.ops[i].act_min, original.ops[i].act_min) << i;
      EXPECT_EQ(read.ops[i].act_max, original.ops[i].act_max) << i;
    }
    EXPECT_EQ(tflite_model(read, description), first) << "export → import → export changed the bytes";

    // The multipliers come from the file's float32 scales where the original's came from double ones: the same
    // integer model but for an occasional last bit of a multiplier.
    Int8Executor a(original), b(read);
    int64_t bytes = 0, differing = 0;
    for (int32_t i = 0; i < data.test.count; ++i) {
      const std::span<const float> image{data.test.images.data() + i * data.test.item_size(),
                                         static_cast<size_t>(data.test.item_size())};
      quantize_input(a.model(), image, a.input());
      std::copy(a.input().begin(), a.input().end(), b.input().begin());
      a.invoke();
      b.invoke();
      for (size_t k = 0; k < a.output().size(); ++k) differing += a.output()[k] != b.output()[k];
      bytes += static_cast<int64_t>(a.output().size());
    }
    std::printf("imported model: %lld of %lld output bytes differ from the original's\n",
                static_cast<long long>(differing), static_cast<long long>(bytes));
    EXPECT_LE(differing * 100, bytes) << "more than 1 % of the outputs changed on import";
  }
}

// A one-operator model written here, for the files our exporter never writes: an operator we do not run, or a float
// tensor.
std::vector<uint8_t> one_operator_file(int32_t builtin, tflite::TensorType type) {
  namespace fb = flatbuffers;
  using tflite::slot;
  fb::FlatBufferBuilder b;
  std::vector<fb::Offset<void>> tensors;
  for (const char* name : {"in", "out"}) {
    const auto shape = b.CreateVector(std::vector<int32_t>{1, 4});
    const auto text = b.CreateString(name);
    const auto scale = b.CreateVector(std::vector<float>{0.1f});
    const auto zero = b.CreateVector(std::vector<int64_t>{0});
    auto start = b.StartTable();
    b.AddOffset(slot(tflite::quantization::scale), scale);
    b.AddOffset(slot(tflite::quantization::zero_point), zero);
    const fb::Offset<void> quant{b.EndTable(start)};
    start = b.StartTable();
    b.AddOffset(slot(tflite::tensor::shape), shape);
    b.AddElement<int8_t>(slot(tflite::tensor::type), static_cast<int8_t>(type));
    b.AddOffset(slot(tflite::tensor::name), text);
    b.AddOffset(slot(tflite::tensor::quantization), quant);
    tensors.push_back(fb::Offset<void>{b.EndTable(start)});
  }
  const auto tensor_vector = b.CreateVector(tensors);
  const auto ins = b.CreateVector(std::vector<int32_t>{0}), outs = b.CreateVector(std::vector<int32_t>{1});
  const auto op_ins = b.CreateVector(std::vector<int32_t>{0}), op_outs = b.CreateVector(std::vector<int32_t>{1});
  auto start = b.StartTable();
  b.AddElement<uint32_t>(slot(tflite::op::opcode_index), 0);
  b.AddOffset(slot(tflite::op::inputs), op_ins);
  b.AddOffset(slot(tflite::op::outputs), op_outs);
  const auto ops = b.CreateVector(std::vector<fb::Offset<void>>{fb::Offset<void>{b.EndTable(start)}});
  start = b.StartTable();
  b.AddOffset(slot(tflite::subgraph::tensors), tensor_vector);
  b.AddOffset(slot(tflite::subgraph::inputs), ins);
  b.AddOffset(slot(tflite::subgraph::outputs), outs);
  b.AddOffset(slot(tflite::subgraph::operators), ops);
  const auto subgraphs = b.CreateVector(std::vector<fb::Offset<void>>{fb::Offset<void>{b.EndTable(start)}});
  start = b.StartTable();
  b.AddElement<int8_t>(slot(tflite::operator_code::deprecated_builtin_code), static_cast<int8_t>(builtin));
  b.AddElement<int32_t>(slot(tflite::operator_code::builtin_code), builtin);
  const auto codes = b.CreateVector(std::vector<fb::Offset<void>>{fb::Offset<void>{b.EndTable(start)}});
  start = b.StartTable();
  const auto buffers = b.CreateVector(std::vector<fb::Offset<void>>{fb::Offset<void>{b.EndTable(start)}});
  start = b.StartTable();
  b.AddElement<uint32_t>(slot(tflite::model::version), 3);
  b.AddOffset(slot(tflite::model::operator_codes), codes);
  b.AddOffset(slot(tflite::model::subgraphs), subgraphs);
  b.AddOffset(slot(tflite::model::buffers), buffers);
  b.Finish(fb::Offset<void>{b.EndTable(start)}, tflite::kFileIdentifier);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(TfliteImport, BadFilesAreRefusedWithOneLineNamingTheProblem) {
  supernet::DataSplits data;
  const std::vector<uint8_t> good = tflite_model(trained_model(kNetworks[0], data), "x");

  std::vector<uint8_t> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  std::string message = error_of([&] { read_tflite(truncated, "half.tflite"); });
  EXPECT_TRUE(contains(message, "half.tflite")) << message;
  EXPECT_TRUE(contains(message, "truncated or corrupt")) << message;

  std::vector<uint8_t> other = good;
  std::copy_n("ONNX", 4, other.begin() + 4);
  message = error_of([&] { read_tflite(other, "model.onnx"); });
  EXPECT_TRUE(contains(message, "is not a TensorFlow Lite model")) << message;
  message = error_of([&] { read_tflite(std::vector<uint8_t>{}, "empty.tflite"); });
  EXPECT_TRUE(contains(message, "is not a TensorFlow Lite model")) << message;

  // Corrupt offsets inside a well-identified file: every byte after the identifier flipped in turn must be refused
  // with nas::Error or read, never crash or throw anything else (the verifier bounds every access; the sanitizer
  // build runs this too).
  for (size_t at = 8; at < good.size(); ++at) {
    std::vector<uint8_t> flipped = good;
    flipped[at] ^= 0xFF;
    try {
      read_tflite(flipped, "flipped.tflite");
    } catch (const Error&) {
    }
  }

  message = error_of([&] { read_tflite(one_operator_file(25, tflite::TensorType::int8), "softmax.tflite"); });
  EXPECT_TRUE(contains(message, "operator 0 is SOFTMAX (builtin code 25), which mcunas does not run")) << message;
  message = error_of([&] { read_tflite(one_operator_file(3, tflite::TensorType::float32), "float.tflite"); });
  EXPECT_TRUE(contains(message, "tensor 0 ('in') is not an int8 activation")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace nas::deploy
