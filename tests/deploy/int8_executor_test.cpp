// The host int8 executor against a reference written here that runs the same quantised model with one std::vector
// per tensor (nothing shared) and naive int8 kernels (TFLite's arithmetic: offsets, per-channel requantisation with
// its double rounding, clamps; ADD in its left-shift formulation). The executor places all tensors in one arena by
// the static plan, so bit-identical outputs mean the plan never let an op overwrite a tensor still to be read, and
// that kernel_call hands the kernels the right arguments. A chain model exercises the two-ended layout, a residual
// model the greedy one. Then evaluate_int8: its float accuracy is supernet::evaluate's, and its int8 accuracy and
// agreement are what the reference pipeline gives. Last, quantize_network: the steps it chains, and bias correction
// shrinking the mean output error it is meant to remove.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "deploy/int8_executor.h"
#include "deploy/fold_batchnorm.h"
#include "deploy/post_training.h"
#include "deploy/quantize.h"
#include "supernet/data_spec.h"
#include "supernet/trainer.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using supernet::Network;

// TFLite's MultiplyByQuantizedMultiplier in its own formulation (as kernels_reference_test.cpp): the rounding
// doubling high multiply with its nudge and truncating division, then a rounding right shift, half away from zero.
int32_t requantize(int64_t acc64, int32_t m, int32_t shift) {
  const auto acc = static_cast<int32_t>(acc64);
  const int64_t x = std::clamp<int64_t>(static_cast<int64_t>(acc) * (int64_t{1} << std::max(shift, 0)), INT32_MIN,
                                        INT32_MAX);
  const int64_t ab = x * m;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  const int64_t high = (ab + nudge) / (int64_t{1} << 31);
  const long double q = std::ldexp(static_cast<long double>(high), -std::max(-shift, 0));
  return static_cast<int32_t>(q >= 0 ? std::floor(q + 0.5L) : -std::floor(-q + 0.5L));
}

int8_t to_s8(int64_t acc, int32_t m, int32_t shift, int32_t zero_point, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(std::clamp(requantize(acc, m, shift) + zero_point, lo, hi));
}

// Quantises a normalised image with the input tensor's parameters: round half away from zero, then clamp.
std::vector<int8_t> quantize_image(const Int8Model& m, const float* image) {
  const Int8Tensor& t = m.tensors[static_cast<size_t>(m.input)];
  std::vector<int8_t> q(static_cast<size_t>(t.bytes()));
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = static_cast<int8_t>(std::clamp(std::round(image[i] / t.quant.scale) + t.quant.zero_point, -128.0, 127.0));
  return q;
}

