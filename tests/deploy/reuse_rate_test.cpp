// A network with reuse convolutions through the deploy room: folding keeps the projections and the layout, the int8
// model measures each reuse op's rate with the kernel's own cluster count, its latency quantities follow that rate
// (cost_models/kernel_work.h), int8 agrees with float on more than 90 % of the images, and .tflite export is refused.
#include "deploy/reuse_rate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "deploy/fold_batchnorm.h"
#include "deploy/int8_executor.h"
#include "deploy/kernel_call.h"
#include "deploy/post_training.h"
#include "deploy/tflite_export.h"
#include "supernet/reuse_conv2d.h"
#include "tests/common/test_support.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

constexpr const char* kReuseNetwork = R"(
layers:
  - {type: reuse_conv2d, name: r1, out: 8, kernel: 3, padding: 1, bias: false, sub_len: 9, hash_bits: 4}
  - {type: batchnorm}
  - {type: relu}
  - {type: reuse_conv2d, name: r2, out: 12, kernel: 3, stride: 2, padding: 1, sub_len: 16, hash_bits: 6}
  - {type: relu}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

TEST(ReuseDeploy, QuantisedWithMeasuredRatesAndPricedByThem) {
  const supernet::DataSplits data = testing::synthetic_splits();
  supernet::Network net = testing::network_from_yaml(kReuseNetwork, data.train.batch_shape(1), 4);
  testing::randomize_batchnorm_and_biases(net, 5);
  testing::train(net, data.train, 2, 1);
  CalibrationSpec spec;
  spec.images = 64;
  const Int8Model model = quantize_network(net, data, spec);
  ASSERT_EQ(model.ops.front().kind, Int8OpKind::reuse_conv);
  const auto& layer = dynamic_cast<const supernet::ReuseConv2d&>(net.layer(0));
  const Int8Op& r1 = model.ops[0];
  EXPECT_EQ(r1.sub_len, 9);
  EXPECT_EQ(r1.hash_bits, 4);
  // One scale for all projections: the largest is ±127 and every sign is kept.
  ASSERT_EQ(r1.projections.size(), layer.projections().size());
  int max_abs = 0;
  for (size_t i = 0; i < r1.projections.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(int{r1.projections[i]}));
    if (std::abs(layer.projections()[i]) > 1e-2f * 127) {
      EXPECT_EQ(r1.projections[i] > 0, layer.projections()[i] > 0) << i;
    }
  }
  EXPECT_EQ(max_abs, 127);

  // The rate is the kernel's own count, averaged over the calibration images: recomputed here op by op.
  std::vector<double> sum(model.ops.size(), 0.0);
  const int64_t item = data.train.item_size();
  for (int32_t i = 0; i < spec.images; ++i) {
    std::vector<std::vector<int8_t>> values(model.tensors.size());
    for (size_t t = 0; t < values.size(); ++t) values[t].resize(static_cast<size_t>(model.tensors[t].bytes()));
    quantize_input(model, {data.train.images.data() + i * item, static_cast<size_t>(item)},
                   values[static_cast<size_t>(model.input)]);
    for (size_t j = 0; j < model.ops.size(); ++j) {
      const Int8Op& op = model.ops[j];
      const int8_t* in[2] = {values[static_cast<size_t>(op.inputs[0])].data(), nullptr};
      std::vector<uint8_t> scratch(static_cast<size_t>(std::max(1, scratch_bytes(model, op))));
      run_op(model, op, in, values[static_cast<size_t>(op.output)].data(), scratch.data());
      if (op.kind == Int8OpKind::reuse_conv) sum[j] += reuse_rate_on(model, op, in[0]);
    }
  }
  const auto graph = op_graph(model);
  for (size_t j = 0; j < model.ops.size(); ++j) {
    const Int8Op& op = model.ops[j];
    if (op.kind != Int8OpKind::reuse_conv) continue;
    SCOPED_TRACE(op.name);
    EXPECT_NEAR(op.reuse_rate, sum[j] / spec.images, 1e-12);
    EXPECT_GT(op.reuse_rate, 0.0);
    EXPECT_LT(op.reuse_rate, 1.0);
    // The cluster products priced by it: rate × pixels × K × cout, K = 3·3·cin.
    const auto& work = graph.ops[j];
    const KernelCall call = kernel_call(model, op);
    const double pixels = double(call.output.h) * call.output.w, k = 9.0 * call.input.c;
    EXPECT_NEAR(work.tail_macs, op.reuse_rate * pixels * k * call.output.c, 1e-6 * work.tail_macs);
    EXPECT_DOUBLE_EQ(work.macs, pixels * k * call.output.c);
    EXPECT_EQ(work.scratch_bytes, scratch_bytes(model, op));
  }

  // The int8 clusters are formed on rounded inputs and projections, so a few differ from the float ones; the
  // network's predictions still agree.
  Int8Executor executor(model);
  const Int8Evaluation agreement = evaluate_int8(net, executor, data.test);
  EXPECT_GT(agreement.agreement, 0.9) << agreement.float_accuracy << " float, " << agreement.int8_accuracy << " int8";

  // TFLite has no such operator: refused by name.
  const std::string refused = test_support::error_of([&] { tflite_model(model, "test"); });
  EXPECT_TRUE(test_support::contains(refused, "op 'r1' is a reuse convolution (TREC)")) << refused;
}

}  // namespace
}  // namespace nas::deploy
