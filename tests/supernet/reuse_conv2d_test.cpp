#include "supernet/reuse_conv2d.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "supernet/network_builder.h"
#include "tests/common/test_support.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

using testing::GradCheckOptions;
using testing::GradientComparison;
using testing::kRelativeBound;
using testing::prepare_layer;

// The layer's definition (supernet/reuse_conv2d.h) written out plainly, in double: the im2col rows, the codes, the
// clusters of each block by std::map, their means, and each member's centroid times its block of weights.
struct Naive {
  int32_t n_pixels = 0, blocks = 0, len = 0, bits = 0, cout = 0;
  int64_t k = 0;
  std::vector<std::vector<double>> rows;             // per pixel, nb·L values (zero tail)
  std::vector<std::vector<int32_t>> code;            // [pixel][block]
  std::vector<std::map<int32_t, std::vector<double>>> centroid;  // [block] code → centroid
  std::vector<double> out;                           // pixels × cout
  double tau = 1;
};

Naive naive(const ReuseConv2d& layer, const float* image, Shape in, const float* bias, float temperature) {
  const Conv2dSpec& s = layer.conv_spec();
  const Conv2dGeometry& g = layer.geometry();
  Naive r;
  r.len = layer.reuse_spec().sub_len;
  r.bits = layer.reuse_spec().hash_bits;
  r.cout = s.out_channels;
  r.k = int64_t{s.kernel_h} * s.kernel_w * in.c;
  r.blocks = static_cast<int32_t>((r.k + r.len - 1) / r.len);
  const int32_t oh_n = (in.h + g.pad_top + g.pad_bottom - s.kernel_h) / g.stride_h + 1;
  const int32_t ow_n = (in.w + g.pad_left + g.pad_right - s.kernel_w) / g.stride_w + 1;
  r.n_pixels = oh_n * ow_n;
  const auto p = layer.projections();
  const auto w = layer.weights();
  double z_sq = 0;
  for (int32_t oh = 0; oh < oh_n; ++oh)
    for (int32_t ow = 0; ow < ow_n; ++ow) {
      std::vector<double> row(static_cast<size_t>(r.blocks * r.len), 0.0);
      for (int32_t kh = 0; kh < s.kernel_h; ++kh)
        for (int32_t kw = 0; kw < s.kernel_w; ++kw)
          for (int32_t c = 0; c < in.c; ++c) {
            const int32_t ih = oh * g.stride_h - g.pad_top + kh, iw = ow * g.stride_w - g.pad_left + kw;
            if (ih >= 0 && ih < in.h && iw >= 0 && iw < in.w)
              row[static_cast<size_t>((kh * s.kernel_w + kw) * in.c + c)] = image[(ih * in.w + iw) * in.c + c];
          }
      std::vector<int32_t> codes;
      for (int32_t j = 0; j < r.blocks; ++j) {
        int32_t code = 0;
        for (int32_t h = 0; h < r.bits; ++h) {
          double z = 0;
          for (int32_t i = 0; i < r.len; ++i)
            z += row[static_cast<size_t>(j * r.len + i)] * p[static_cast<size_t>(i * r.bits + h)];
          z_sq += z * z;
          if (z > 0) code |= 1 << h;
        }
        codes.push_back(code);
      }
      r.rows.push_back(row);
      r.code.push_back(codes);
    }
  r.tau = temperature * std::sqrt(z_sq / (double(r.n_pixels) * r.blocks * r.bits));
  r.centroid.resize(static_cast<size_t>(r.blocks));
  for (int32_t j = 0; j < r.blocks; ++j) {
    std::map<int32_t, int32_t> count;
    for (int32_t n = 0; n < r.n_pixels; ++n) {
      auto& c = r.centroid[static_cast<size_t>(j)][r.code[static_cast<size_t>(n)][static_cast<size_t>(j)]];
      c.resize(static_cast<size_t>(r.len), 0.0);
      const auto& row = r.rows[static_cast<size_t>(n)];
      for (int32_t i = 0; i < r.len; ++i) c[static_cast<size_t>(i)] += row[static_cast<size_t>(j * r.len + i)];
      ++count[r.code[static_cast<size_t>(n)][static_cast<size_t>(j)]];
    }
    for (auto& [code, c] : r.centroid[static_cast<size_t>(j)])
      for (double& v : c) v /= count[code];
  }
  r.out.assign(static_cast<size_t>(r.n_pixels * r.cout), 0.0);
  for (int32_t n = 0; n < r.n_pixels; ++n)
    for (int32_t o = 0; o < r.cout; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int32_t j = 0; j < r.blocks; ++j) {
        const auto& c = r.centroid[static_cast<size_t>(j)].at(r.code[static_cast<size_t>(n)][static_cast<size_t>(j)]);
        for (int32_t i = 0; i < r.len && j * r.len + i < r.k; ++i)
          acc += c[static_cast<size_t>(i)] * w[static_cast<size_t>((j * r.len + i) * r.cout + o)];
      }
      r.out[static_cast<size_t>(n * r.cout + o)] = acc;
    }
  return r;
}