// One op on the tensors `v` (one buffer per tensor id); returns its output.
std::vector<int8_t> run_op(const Int8Model& m, const Int8Op& op, const std::vector<std::vector<int8_t>>& v) {
  const Int8Tensor& in = m.tensors[static_cast<size_t>(op.inputs[0])];
  const Int8Tensor& out = m.tensors[static_cast<size_t>(op.output)];
  const std::vector<int8_t>& x = v[static_cast<size_t>(op.inputs[0])];
  const int32_t zp_in = in.quant.zero_point, zp_out = out.quant.zero_point;
  std::vector<int8_t> y(static_cast<size_t>(out.bytes()));
  auto at = [&](int32_t iy, int32_t ix, int32_t c) {
    return static_cast<int32_t>(x[(static_cast<size_t>(iy) * in.w + ix) * in.c + c]);
  };
  auto inside = [&](int32_t iy, int32_t ix) { return iy >= 0 && iy < in.h && ix >= 0 && ix < in.w; };
  for (int32_t oy = 0; oy < out.h; ++oy)
    for (int32_t ox = 0; ox < out.w; ++ox)
      for (int32_t o = 0; o < out.c; ++o) {
        const size_t k = (static_cast<size_t>(oy) * out.w + ox) * out.c + o;
        const auto channel = static_cast<size_t>(o);
        int64_t acc = 0;
        int32_t best = -128, count = 0;
        switch (op.kind) {
          case Int8OpKind::conv:
          case Int8OpKind::depthwise:
            acc = op.bias[channel];
            for (int32_t ky = 0; ky < op.kernel_h; ++ky)
              for (int32_t kx = 0; kx < op.kernel_w; ++kx) {
                const int32_t iy = oy * op.stride_h - op.pad_h + ky, ix = ox * op.stride_w - op.pad_w + kx;
                if (!inside(iy, ix)) continue;  // padding stands for the zero point: adds nothing
                if (op.kind == Int8OpKind::depthwise) {
                  acc += int64_t{at(iy, ix, o) - zp_in} *
                         op.weights[(static_cast<size_t>(ky) * op.kernel_w + kx) * in.c + channel];
                } else {
                  for (int32_t c = 0; c < in.c; ++c)
                    acc += int64_t{at(iy, ix, c) - zp_in} *
                           op.weights[((channel * op.kernel_h + ky) * op.kernel_w + kx) * in.c + c];
                }
              }
            y[k] = to_s8(acc, op.multiplier[channel], op.shift[channel], zp_out, op.act_min, op.act_max);
            break;
          case Int8OpKind::fully_connected:
            acc = op.bias[channel];
            for (size_t i = 0; i < x.size(); ++i) acc += int64_t{x[i] - zp_in} * op.weights[channel * x.size() + i];
            y[k] = to_s8(acc, op.multiplier[channel], op.shift[channel], zp_out, op.act_min, op.act_max);
            break;
          case Int8OpKind::max_pool:
          case Int8OpKind::avg_pool: {
            for (int32_t ky = 0; ky < op.kernel_h; ++ky)
              for (int32_t kx = 0; kx < op.kernel_w; ++kx) {
                const int32_t iy = oy * op.stride_h - op.pad_h + ky, ix = ox * op.stride_w - op.pad_w + kx;
                if (!inside(iy, ix)) continue;
                best = std::max(best, at(iy, ix, o));
                acc += at(iy, ix, o);
                ++count;
              }
            const double mean = static_cast<double>(acc) / count;  // rounded half away from zero
            const auto avg = static_cast<int32_t>(mean >= 0 ? std::floor(mean + 0.5) : -std::floor(-mean + 0.5));
            y[k] = static_cast<int8_t>(
                std::clamp(op.kind == Int8OpKind::max_pool ? best : avg, op.act_min, op.act_max));
            break;
          }
          case Int8OpKind::global_avg_pool:  // TFLite's MEAN: the offset sum, requantised to the output scale
            for (int32_t iy = 0; iy < in.h; ++iy)
              for (int32_t ix = 0; ix < in.w; ++ix) acc += at(iy, ix, o) - zp_in;
            y[k] = to_s8(acc, op.mean.multiplier, op.mean.shift, zp_out, op.act_min, op.act_max);
            break;
          case Int8OpKind::add: {
            const Int8Tensor& in2 = m.tensors[static_cast<size_t>(op.inputs[1])];
            const int32_t a = (x[k] - zp_in) * (1 << op.add.left_shift);
            const int32_t x2 = v[static_cast<size_t>(op.inputs[1])][k];
            const int32_t b = (x2 - in2.quant.zero_point) * (1 << op.add.left_shift);
            const int32_t sum = requantize(a, op.add.input1_multiplier, op.add.input1_shift) +
                                requantize(b, op.add.input2_multiplier, op.add.input2_shift);
            y[k] = to_s8(sum, op.add.output_multiplier, op.add.output_shift, zp_out, op.act_min, op.act_max);
            break;
          }
          case Int8OpKind::reuse_conv:  // its clusters: tests/deploy/reuse_conv_test.cpp
            ADD_FAILURE() << "this reference has no reuse convolution";
            break;
        }
      }
  return y;
}

// Every op of the model, each tensor in a buffer of its own. Returns the output tensor.
std::vector<int8_t> reference_run(const Int8Model& m, const std::vector<int8_t>& input) {
  std::vector<std::vector<int8_t>> v(m.tensors.size());
  v[static_cast<size_t>(m.input)] = input;
  for (const Int8Op& op : m.ops) v[static_cast<size_t>(op.output)] = run_op(m, op, v);
  return v[static_cast<size_t>(m.output)];
}

using testing::kChainNetwork;

// The same with a residual add around the depthwise and 1x1 convs (so not a chain), ReLU6 and a max pool.
constexpr const char* kResidual = R"(
layers:
  - {type: conv2d, out: 8, kernel: 3, stride: 2, bias: false}
  - {type: batchnorm}
  - {name: stem, type: relu}
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu6}
  - {type: conv2d, out: 8, kernel: 1, bias: false}
  - {name: proj, type: batchnorm}
  - {name: join, type: add, inputs: [stem, proj]}
  - {type: max_pool, kernel: 2}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

