// Post-training quantisation against the TFLite int8 rules, recomputed here from the folded float model and the
// ranges given: activation scale and zero point, symmetric per-channel weights, int32 biases, the fixed-point
// requantisation, the fused ReLU / ReLU6 clamps, pooling keeping its input's parameters and the ADD scales.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"
#include "deploy/quantize.h"
#include "deploy/quantize_multiplier.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using supernet::Network;

// Where real value r lands in the int8 domain (unclamped).
double quantized(const QuantParams& q, double r) { return r / q.scale + q.zero_point; }

TEST(ActivationQuant, KnownRanges) {
  // [-1, 3]: 255 steps of 4/255; -1 sits at -128, so 0 at -128 + 63.75, rounded.
  const QuantParams a = activation_quant(-1.0, 3.0);
  EXPECT_DOUBLE_EQ(a.scale, 4.0 / 255.0);
  EXPECT_EQ(a.zero_point, -64);
  // A ReLU output [0, x]: zero is the lowest code.
  const QuantParams relu = activation_quant(0.0, 6.0);
  EXPECT_DOUBLE_EQ(relu.scale, 6.0 / 255.0);
  EXPECT_EQ(relu.zero_point, -128);
  // A range away from 0 is extended to include it: [2, 5] quantises as [0, 5], [-3, -1] as [-3, 0].
  const QuantParams positive = activation_quant(2.0, 5.0);
  EXPECT_DOUBLE_EQ(positive.scale, 5.0 / 255.0);
  EXPECT_EQ(positive.zero_point, -128);
  const QuantParams negative = activation_quant(-3.0, -1.0);
  EXPECT_DOUBLE_EQ(negative.scale, 3.0 / 255.0);
  EXPECT_EQ(negative.zero_point, 127);
  // An all-zero tensor still gets a usable scale.
  const QuantParams zero = activation_quant(0.0, 0.0);
  EXPECT_GT(zero.scale, 0.0);
  EXPECT_EQ(zero.zero_point, -128);
}

TEST(ActivationQuant, RandomRangesCoverTheirEndsAndKeepZeroExact) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> width(1e-3, 50.0), share(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const double w = width(rng), lo = -w * share(rng), hi = lo + w;  // lo <= 0 <= hi
    const QuantParams q = activation_quant(lo, hi);
    ASSERT_GE(q.zero_point, -128) << lo << " " << hi;
    ASSERT_LE(q.zero_point, 127) << lo << " " << hi;
    ASSERT_NEAR(q.scale * 255.0, hi - lo, 1e-12 * (hi - lo));
    // 0 maps exactly onto the integer zero point (padding and ReLU's floor are exact); the ends land on the ends
    // of int8 to within the zero point's rounding, half a step.
    ASSERT_EQ(quantized(q, 0.0), static_cast<double>(q.zero_point));
    ASSERT_NEAR(quantized(q, lo), -128.0, 0.5 + 1e-9) << lo << " " << hi;
    ASSERT_NEAR(quantized(q, hi), 127.0, 0.5 + 1e-9) << lo << " " << hi;
  }
}

// conv + BN + ReLU, depthwise + BN + ReLU6, 1x1 conv + BN, a residual add, max / average / global pooling, linear.
constexpr const char* kModel = R"(
layers:
  - {type: conv2d, out: 6, kernel: 3, bias: false}
  - {type: batchnorm}
  - {name: stem, type: relu}
  - {type: depthwise_conv2d, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu6}
  - {type: conv2d, out: 6, kernel: 1, bias: true}
  - {name: proj, type: batchnorm}
  - {name: join, type: add, inputs: [stem, proj]}
  - {type: max_pool, kernel: 2}
  - {type: avg_pool, kernel: 3, stride: 1, padding: 1}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

constexpr int32_t kZeroChannel = 2;  // of the first conv: all its weights zero

struct Quantized {
  FoldedModel folded;
  std::vector<TensorRange> ranges;
  Int8Model model;
};