struct ReuseCase {
  const char* label;
  Shape input;
  Conv2dSpec conv;
  ReuseSpec reuse;
};

const ReuseCase kCases[] = {
    {"3x3 pad 1, L divides K", {2, 6, 5, 4}, {5, 3, 3, 1, 1, 1, true}, {12, 3}},
    {"3x3 stride 2, L leaves a short last block", {2, 7, 7, 3}, {4, 3, 3, 2, 1, 1, true}, {5, 4}},
    {"1x1, one bit", {1, 5, 5, 6}, {3, 1, 1, 1, 0, 1, false}, {3, 1}},
    {"5x5 one channel, eight bits", {2, 8, 8, 1}, {6, 5, 5, 1, 2, 1, true}, {5, 8}},
    {"3x3 stride 2x1, uneven pads", {1, 7, 6, 2}, {3, 3, 3, 2, 0, 1, true, false, 1, 1, 2, 1}, {4, 2}},
};

void randomise(std::span<float> values, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  for (float& v : values) v = static_cast<float>(rng.normal()) * scale;
}

TEST(ReuseConv2d, ForwardIsTheDefinition) {
  for (const auto& tc : kCases) {
    SCOPED_TRACE(tc.label);
    ReuseConv2d layer(tc.conv, tc.reuse);
    ParamStore store = prepare_layer(layer, {tc.input}, 3);
    randomise(store.theta(), 4, 0.5f);
    Tensor in(tc.input), out;
    randomise(in.span(), 5);
    const Tensor* ins[] = {&in};
    layer.forward(ins, out, true);
    const float* bias = tc.conv.bias ? store.value(1).data() : nullptr;
    int64_t clusters = 0;
    for (int32_t b = 0; b < tc.input.n; ++b) {
      const Naive r = naive(layer, in.item(b), tc.input, bias, 1.0f);
      for (size_t i = 0; i < r.out.size(); ++i) ASSERT_NEAR(out.item(b)[i], r.out[i], 1e-4 * (1 + std::abs(r.out[i])));
      for (const auto& block : r.centroid) clusters += static_cast<int64_t>(block.size());
    }
    EXPECT_NEAR(layer.last_reuse_rate(), double(clusters) / (double(tc.input.n) * out.shape().h * out.shape().w *
                                                             double(layer.blocks())), 1e-12);
    EXPECT_LT(layer.last_reuse_rate(), 1.0);  // the cases are chosen so that clusters do form
  }
}

// With one output pixel every cluster has one member, its centroid is the member: the dense convolution.
TEST(ReuseConv2d, OneMemberPerClusterIsTheDenseConvolution) {
  const Shape input{3, 3, 3, 5};
  const Conv2dSpec spec{7, 3, 3, 1, 0, 1, true};
  ReuseConv2d reuse(spec, {4, 3});
  Conv2d dense(spec);
  ParamStore rs = prepare_layer(reuse, {input}, 1), ds = prepare_layer(dense, {input}, 1);
  randomise(rs.theta(), 2);
  std::copy_n(rs.value(0).data(), rs.value(0).size(), ds.value(0).data());
  std::copy_n(rs.value(1).data(), rs.value(1).size(), ds.value(1).data());
  Tensor in(input), a, b;
  randomise(in.span(), 6);
  const Tensor* ins[] = {&in};
  reuse.forward(ins, a, true);
  dense.forward(ins, b, true);
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4);
  EXPECT_DOUBLE_EQ(reuse.last_reuse_rate(), 1.0);
}