// A ResNet basic block: the ReLU after the join folds into the add (its output clamp), as in TFLite's fused ADD.
using testing::kResidualSameNetwork;

using testing::kSpatialLinearNetwork;

// The network input itself is the residual: it must stay live (and unwritten) until the add, two ops later.
constexpr const char* kInputResidual = R"(
layers:
  - {type: conv2d, out: 3, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, out: 3, kernel: 1, bias: false}
  - {name: bn, type: batchnorm}
  - {name: join, type: add, inputs: [input, bn]}
  - {type: avg_pool, kernel: 3, stride: 2, padding: 1}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

struct Trained {
  supernet::DataSplits data;
  Network net;
  Int8Model model;
};

// Trained for three epochs, then quantised by the default pipeline (percentile calibration on 256 training images,
// bias correction), the model nas eval --int8 runs.
Trained trained(const char* yaml) {
  supernet::DataSplits data = testing::synthetic_splits();
  Network net = testing::network_from_yaml(yaml, {1, 12, 12, 3}, 4, 5);
  testing::train(net, data.train, 3, 7);
  CalibrationSpec spec;
  spec.images = 256;
  Int8Model model = quantize_network(net, data, spec);
  return {std::move(data), std::move(net), std::move(model)};
}

// The executor against the reference on every test image.
void expect_executor_matches_reference(const Trained& t) {
  Int8Executor executor(t.model);
  const supernet::Dataset& test = t.data.test;
  std::vector<std::vector<int8_t>> distinct;
  for (int32_t i = 0; i < test.count; ++i) {
    const float* image = test.images.data() + i * test.item_size();
    const std::vector<int8_t> q = quantize_image(t.model, image);
    // quantize_input agrees with the rounding above.
    quantize_input(executor.model(), {image, static_cast<size_t>(test.item_size())}, executor.input());
    ASSERT_TRUE(std::equal(q.begin(), q.end(), executor.input().begin())) << "image " << i;
    executor.invoke();
    const std::vector<int8_t> expected = reference_run(t.model, q);
    const auto got = executor.output();
    ASSERT_EQ(got.size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k)
      ASSERT_EQ(static_cast<int32_t>(got[k]), static_cast<int32_t>(expected[k])) << "image " << i << " logit " << k;
    if (std::find(distinct.begin(), distinct.end(), expected) == distinct.end()) distinct.push_back(expected);
  }
  // The logits depend on the image: a model collapsed to a constant would compare equal for the wrong reasons.
  EXPECT_GT(distinct.size(), 10U);
}

// Every tensor and every op's scratch, each in a place of its own: what a plan that shares nothing takes.
int64_t unshared_bytes(const Int8Model& m) {
  int64_t sum = 0;
  for (const auto& t : m.tensors) sum += t.bytes();
  for (const auto& op : m.ops) sum += scratch_bytes(m, op);
  return sum;
}

TEST(Int8Executor, ChainMatchesSeparateBuffersBitForBit) {
  const Trained t = trained(kChainNetwork);
  ASSERT_EQ(t.model.ops.size(), 5U);
  ASSERT_EQ(t.model.ops[3].kind, Int8OpKind::global_avg_pool);  // the requantising mean
  Int8Executor executor(t.model);
  // Tensors and scratch share the arena (the plan meets the lower bound; with the first conv's planes as the
  // largest buffer, greedy by size does), so a bad offset would clobber a live one.
  EXPECT_EQ(executor.plan().arena_bytes, executor.plan().lower_bound_bytes);
  EXPECT_LT(executor.plan().arena_bytes, unshared_bytes(t.model));
  expect_executor_matches_reference(t);
}

TEST(Int8Executor, LinearOnASpatialTensorMatchesSeparateBuffers) {
  const Trained t = trained(kSpatialLinearNetwork);
  ASSERT_EQ(t.model.ops.size(), 3U);
  ASSERT_EQ(t.model.ops[2].kind, Int8OpKind::fully_connected);
  const Int8Tensor& flattened = t.model.tensors[static_cast<size_t>(t.model.ops[2].inputs[0])];
  ASSERT_GT(flattened.h * flattened.w, 1);
  expect_executor_matches_reference(t);
}

