#include "supernet/conv2d.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/common/test_support.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

using testing::gradcheck;
using testing::kRelativeBound;

struct ConvCase {
  const char* label;
  Shape input;
  Conv2dSpec spec;
};

const ConvCase kCases[] = {
    {"dense 3x3 pad 1", {2, 5, 6, 3}, {4, 3, 3, 1, 1, 1, true}},
    {"dense 3x3 stride 2", {2, 7, 7, 2}, {5, 3, 3, 2, 1, 1, false}},
    {"dense 5x5 pad 2", {1, 6, 5, 2}, {3, 5, 5, 1, 2, 1, true}},
    {"pointwise 1x1", {3, 4, 4, 5}, {6, 1, 1, 1, 0, 1, true}},
    {"1x1 stride 2: some inputs feed no output", {2, 5, 5, 3}, {4, 1, 1, 2, 0, 1, true}},
    {"grouped g=2", {2, 5, 5, 4}, {6, 3, 3, 1, 1, 2, true}},
    {"depthwise 3x3", {2, 6, 6, 5}, {5, 3, 3, 1, 1, 5, true}},
    {"depthwise 5x5 stride 2", {2, 7, 7, 3}, {3, 5, 5, 2, 2, 3, false}},
    {"single input channel (direct path)", {4, 6, 6, 1}, {3, 3, 3, 1, 1, 1, false}},
    {"three input channels stride 2 (direct path)", {3, 7, 7, 3}, {5, 3, 3, 2, 1, 1, true}},
    {"direct path, a full channel block and a remainder", {3, 5, 7, 2}, {20, 3, 3, 1, 1, 1, true}},
    {"direct path, two channel blocks", {2, 6, 6, 1}, {32, 3, 3, 1, 1, 1, false}},
    // DS-CNN's first layer in small: a 10x4 kernel at stride 2 with TensorFlow's "same" padding (4 top, 5 bottom,
    // 1 left and right on 13x6), and other non-square strides and uneven pads.
    {"10x4 stride 2, same padding", {2, 13, 6, 1}, {3, 10, 4, 2, 4, 1, true, false, 2, 1, 5, 1}},
    {"3x5 stride 2x1, pads 0/2/1/1", {2, 7, 6, 2}, {4, 3, 5, 2, 0, 1, false, false, 1, 1, 2, 1}},
    {"depthwise 3x3 stride 1x2, pads 1/0/0/1", {2, 6, 7, 3}, {3, 3, 3, 1, 1, 3, false, true, 2, 0, 0, 1}},
};

// Direct convolution straight from the definition, weights [KH][KW][Cin/g][Cout]; strides and pads per side as the
// spec states them (-1: the square `stride` / `padding`).
Tensor naive_conv(const Tensor& in, const std::vector<float>& w, const std::vector<float>& b, const Conv2dSpec& s) {
  const Shape is = in.shape();
  auto either = [](int32_t v, int32_t square) { return v >= 0 ? v : square; };
  const int32_t sh = s.stride, sw = either(s.stride_w, s.stride), top = s.padding,
                left = either(s.pad_left, s.padding), bottom = either(s.pad_bottom, s.padding),
                right = either(s.pad_right, s.padding);
  const int32_t oh_n = (is.h + top + bottom - s.kernel_h) / sh + 1;
  const int32_t ow_n = (is.w + left + right - s.kernel_w) / sw + 1;
  const int32_t cin_g = is.c / s.groups, cout_g = s.out_channels / s.groups;
  Tensor out({is.n, oh_n, ow_n, s.out_channels});
  for (int32_t n = 0; n < is.n; ++n)
    for (int32_t oh = 0; oh < oh_n; ++oh)
      for (int32_t ow = 0; ow < ow_n; ++ow)
        for (int32_t co = 0; co < s.out_channels; ++co) {
          const int32_t g = co / cout_g;
          double acc = s.bias ? b[static_cast<size_t>(co)] : 0.0;
          for (int32_t kh = 0; kh < s.kernel_h; ++kh)
            for (int32_t kw = 0; kw < s.kernel_w; ++kw)
              for (int32_t ci = 0; ci < cin_g; ++ci) {
                const int32_t ih = oh * sh - top + kh, iw = ow * sw - left + kw;
                if (ih < 0 || ih >= is.h || iw < 0 || iw >= is.w) continue;
                const float x = in.item(n)[(ih * is.w + iw) * is.c + g * cin_g + ci];
                acc += x * w[static_cast<size_t>(((kh * s.kernel_w + kw) * cin_g + ci) * s.out_channels + co)];
              }
          out.item(n)[(oh * ow_n + ow) * s.out_channels + co] = static_cast<float>(acc);
        }
  return out;
}