TEST(ReuseConv2d, ZeroProjectionsMakeOneClusterPerBlock) {
  const Shape input{2, 6, 6, 3};
  ReuseConv2d layer({4, 3, 3, 1, 1, 1, true}, {9, 4});
  ParamStore store = prepare_layer(layer, {input}, 1);
  std::fill(store.value(2).begin(), store.value(2).end(), 0.0f);
  Tensor in(input), out;
  randomise(in.span(), 3);
  const Tensor* ins[] = {&in};
  layer.forward(ins, out, true);
  EXPECT_DOUBLE_EQ(layer.last_reuse_rate(), 1.0 / 36.0);
}

// Weights, bias and input: the exact gradient of the hard forward. The projections are unit vectors on the first H
// coordinates and every input is at least 0.5 away from 0, so no perturbation of the check moves a sub-vector to
// another cluster (a padded tap is exactly 0 and never perturbed).
TEST(ReuseConv2d, GradientsOfWeightsBiasAndInput) {
  for (const auto& tc : kCases) {
    if (tc.reuse.sub_len < tc.reuse.hash_bits) continue;
    SCOPED_TRACE(tc.label);
    ReuseConv2d layer(tc.conv, tc.reuse);
    ParamStore store = prepare_layer(layer, {tc.input}, 3);
    const int32_t bits = tc.reuse.hash_bits;
    auto proj = store.value(static_cast<int32_t>(store.slots().size()) - 1);
    std::fill(proj.begin(), proj.end(), 0.0f);
    for (int32_t h = 0; h < bits; ++h) proj[static_cast<size_t>(h * bits + h)] = 1.0f;
    Tensor in(tc.input), out, grad_in;
    Rng rng(9);
    for (float& v : in.span()) {
      const double d = rng.normal();
      v = static_cast<float>(d < 0 ? d - 0.5 : d + 0.5);
    }
    Tensor r(layer.output_shape(std::vector<Shape>{tc.input}));
    randomise(r.span(), 10);
    const Tensor* ins[] = {&in};
    Tensor* grads[] = {&grad_in};
    auto loss = [&] {
      layer.forward(ins, out, true);
      double sum = 0;
      for (int64_t i = 0; i < out.size(); ++i) sum += double{out[i]} * r[i];
      return sum;
    };
    loss();
    const double rate = layer.last_reuse_rate();
    EXPECT_LT(rate, 1.0);
    layer.backward(ins, out, r, grads);
    GradCheckOptions options;
    options.h = 1e-2;
    GradientComparison comparison(options);
    comparison.check(in.span(), grad_in.span(), loss, "input");
    const std::vector<float> dw(store.grad(0).begin(), store.grad(0).end());
    comparison.check(store.value(0), dw, loss, "weight");
    if (tc.conv.bias) {
      const std::vector<float> db(store.grad(1).begin(), store.grad(1).end());
      comparison.check(store.value(1), db, loss, "bias");
    }
    const auto report = comparison.finish();
    EXPECT_DOUBLE_EQ(layer.last_reuse_rate(), rate);  // the perturbations moved no sub-vector
    EXPECT_LT(report.relative_error, kRelativeBound) << report.worst;
  }
}