TEST(Int8Executor, ResidualMatchesSeparateBuffersBitForBit) {
  const Trained t = trained(kResidual);
  ASSERT_EQ(t.model.ops.size(), 7U);
  ASSERT_EQ(t.model.ops[3].kind, Int8OpKind::add);
  Int8Executor executor(t.model);
  EXPECT_EQ(executor.plan().layout, "greedy by size");
  EXPECT_LT(executor.plan().arena_bytes, unshared_bytes(t.model));
  // The stem's tensor lives across the depthwise and 1x1 convs until the add reads it.
  const int32_t stem = t.model.ops[3].inputs[0];
  EXPECT_EQ(stem, t.model.ops[1].inputs[0]);
  expect_executor_matches_reference(t);
}

TEST(Int8Executor, AddReadingTheNetworkInputMatchesSeparateBuffers) {
  const Trained t = trained(kInputResidual);
  ASSERT_EQ(t.model.ops.size(), 6U);
  ASSERT_EQ(t.model.ops[2].kind, Int8OpKind::add);
  ASSERT_EQ(t.model.ops[2].inputs[0], t.model.input);
  expect_executor_matches_reference(t);
}

TEST(Int8Executor, AReluAfterAJoinFoldsIntoTheAddAndMatchesFloat) {
  Trained t = trained(kResidualSameNetwork);
  ASSERT_EQ(t.model.ops.size(), 6U);
  const Int8Op& add = t.model.ops[3];
  ASSERT_EQ(add.kind, Int8OpKind::add);
  // The clamp is the quantised 0: the output's zero point; nothing above is cut.
  EXPECT_EQ(add.act_min, t.model.tensors[static_cast<size_t>(add.output)].quant.zero_point);
  EXPECT_EQ(add.act_max, 127);
  expect_executor_matches_reference(t);
  Int8Executor executor(t.model);
  const Int8Evaluation e = evaluate_int8(t.net, executor, t.data.test, {});
  EXPECT_GT(e.float_accuracy, 0.5);
  EXPECT_GE(e.agreement, 0.9);
}

TEST(Int8Executor, RepeatedInvocationsDoNotCarryState) {
  const Trained t = trained(kResidual);
  Int8Executor executor(t.model);
  const supernet::Dataset& test = t.data.test;
  const size_t item = static_cast<size_t>(test.item_size());
  auto run = [&](int32_t i) {
    quantize_input(executor.model(), {test.images.data() + i * test.item_size(), item}, executor.input());
    executor.invoke();
    return std::vector<int8_t>(executor.output().begin(), executor.output().end());
  };
  const auto first = run(0);
  run(1);
  run(2);
  EXPECT_EQ(run(0), first);
}

TEST(Int8Executor, ArgmaxTakesTheFirstOnTies) {
  const std::vector<int8_t> logits = {-3, 7, 2, 7, -128};
  EXPECT_EQ(argmax(logits), 1);
  EXPECT_EQ(argmax(std::vector<int8_t>{-128}), 0);
}