// Op k of the model (in execution order): 0 conv+ReLU, 1 depthwise+ReLU6, 2 conv, 3 add, 4 max pool, 5 avg pool,
// 6 global avg pool, 7 linear.
Quantized quantize_model() {
  Network net = testing::network_from_yaml(kModel, {1, 8, 8, 3}, 4);
  testing::randomize_batchnorm_and_biases(net, 31);
  // HWIO: zero every weight of output channel kZeroChannel of the first conv; folding keeps it zero.
  auto w = net.params().value(net.first_param_slot(0));
  const size_t cout = 6;
  for (size_t i = kZeroChannel; i < w.size(); i += cout) w[i] = 0.0f;
  Quantized q;
  q.folded = fold_batchnorm(net);
  // Ranges by hand, different per tensor so that a tensor taking another's parameters shows: the ReLU6 output gets
  // [0, 8], wider than 6, so its clamp lies inside int8; the pooled tensors get ranges their quantisation must
  // ignore.
  for (size_t t = 0; t < q.folded.tensors.size(); ++t)
    q.ranges.push_back({-0.5 - 0.25 * static_cast<double>(t), 1.0 + 0.75 * static_cast<double>(t)});
  q.ranges[static_cast<size_t>(q.folded.ops[0].output)] = {0.0, 5.0};
  q.ranges[static_cast<size_t>(q.folded.ops[1].output)] = {0.0, 8.0};
  q.model = quantize(q.folded, q.ranges, {0.5f, 0.25f, 0.125f}, {2.0f, 3.0f, 4.0f});
  return q;
}

TEST(Quantize, StructureAndActivationParameters) {
  const Quantized q = quantize_model();
  ASSERT_EQ(q.model.ops.size(), 8U);
  ASSERT_EQ(q.model.tensors.size(), q.folded.tensors.size());
  EXPECT_EQ(q.model.input, q.folded.input);
  EXPECT_EQ(q.model.output, q.folded.output);
  EXPECT_EQ(q.model.input_mean, (std::vector<float>{0.5f, 0.25f, 0.125f}));
  EXPECT_EQ(q.model.input_stddev, (std::vector<float>{2.0f, 3.0f, 4.0f}));
  // Tensors not written by a pool take the parameters of their own range.
  std::vector<bool> pooled(q.model.tensors.size(), false);
  for (const Int8Op& op : q.model.ops)
    pooled[static_cast<size_t>(op.output)] = op.kind == Int8OpKind::max_pool || op.kind == Int8OpKind::avg_pool;
  for (size_t t = 0; t < q.model.tensors.size(); ++t) {
    if (pooled[t]) continue;
    const QuantParams expected = activation_quant(q.ranges[t].min, q.ranges[t].max);
    EXPECT_EQ(q.model.tensors[t].quant.scale, expected.scale) << t;
    EXPECT_EQ(q.model.tensors[t].quant.zero_point, expected.zero_point) << t;
  }
}

TEST(Quantize, WeightsArePerChannelSymmetricWithFullRange) {
  const Quantized q = quantize_model();
  int32_t weighted = 0;
  for (size_t k = 0; k < q.model.ops.size(); ++k) {
    const FloatOp& f = q.folded.ops[k];
    const Int8Op& op = q.model.ops[k];
    if (f.kind != Int8OpKind::conv && f.kind != Int8OpKind::depthwise && f.kind != Int8OpKind::fully_connected)
      continue;
    ++weighted;
    ASSERT_EQ(op.weights.size(), f.weights.size());
    const size_t channels = f.bias.size(), per_channel = f.weights.size() / channels;
    for (size_t c = 0; c < channels; ++c) {
      // Depthwise weights are [kh][kw][c] (channel last), the others output channel first.
      auto index = [&](size_t t) { return f.kind == Int8OpKind::depthwise ? t * channels + c : c * per_channel + t; };
      double max_abs = 0;
      int32_t max_q = 0;
      for (size_t t = 0; t < per_channel; ++t) {
        max_abs = std::max(max_abs, std::abs(static_cast<double>(f.weights[index(t)])));
        max_q = std::max(max_q, std::abs(static_cast<int32_t>(op.weights[index(t)])));
        ASSERT_NE(op.weights[index(t)], -128) << "symmetric weights stay in [-127, 127]";
      }
      if (max_abs == 0) {
        EXPECT_EQ(max_q, 0) << "op " << k << " channel " << c;
        continue;
      }
      EXPECT_EQ(max_q, 127) << "op " << k << " channel " << c;
      const double s_w = max_abs / 127.0;
      for (size_t t = 0; t < per_channel; ++t)
        ASSERT_EQ(op.weights[index(t)], static_cast<int8_t>(std::round(f.weights[index(t)] / s_w)))
            << "op " << k << " channel " << c << " tap " << t;
    }
  }
  EXPECT_EQ(weighted, 4);
  // The zeroed channel really is zero after folding (the test of the all-zero case above ran).
  const FloatOp& first = q.folded.ops[0];
  for (size_t t = 0; t < first.weights.size() / first.bias.size(); ++t)
    ASSERT_EQ(first.weights[kZeroChannel * (first.weights.size() / first.bias.size()) + t], 0.0f);
}