// The projections: the layer's gradient is the derivative of the surrogate in the header, written here from the
// definition (clusters, centroids and τ frozen at P₀; t = tanh(z(P) / τ) live) and differentiated numerically.
TEST(ReuseConv2d, ProjectionGradientIsTheSurrogates) {
  for (const auto& tc : kCases) {
    SCOPED_TRACE(tc.label);
    ReuseConv2d layer(tc.conv, tc.reuse);
    ParamStore store = prepare_layer(layer, {tc.input}, 3);
    randomise(store.theta(), 4, 0.5f);
    Tensor in(tc.input), out, grad_in;
    randomise(in.span(), 5);
    const Shape out_shape = layer.output_shape(std::vector<Shape>{tc.input});
    Tensor r(out_shape);
    randomise(r.span(), 11);
    const Tensor* ins[] = {&in};
    Tensor* grads[] = {&grad_in};
    layer.forward(ins, out, true);
    layer.backward(ins, out, r, grads);
    const int32_t proj_slot = static_cast<int32_t>(store.slots().size()) - 1;
    const std::vector<float> dp(store.grad(proj_slot).begin(), store.grad(proj_slot).end());
    const float* bias = tc.conv.bias ? store.value(1).data() : nullptr;

    std::vector<Naive> anchor;  // at P₀
    for (int32_t b = 0; b < tc.input.n; ++b) anchor.push_back(naive(layer, in.item(b), tc.input, bias, 1.0f));
    const auto w = layer.weights();
    auto surrogate = [&] {
      const auto p = layer.projections();
      double sum = 0;
      for (int32_t b = 0; b < tc.input.n; ++b) {
        const Naive& a = anchor[static_cast<size_t>(b)];
        const float* rb = r.item(b);
        for (int32_t n = 0; n < a.n_pixels; ++n)
          for (int32_t j = 0; j < a.blocks; ++j) {
            const auto& row = a.rows[static_cast<size_t>(n)];
            const int32_t code = a.code[static_cast<size_t>(n)][static_cast<size_t>(j)];
            const auto& block = a.centroid[static_cast<size_t>(j)];
            const auto& ck = block.at(code);
            for (int32_t h = 0; h < a.bits; ++h) {
              double z = 0;
              for (int32_t i = 0; i < a.len; ++i)
                z += row[static_cast<size_t>(j * a.len + i)] * p[static_cast<size_t>(i * a.bits + h)];
              const auto reached_it = block.find(code ^ (1 << h));
              std::vector<double> reached(static_cast<size_t>(a.len));
              for (int32_t i = 0; i < a.len; ++i)
                reached[static_cast<size_t>(i)] = reached_it != block.end() ? reached_it->second[static_cast<size_t>(i)]
                                                                            : row[static_cast<size_t>(j * a.len + i)];
              const double sign = (code & (1 << h)) ? -1.0 : 1.0;
              const double t = std::tanh(z / a.tau);
              for (int32_t o = 0; o < a.cout; ++o) {
                double delta_out = 0;  // W_jᵀ (c_{h=1} − c_{h=0}) / 2 for output o
                for (int32_t i = 0; i < a.len && j * a.len + i < a.k; ++i)
                  delta_out += sign * (reached[static_cast<size_t>(i)] - ck[static_cast<size_t>(i)]) / 2 *
                               w[static_cast<size_t>((j * a.len + i) * a.cout + o)];
                sum += t * delta_out * rb[n * a.cout + o];  // the constant −t(P₀) term drops out of the derivative
              }
            }
          }
      }
      return sum;
    };
    GradCheckOptions options;
    options.h = 1e-3;
    GradientComparison comparison(options);
    comparison.check(store.value(proj_slot), dp, surrogate, "projection");
    const auto report = comparison.finish();
    EXPECT_LT(report.relative_error, kRelativeBound) << report.worst;
    double size = 0;
    for (const float v : dp) size += std::abs(v);
    EXPECT_GT(size, 0.0);  // the surrogate does reach the projections
  }
}

TEST(ReuseConv2d, BuiltFromModelYamlAndBadSettingsRefused) {
  Network net = build_network(
      YAML::Load("layers: [{type: reuse_conv2d, out: 4, kernel: 3, padding: 1, sub_len: 6, hash_bits: 3},"
                 " {type: global_avg_pool}, {type: linear, out: 3}]"),
      {1, 6, 6, 2}, 3, 1);
  ASSERT_EQ(net.size(), 3);
  EXPECT_EQ(net.layer(0).type(), "reuse_conv2d");
  EXPECT_EQ(net.output_shape(0), (Shape{1, 6, 6, 4}));
  Tensor in({1, 6, 6, 2});
  randomise(in.span(), 1);
  EXPECT_EQ(net.forward(in, false).shape(), (Shape{1, 1, 1, 3}));
  const std::string bad = test_support::error_of([] {
    build_network(YAML::Load("layers: [{type: reuse_conv2d, out: 4, hash_bits: 9}]"), {1, 6, 6, 2}, 3, 1);
  });
  EXPECT_TRUE(test_support::contains(bad, "hash_bits must be 1 to 8 (got 9)")) << bad;
}

}  // namespace
}  // namespace nas::supernet