TEST(EvaluateInt8, AgreesWithFloatEvaluationAndTheReference) {
  Trained t = trained(kResidual);
  Int8Executor executor(t.model);
  const supernet::Dataset& test = t.data.test;
  std::vector<std::pair<int32_t, int32_t>> progress;
  const Int8Evaluation e =
      evaluate_int8(t.net, executor, test, [&](int32_t done, int32_t total) { progress.emplace_back(done, total); });
  ASSERT_EQ(test.count, 300);
  EXPECT_EQ(e.images, 300);
  EXPECT_EQ(progress, (std::vector<std::pair<int32_t, int32_t>>{{250, 300}, {300, 300}}));
  for (const double share : {e.float_accuracy, e.int8_accuracy, e.agreement}) {
    EXPECT_GE(share, 0.0);
    EXPECT_LE(share, 1.0);
  }
  // The float figure is the training code's own evaluation, same images, same batches.
  EXPECT_EQ(e.float_accuracy, supernet::evaluate(t.net, test, 250).accuracy);
  // Accuracies can only differ on images where the two disagree.
  EXPECT_LE(std::abs(e.float_accuracy - e.int8_accuracy), 1.0 - e.agreement + 1e-12);

  // int8 accuracy and agreement recomputed: float argmax from the network (in evaluate_int8's batches of 250, so
  // the logits are bit for bit the same), int8 argmax from the reference.
  int32_t int8_correct = 0, agree = 0;
  supernet::Tensor images;
  for (int32_t begin = 0; begin < test.count; begin += 250) {
    const int32_t n = std::min(250, test.count - begin);
    images.resize(test.batch_shape(n));
    std::memcpy(images.data(), test.images.data() + begin * test.item_size(),
                sizeof(float) * static_cast<size_t>(n * test.item_size()));
    const supernet::Tensor& logits = t.net.forward(images, false);
    for (int32_t i = 0; i < n; ++i) {
      const float* row = logits.item(i);
      const auto float_class = static_cast<int32_t>(std::max_element(row, row + 4) - row);
      const std::vector<int8_t> q = reference_run(t.model, quantize_image(t.model, images.item(i)));
      const auto int8_class = static_cast<int32_t>(std::max_element(q.begin(), q.end()) - q.begin());
      int8_correct += int8_class == test.labels[static_cast<size_t>(begin + i)];
      agree += int8_class == float_class;
    }
  }
  EXPECT_EQ(e.int8_accuracy, int8_correct / 300.0);
  EXPECT_EQ(e.agreement, agree / 300.0);
  // A trained network keeps its decisions under int8 (the whole point of the pipeline).
  EXPECT_GT(e.float_accuracy, 0.5);
  EXPECT_GE(e.agreement, 0.9);
}

// quantize_network is fold_batchnorm → calibrate on the training split → quantize with the data's normalisation
// → bias correction: done by hand here, the models must be identical, and bias correction may change biases only.
TEST(QuantizeNetwork, IsFoldCalibrateQuantizeThenBiasCorrection) {
  Trained t = trained(kResidual);
  CalibrationSpec spec;
  spec.images = 256;
  spec.bias_correction = false;
  const Int8Model plain = quantize_network(t.net, t.data, spec);
  const FoldedModel folded = fold_batchnorm(t.net);
  const Int8Model by_hand =
      quantize(folded, calibrate(t.net, folded, t.data.train, spec), t.data.norm.mean, t.data.norm.stddev);
  EXPECT_EQ(plain.input_mean, t.data.norm.mean);
  EXPECT_EQ(plain.input_stddev, t.data.norm.stddev);
  ASSERT_EQ(plain.tensors.size(), by_hand.tensors.size());
  for (size_t k = 0; k < plain.tensors.size(); ++k) {
    EXPECT_EQ(plain.tensors[k].quant.scale, by_hand.tensors[k].quant.scale) << k;
    EXPECT_EQ(plain.tensors[k].quant.zero_point, by_hand.tensors[k].quant.zero_point) << k;
  }
  ASSERT_EQ(plain.ops.size(), by_hand.ops.size());
  for (size_t k = 0; k < plain.ops.size(); ++k) {
    EXPECT_EQ(plain.ops[k].weights, by_hand.ops[k].weights) << k;
    EXPECT_EQ(plain.ops[k].bias, by_hand.ops[k].bias) << k;
    EXPECT_EQ(plain.ops[k].multiplier, by_hand.ops[k].multiplier) << k;
    EXPECT_EQ(plain.ops[k].shift, by_hand.ops[k].shift) << k;
  }
  // Minmax calibration reads the first `images` training images: the input's range is theirs.
  spec.method = "minmax";
  const Int8Model minmax = quantize_network(t.net, t.data, spec);
  const auto first = t.data.train.images.begin();
  const auto [lo, hi] = std::minmax_element(first, first + 256 * t.data.train.item_size());
  const QuantParams expected = activation_quant(*lo, *hi);
  EXPECT_EQ(minmax.tensors[static_cast<size_t>(minmax.input)].quant.scale, expected.scale);
  EXPECT_EQ(minmax.tensors[static_cast<size_t>(minmax.input)].quant.zero_point, expected.zero_point);

  // With bias correction (the default) only int32 biases of weighted ops differ, and some do.
  spec.method = "percentile";
  spec.bias_correction = true;
  const Int8Model corrected = quantize_network(t.net, t.data, spec);
  int32_t changed = 0;
  for (size_t k = 0; k < plain.ops.size(); ++k) {
    EXPECT_EQ(corrected.ops[k].weights, plain.ops[k].weights) << k;
    EXPECT_EQ(corrected.ops[k].multiplier, plain.ops[k].multiplier) << k;
    EXPECT_EQ(corrected.ops[k].shift, plain.ops[k].shift) << k;
    EXPECT_EQ(corrected.ops[k].act_min, plain.ops[k].act_min) << k;
    changed += corrected.ops[k].bias != plain.ops[k].bias;
  }
  for (size_t k = 0; k < plain.tensors.size(); ++k)
    EXPECT_EQ(corrected.tensors[k].quant.scale, plain.tensors[k].quant.scale) << k;
  EXPECT_GT(changed, 0);
}