TEST(Quantize, BiasAndRequantisationScales) {
  const Quantized q = quantize_model();
  for (size_t k = 0; k < q.model.ops.size(); ++k) {
    const FloatOp& f = q.folded.ops[k];
    const Int8Op& op = q.model.ops[k];
    if (f.kind != Int8OpKind::conv && f.kind != Int8OpKind::depthwise && f.kind != Int8OpKind::fully_connected)
      continue;
    const double s_in = q.model.tensors[static_cast<size_t>(op.inputs[0])].quant.scale;
    const double s_out = q.model.tensors[static_cast<size_t>(op.output)].quant.scale;
    const size_t channels = f.bias.size(), per_channel = f.weights.size() / channels;
    ASSERT_EQ(op.bias.size(), channels);
    ASSERT_EQ(op.multiplier.size(), channels);
    ASSERT_EQ(op.shift.size(), channels);
    for (size_t c = 0; c < channels; ++c) {
      double max_abs = 0;
      for (size_t t = 0; t < per_channel; ++t) {
        const size_t i = f.kind == Int8OpKind::depthwise ? t * channels + c : c * per_channel + t;
        max_abs = std::max(max_abs, std::abs(static_cast<double>(f.weights[i])));
      }
      // An all-zero channel: the scale is a stand-in (1/127); the bias must still be representable at it.
      const double s_w = max_abs > 0 ? max_abs / 127.0 : 1.0 / 127.0;
      EXPECT_EQ(op.bias[c], static_cast<int32_t>(std::round(f.bias[c] / (s_in * s_w)))) << "op " << k << " ch " << c;
      // The bias really represents the float bias: within half a step of s_in · s_w.
      EXPECT_NEAR(op.bias[c] * s_in * s_w, f.bias[c], 0.5 * s_in * s_w + 1e-12) << "op " << k << " ch " << c;
      const double real = s_in * s_w / s_out;
      const double fixed = op.multiplier[c] / 2147483648.0 * std::ldexp(1.0, op.shift[c]);
      EXPECT_GE(op.multiplier[c], 1 << 30) << "op " << k << " ch " << c;
      EXPECT_NEAR(fixed, real, real * std::ldexp(1.0, -30)) << "op " << k << " ch " << c;
    }
  }
}

TEST(Quantize, FusedActivationClamps) {
  const Quantized q = quantize_model();
  auto out_quant = [&](size_t k) { return q.model.tensors[static_cast<size_t>(q.model.ops[k].output)].quant; };
  // ReLU: the floor is the zero point, no ceiling ([0, 5] has zero point -128).
  const QuantParams relu = out_quant(0);
  EXPECT_EQ(q.model.ops[0].act_min, relu.zero_point);
  EXPECT_EQ(q.model.ops[0].act_min, -128);
  EXPECT_EQ(q.model.ops[0].act_max, 127);
  // ReLU6 over [0, 8]: 6 lands at -128 + round(6 / (8/255)) = -128 + 191 = 63.
  const QuantParams relu6 = out_quant(1);
  EXPECT_EQ(q.model.ops[1].act_min, relu6.zero_point);
  EXPECT_EQ(q.model.ops[1].act_max, relu6.zero_point + static_cast<int32_t>(std::round(6.0 / relu6.scale)));
  EXPECT_EQ(q.model.ops[1].act_max, 63);
  // No activation: the whole int8 range.
  for (const size_t k : {2, 3, 4, 5, 6, 7}) {
    EXPECT_EQ(q.model.ops[k].act_min, -128) << k;
    EXPECT_EQ(q.model.ops[k].act_max, 127) << k;
  }
}

TEST(Quantize, ReluSixClampSaturatesWhenTheRangeEndsBelowSix) {
  Quantized q = quantize_model();
  q.ranges[static_cast<size_t>(q.folded.ops[1].output)] = {0.0, 4.0};  // 6 lies beyond the top code
  const Int8Model m = quantize(q.folded, q.ranges, {}, {});
  EXPECT_EQ(m.ops[1].act_min, -128);
  EXPECT_EQ(m.ops[1].act_max, 127);
}

