// Our .tflite files read and run by another runtime: Arm NN (Debian's libarmnn 20.08, its TfLite parser and the
// CpuRef backend), on small trained and quantised networks that cover every operator the exporter writes (CONV_2D
// with "same" padding and behind an explicit PAD, DEPTHWISE_CONV_2D, a linear layer as a 1×1 CONV_2D behind a
// RESHAPE, MAX_POOL_2D, MEAN, ADD) and on a searched network. Arm NN's outputs are compared byte by byte with our
// host kernels' on the test images, and each single-input op alone on random int8 inputs. CpuRef computes in float
// (each int8 value dequantised with its tensor's float32 scale, the sums requantised by rounding x / scale), where
// our kernels use TFLite's integer multipliers, so a sum close to a rounding boundary can round the other way: one
// op may differ by 1 LSB on a small share of its outputs, a network by the sum of its ops' differences; both are
// printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include "common/error.h"
#include "deploy/int8_executor.h"
#include "deploy/post_training.h"
#include "deploy/tflite_export.h"
#include "results/stored_network.h"
#include "runner/int8_deployment.h"
#include "search/progress.h"
#include "search/search_driver.h"
#include "supernet/search_space.h"
#include "tests/armnn/armnn_compare.h"
#include "tests/common/test_support.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using armnn_check::Agreement;

// Each single-input op alone: at most 1 LSB, on a small share of its outputs.
void expect_each_op_agrees(const char* name, const Int8Model& model) {
  const std::vector<Agreement> ops = armnn_check::each_op_agreement(model, 100);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Agreement& a = ops[i];
    if (a.images == 0) continue;  // ADD: two inputs, covered by the whole network
    std::printf("  op %zu (%s): %lld of %lld bytes differ, at most by %d\n", i, model.ops[i].name.c_str(),
                static_cast<long long>(a.differing), static_cast<long long>(a.bytes), a.max_difference);
    EXPECT_LE(a.max_difference, 1) << name << " op " << i;
    // A sum rounds the other way now and then (0.1–0.3 % of a convolution's outputs on this machine); Arm NN's
    // float mean of a whole map lands on the other side of a boundary more often (about 7 %).
    const double limit = model.ops[i].kind == Int8OpKind::global_avg_pool ? 0.10 : 0.01;
    EXPECT_LE(a.share(), limit) << name << " op " << i;
  }
}

void expect_agreement(const char* name, const Int8Model& model, const supernet::Dataset& test, int32_t images) {
  expect_each_op_agrees(name, model);
  const Agreement a = armnn_check::network_agreement(model, test, images);
  std::printf("%-28s %d images: %lld of %lld output bytes differ (%.2f %%), at most by %d; same class on %d\n", name,
              a.images, static_cast<long long>(a.differing), static_cast<long long>(a.bytes), 100 * a.share(),
              a.max_difference, a.same_class);
  // Over a whole network the ops' 1-LSB differences meet: 10–15 % of the logits differ, by 2 where two do.
  EXPECT_EQ(a.images, images) << name;
  EXPECT_LE(a.max_difference, 2) << name;
  EXPECT_LE(a.share(), 0.25) << name;
  EXPECT_GE(a.same_class, a.images - 3) << name;
}

// A small network of `layers_yaml`, trained 3 epochs on synthetic images and quantised as nas export does, against
// Arm NN on all 300 test images.
void expect_agreement(const char* name, const char* layers_yaml) {
  supernet::DataSplits data = testing::synthetic_splits();
  supernet::Network net = testing::network_from_yaml(layers_yaml, {1, 12, 12, 3}, 4, 5);
  testing::train(net, data.train, 3, 7);
  CalibrationSpec spec;
  spec.images = 256;
  expect_agreement(name, quantize_network(net, data, spec), data.test, 300);
}

TEST(TfliteArmNN, ArmNNRunsOurFilesAsOurKernelsDo) {
  // conv 3×3 stride 2 padded on top and left (TensorFlow's "same" pads at the bottom: an explicit PAD), depthwise
  // "same", pointwise, MEAN, linear; a residual ADD after a "same" stride-2 conv; max pooling before a linear layer
  // over a spatial tensor (RESHAPE and a 1×1 CONV_2D).
  expect_agreement("chain (PAD, depthwise, MEAN)", testing::kChainNetwork);
  expect_agreement("residual (ADD, same)", testing::kResidualSameNetwork);
  expect_agreement("spatial linear (max pool)", testing::kSpatialLinearNetwork);
}

// A network the search found (operators and channels on synthetic data, stored in a real SQLite file), quantised
// from the database as `nas export --format tflite` does, against Arm NN on 100 test images.
constexpr const char* kSearchConfig = R"(
name: tflite_search
data:
  format: synthetic
  synthetic: {count: 1536, height: 12, width: 12, channels: 1, classes: 4, noise: 0.3, seed: 3}
search_space:
  blocks:
    - {name: b1, out: 12, stride: 1, ops: [conv3x3, conv5x5]}
    - {name: b2, out: 16, stride: 2, ops: [conv3x3, dwsep3x3, dwsep5x5]}
    - {name: b3, out: 16, stride: 1, ops: [conv3x3, dwsep3x3, skip]}
search:
  epochs: {warmup: 1, search: 2, finetune: 2}
  batch_size: 32
  threads: 2
  finetune: {schedule: {type: cosine, lr: 0.05}}
)";

class TfliteSearchedNetwork : public test_support::TempDirTest {};