// Per weighted op: the mean, over the calibration images and the positions its float output is not clamped, of
// (dequantised int8 output − float output) when the op runs alone on its float input quantised, summed in
// absolute value over the channels. Bias correction exists to shrink it.
double bias_error(const Int8Model& m, const Int8Op& op, const FoldedModel& folded, Network& net,
                  const supernet::Dataset& data, int32_t images) {
  supernet::Tensor batch(data.batch_shape(images));
  std::memcpy(batch.data(), data.images.data(), sizeof(float) * static_cast<size_t>(batch.size()));
  net.forward(batch, false);
  auto values = [&](int32_t t, int32_t i) {
    const FloatTensor& ft = folded.tensors[static_cast<size_t>(t)];
    const int64_t size = int64_t{ft.h} * ft.w * ft.c;
    return (ft.node == Network::kInput ? batch.data() : net.output(ft.node).data()) + i * size;
  };
  const Int8Tensor& in = m.tensors[static_cast<size_t>(op.inputs[0])];
  const Int8Tensor& out = m.tensors[static_cast<size_t>(op.output)];
  const size_t channels = static_cast<size_t>(out.c);
  std::vector<double> error(channels, 0.0), count(channels, 0.0);
  std::vector<std::vector<int8_t>> v(m.tensors.size());
  for (int32_t i = 0; i < images; ++i) {
    const float* x = values(op.inputs[0], i);
    auto& q = v[static_cast<size_t>(op.inputs[0])];
    q.resize(static_cast<size_t>(in.bytes()));
    for (size_t k = 0; k < q.size(); ++k)
      q[k] = static_cast<int8_t>(std::clamp(std::round(x[k] / in.quant.scale) + in.quant.zero_point, -128.0, 127.0));
    const std::vector<int8_t> y = run_op(m, op, v);
    const float* expected = values(op.output, i);
    const double floor = out.quant.scale * (op.act_min - out.quant.zero_point);
    const double ceiling = out.quant.scale * (op.act_max - out.quant.zero_point);
    for (size_t k = 0; k < y.size(); ++k) {
      if (expected[k] <= floor || expected[k] >= ceiling) continue;
      error[k % channels] += out.quant.scale * (y[k] - out.quant.zero_point) - expected[k];
      count[k % channels] += 1;
    }
  }
  double sum = 0;
  for (size_t c = 0; c < channels; ++c)
    if (count[c] > 0) sum += std::abs(error[c] / count[c]);
  return sum;
}

TEST(QuantizeNetwork, BiasCorrectionShrinksTheMeanOutputError) {
  Trained t = trained(kResidual);
  CalibrationSpec spec;
  spec.images = 256;
  spec.bias_correction = false;
  const Int8Model plain = quantize_network(t.net, t.data, spec);
  spec.bias_correction = true;
  const Int8Model corrected = quantize_network(t.net, t.data, spec);
  const FoldedModel folded = fold_batchnorm(t.net);
  double before_total = 0, after_total = 0;
  for (size_t k = 0; k < plain.ops.size(); ++k) {
    const Int8OpKind kind = plain.ops[k].kind;
    if (kind != Int8OpKind::conv && kind != Int8OpKind::depthwise && kind != Int8OpKind::fully_connected) continue;
    const double before = bias_error(plain, plain.ops[k], folded, t.net, t.data.train, 256);
    const double after = bias_error(corrected, corrected.ops[k], folded, t.net, t.data.train, 256);
    // Each channel's mean error ends within about half a bias step of zero (measured: 7x to 20x smaller here).
    EXPECT_LT(after, 0.5 * before) << plain.ops[k].name;
    before_total += before;
    after_total += after;
  }
  EXPECT_LT(after_total, before_total);
}

}  // namespace
}  // namespace nas::deploy