TEST(Quantize, PoolingKeepsItsInputsParameters) {
  const Quantized q = quantize_model();
  const QuantParams join = q.model.tensors[static_cast<size_t>(q.model.ops[3].output)].quant;
  for (const size_t k : {4, 5}) {
    const Int8Op& op = q.model.ops[k];
    ASSERT_TRUE(op.kind == Int8OpKind::max_pool || op.kind == Int8OpKind::avg_pool) << k;
    const QuantParams in = q.model.tensors[static_cast<size_t>(op.inputs[0])].quant;
    const QuantParams out = q.model.tensors[static_cast<size_t>(op.output)].quant;
    EXPECT_EQ(out.scale, in.scale) << k;
    EXPECT_EQ(out.zero_point, in.zero_point) << k;
    // The chain of pools carries the add's parameters, not the ranges given for the pooled tensors.
    EXPECT_EQ(out.scale, join.scale) << k;
    const QuantParams own = activation_quant(q.ranges[static_cast<size_t>(op.output)].min,
                                             q.ranges[static_cast<size_t>(op.output)].max);
    EXPECT_NE(out.scale, own.scale) << k;
    EXPECT_TRUE(op.multiplier.empty() && op.weights.empty()) << k;
  }
}

// Global average pooling (TFLite's MEAN) gets the scale of its own range, unlike windowed pooling: the mean of a
// map is far below its maximum. It requantises by s_in / (s_out · h · w).
TEST(Quantize, GlobalAveragePoolingHasItsOwnScale) {
  const Quantized q = quantize_model();
  const Int8Op& op = q.model.ops[6];
  ASSERT_EQ(op.kind, Int8OpKind::global_avg_pool);
  const Int8Tensor& in = q.model.tensors[static_cast<size_t>(op.inputs[0])];
  const QuantParams out = q.model.tensors[static_cast<size_t>(op.output)].quant;
  const QuantParams own = activation_quant(q.ranges[static_cast<size_t>(op.output)].min,
                                           q.ranges[static_cast<size_t>(op.output)].max);
  EXPECT_EQ(out.scale, own.scale);
  EXPECT_EQ(out.zero_point, own.zero_point);
  EXPECT_NE(out.scale, in.quant.scale);
  EXPECT_EQ(op.mean.input_offset, -in.quant.zero_point);
  EXPECT_EQ(op.mean.output_offset, out.zero_point);
  EXPECT_EQ(op.mean.act_min, -128);
  EXPECT_EQ(op.mean.act_max, 127);
  EXPECT_EQ(op.act_min, -128);
  EXPECT_EQ(op.act_max, 127);
  const double real = in.quant.scale / (out.scale * in.h * in.w);
  const double fixed = op.mean.multiplier / 2147483648.0 * std::ldexp(1.0, op.mean.shift);
  EXPECT_GE(op.mean.multiplier, 1 << 30);
  EXPECT_NEAR(fixed, real, real * std::ldexp(1.0, -30));
}

TEST(Quantize, AddUsesTheTfliteAddScales) {
  const Quantized q = quantize_model();
  const Int8Op& op = q.model.ops[3];
  ASSERT_EQ(op.kind, Int8OpKind::add);
  const QuantParams a = q.model.tensors[static_cast<size_t>(op.inputs[0])].quant;
  const QuantParams b = q.model.tensors[static_cast<size_t>(op.inputs[1])].quant;
  const QuantParams out = q.model.tensors[static_cast<size_t>(op.output)].quant;
  ASSERT_NE(a.scale, b.scale);  // two different input scales, so a swap of the inputs shows
  const AddScales s = add_scales(a.scale, b.scale, out.scale);
  EXPECT_EQ(op.add.input1_offset, -a.zero_point);
  EXPECT_EQ(op.add.input1_multiplier, s.input1.multiplier);
  EXPECT_EQ(op.add.input1_shift, s.input1.shift);
  EXPECT_EQ(op.add.input2_offset, -b.zero_point);
  EXPECT_EQ(op.add.input2_multiplier, s.input2.multiplier);
  EXPECT_EQ(op.add.input2_shift, s.input2.shift);
  EXPECT_EQ(op.add.left_shift, s.left_shift);
  EXPECT_EQ(op.add.output_offset, out.zero_point);
  EXPECT_EQ(op.add.output_multiplier, s.output.multiplier);
  EXPECT_EQ(op.add.output_shift, s.output.shift);
  EXPECT_EQ(op.add.act_min, -128);
  EXPECT_EQ(op.add.act_max, 127);
  EXPECT_EQ(op.add.act_min, op.act_min);
  EXPECT_EQ(op.add.act_max, op.act_max);
}

TEST(Quantize, RangesMustMatchTheTensors) {
  Quantized q = quantize_model();
  q.ranges.pop_back();
  try {
    quantize(q.folded, q.ranges, {}, {});
    ADD_FAILURE() << "quantize accepted one range too few";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::failure) << e.what();
  }
}

}  // namespace
}  // namespace nas::deploy