TEST_F(TfliteSearchedNetwork, ASearchedNetworkRunsInArmNNAsInOurKernels) {
  write_text("search.yaml", kSearchConfig);
  results::ResultsDb db(dir_ / "results.db");
  search::Progress quiet(search::Progress::Mode::quiet);
  search::SearchRequest request{search::load_search_config(dir_ / "search.yaml"), "nano33", {}, "test"};
  request.budgets.max_latency = "5ms";
  const search::SearchOutcome outcome = search::run_search(request, db, quiet);
  ASSERT_EQ(outcome.status, "done");
  const runner::Int8Deployment d =
      runner::prepare_int8(results::load_stored_network(db, outcome.run_id), CalibrationSpec{});
  expect_agreement(supernet::fixed_arch_line(outcome.arch).c_str(), d.model, d.stored.data.test, 100);
}

// Arm NN 20.08 runs a standalone PAD on int8 tensors with the value 0 where TFLite pads with the tensor's zero point
// (TFLite Micro's PAD keeps the output's zero point for that; later Arm NN parsers set the PAD's value to the
// quantisation offset). Its convolution folds a PAD in front of it into its own padding and is not affected; a
// depthwise layer with our "pad 1 at stride 2" (written as PAD then a VALID DEPTHWISE_CONV_2D) is, on a ReLU output
// (zero point -128): the border outputs differ by up to 255. Shown here: Arm NN's outputs are our kernel's on the
// input padded with raw zeros (to within 1 LSB), not on the zero point padding TFLite means.
TEST(TfliteArmNN, ArmNNPadsAnInt8DepthwiseInputWithZeroNotTheZeroPoint) {
  supernet::DataSplits data = testing::synthetic_splits();
  supernet::Network net = testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 8, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {name: dw, type: depthwise_conv2d, kernel: 3, stride: 2, padding: 1, bias: false}
  - {type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 12, 12, 3}, 4, 5);
  testing::train(net, data.train, 2, 7);
  CalibrationSpec spec;
  spec.images = 128;
  const Int8Model model = quantize_network(net, data, spec);
  size_t dw = 0;
  while (dw < model.ops.size() && model.ops[dw].kind != Int8OpKind::depthwise) ++dw;
  ASSERT_LT(dw, model.ops.size());
  const Int8Model alone = armnn_check::one_op_model(model, dw);
  const Int8Tensor& in = alone.tensors[0];
  ASSERT_EQ(in.quant.zero_point, -128) << "a ReLU output";
  ASSERT_EQ(alone.ops[0].pad_h, 1);

  // The same op on the input padded by one raw 0 on every side, without padding of its own.
  Int8Model zero_padded = alone;
  zero_padded.tensors[0].h += 2;
  zero_padded.tensors[0].w += 2;
  zero_padded.ops[0].pad_h = zero_padded.ops[0].pad_w = 0;
  Int8Executor ours(alone), ours_zero(zero_padded);
  armnn_check::ArmNNModel theirs(tflite_model(alone, "pad"));
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> value(-128, 127);
  int32_t max_from_ours = 0, max_from_zero_padding = 0;
  for (int32_t draw = 0; draw < 20; ++draw) {
    std::vector<int8_t> x(static_cast<size_t>(in.bytes()));
    for (int8_t& v : x) v = static_cast<int8_t>(value(rng));
    std::vector<int8_t> padded(static_cast<size_t>(zero_padded.tensors[0].bytes()), 0);
    for (int32_t y = 0; y < in.h; ++y)
      for (int32_t k = 0; k < in.w * in.c; ++k)
        padded[static_cast<size_t>((y + 1) * (in.w + 2) * in.c + in.c + k)] = x[static_cast<size_t>(y * in.w * in.c + k)];
    const std::vector<int8_t> got = theirs.run(x);
    std::copy(x.begin(), x.end(), ours.input().begin());
    ours.invoke();
    std::copy(padded.begin(), padded.end(), ours_zero.input().begin());
    ours_zero.invoke();
    ASSERT_EQ(got.size(), ours.output().size());
    ASSERT_EQ(got.size(), ours_zero.output().size());
    for (size_t k = 0; k < got.size(); ++k) {
      max_from_ours = std::max(max_from_ours, std::abs(int32_t{got[k]} - int32_t{ours.output()[k]}));
      max_from_zero_padding = std::max(max_from_zero_padding, std::abs(int32_t{got[k]} - int32_t{ours_zero.output()[k]}));
    }
  }
  std::printf("depthwise s2 pad 1 on a ReLU output: Arm NN vs ours at most %d, vs ours on a raw-0-padded input %d\n",
              max_from_ours, max_from_zero_padding);
  EXPECT_GT(max_from_ours, 8) << "the border outputs differ by more than rounding";
  EXPECT_LE(max_from_zero_padding, 1) << "Arm NN computes the zero-padded input";
}

// What the format cannot say as our kernels compute it is refused by name, before anything is written: average
// pooling with our symmetric padding (TFLite's "same" counts only cells inside, but pads at the end).
TEST(TfliteArmNN, PoolingPaddingTfliteCannotSayIsRefusedByName) {
  supernet::DataSplits data = testing::synthetic_splits();
  supernet::Network net = testing::network_from_yaml(R"(
layers:
  - {type: conv2d, out: 4, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {name: pool, type: avg_pool, kernel: 3, stride: 2, padding: 1}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)", {1, 12, 12, 3}, 4, 5);
  CalibrationSpec spec;
  spec.images = 64;
  const Int8Model model = quantize_network(net, data, spec);
  const std::string message = test_support::error_of([&] { tflite_model(model, "x"); });
  EXPECT_TRUE(test_support::contains(message, "pool")) << message;
  EXPECT_TRUE(test_support::contains(message, "neither TFLite's \"same\" nor \"valid\"")) << message;
}

}  // namespace
}  // namespace nas::deploy