TEST(Conv2d, ForwardMatchesDirectDefinition) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    Conv2d conv(c.spec);
    ParamStore store = testing::prepare_layer(conv, {c.input}, 3);
    Rng rng(3);
    for (float& v : store.theta()) v = static_cast<float>(rng.normal());
    Tensor in(c.input);
    for (int64_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(rng.normal());
    Tensor out;
    const Tensor* ins[] = {&in};
    conv.forward(ins, out, true);

    const auto theta = store.theta();
    const int64_t weights = theta.size() - (c.spec.bias ? c.spec.out_channels : 0);
    const std::vector<float> w(theta.begin(), theta.begin() + weights), b(theta.begin() + weights, theta.end());
    const Tensor expected = naive_conv(in, w, b, c.spec);
    ASSERT_EQ(out.shape(), expected.shape());
    for (int64_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected[i], 1e-4) << "element " << i;
  }
}

TEST(Conv2d, GradientsMatchCentralDifferences) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    Conv2d conv(c.spec);
    const auto report = gradcheck(conv, {c.input});
    EXPECT_LT(report.relative_error, kRelativeBound) << report.worst;
    EXPECT_GT(report.checked, 0);
  }
}

TEST(Conv2d, GradientsAreIndependentOfThreadCountAndChunking) {
  // A batch large enough to split into several chunks: the weight gradient is summed per chunk in fixed order.
  Conv2d a({8, 3, 3, 1, 1, 1, true}), b({8, 3, 3, 1, 1, 1, true});
  const Shape shape{40, 10, 10, 4};
  testing::GradCheckOptions options;
  options.max_checks = 50;
  const auto ra = gradcheck(a, {shape}, options);
  const auto rb = gradcheck(b, {shape}, options);
  EXPECT_EQ(ra.relative_error, rb.relative_error);  // bit-identical runs
  EXPECT_LT(ra.relative_error, kRelativeBound) << ra.worst;
}

// A narrower 1×1 convolution computing with the centre taps of a 3×3 one, input channels {1, 3} of its 4 and
// output channels {5, 0} of its 6; maps that are not one-to-one or leave the larger's channels are refused.
TEST(Conv2d, SharesMappedChannelsOfALargerConvolution) {
  Conv2d big({6, 3, 3, 1, 1, 1, false});
  ParamStore store = testing::prepare_layer(big, {{1, 5, 5, 4}}, 3);
  const std::vector<float> big_w = big.weights();  // [3][3][4][6]
  auto narrow = [&](std::vector<int32_t> in_map, std::vector<int32_t> out_map) {
    auto small = std::make_unique<Conv2d>(Conv2dSpec{2, 1, 1, 1, 0, 1, false});
    small->share_weights_of(&big, std::move(in_map), std::move(out_map));
    const Shape in[] = {{1, 5, 5, 2}};
    small->output_shape(in);
    ParamStore own;
    small->declare(own);
    own.allocate();
    small->bind(own);
    return small;
  };
  const std::vector<float> w = narrow({1, 3}, {5, 0})->weights();  // [1][1][2][2]
  const int32_t in_map[] = {1, 3}, out_map[] = {5, 0};
  ASSERT_EQ(w.size(), 4u);
  for (int32_t i = 0; i < 2; ++i)
    for (int32_t o = 0; o < 2; ++o)
      EXPECT_EQ(w[static_cast<size_t>(i * 2 + o)], big_w[static_cast<size_t>(((1 * 3 + 1) * 4 + in_map[i]) * 6 +
                                                                              out_map[o])]);
  const std::string refused = "conv2d: cannot share the weights of a convolution of another shape";
  EXPECT_EQ(test_support::error_of([&] { narrow({1, 1}, {5, 0}); }), refused);  // two channels onto one
  EXPECT_EQ(test_support::error_of([&] { narrow({1, 4}, {5, 0}); }), refused);  // the larger has 4 inputs
  EXPECT_EQ(test_support::error_of([&] { narrow({}, {5, 0}); }), refused);      // 2 inputs are not its 4
}

TEST(Conv2d, RejectsImpossibleShapes) {
  const Shape in[] = {{1, 5, 5, 3}};
  auto message = [&](Conv2dSpec spec) {
    return test_support::error_of([&] { Conv2d(spec).output_shape(in); });
  };
  EXPECT_EQ(message({4, 3, 3, 1, 1, 2, true}),
            "conv2d: groups (2) must divide input channels (3) and output channels (4)");
  EXPECT_EQ(message({4, 7, 7, 1, 0, 1, true}), "conv2d: kernel 7x7 larger than padded input 5x5");
  EXPECT_EQ(message({0, 3, 3, 1, 1, 1, true}), "conv2d: out channels must be positive (got 0)");
  EXPECT_EQ(message({4, 3, 3, 0, 1, 1, true}), "conv2d: stride must be positive (got 0)");
  EXPECT_EQ(message({4, 3, 3, 1, -1, 1, true}), "conv2d: padding must be >= 0 (got -1)");
}

}  // namespace
}  // namespace nas::supernet
