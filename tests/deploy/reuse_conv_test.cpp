// The reuse convolution (deploy/kernels/reuse_conv_s8.c, TREC) against a naive reference written here from the
// definition in mcunas_kernels.h: the whole im2col matrix with padding zeros, sub-vectors grouped by code in a
// std::map, 64-bit sums and products. Only the last step, requantisation, is shared (requantize.h, tested on its
// own in requantize_test.cpp), so any difference lies in the clustering arithmetic. Outputs must match bit for bit
// and the cluster counts exactly, on random shapes, block lengths, hash widths and projections; the scratch must
// hold to its documented size at any alignment.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "mcunas_kernels.h"
#include "requantize.h"

namespace {

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  int32_t between(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng_); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(between(0, static_cast<int32_t>(v.size()) - 1))];
  }
  // Uniform values, only the extremes -128 / 127, or a few distinct values (large clusters of equal sub-vectors,
  // where the centroid's rounding is exercised on sums of many members).
  std::vector<int8_t> int8s(size_t count, int kind) {
    std::vector<int8_t> v(count);
    for (auto& x : v)
      x = static_cast<int8_t>(kind == 1 ? (between(0, 1) ? 127 : -128)
                              : kind == 2 ? between(-3, 3) * 40 + between(0, 1)
                                          : between(-128, 127));
    return v;
  }

 private:
  std::mt19937 rng_;
};

// A random convolution and its reuse parameters, with everything the kernel reads.
struct Case {
  int32_t n = 1, in_h = 1, in_w = 1, in_c = 1, out_c = 1, k_h = 1, k_w = 1;
  int32_t out_h = 1, out_w = 1;
  mcunas_conv_params p{};
  int32_t sub_len = 1, hash_bits = 1;
  std::vector<int8_t> projections, input, weights;
  std::vector<int32_t> bias, multiplier, shift;
  bool has_bias = true;

  int32_t k() const { return k_h * k_w * in_c; }
  int32_t blocks() const { return (k() + sub_len - 1) / sub_len; }
  mcunas_dims in_dims() const { return {n, in_h, in_w, in_c}; }
  mcunas_dims filter_dims() const { return {out_c, k_h, k_w, in_c}; }
  mcunas_dims out_dims() const { return {n, out_h, out_w, out_c}; }
  mcunas_reuse_params reuse() const { return {sub_len, hash_bits, projections.data()}; }
  mcunas_channel_quant quant() const { return {multiplier.data(), shift.data()}; }
  size_t output_size() const { return static_cast<size_t>(n) * out_h * out_w * out_c; }
};

// One spatial axis: TFLite "valid" (no padding) or "same" (out = ceil(in / stride), the leading pad half the total,
// rounded down), or an explicit leading pad of 0..2 with the output size that pad on both sides gives.
bool axis(Random& r, int32_t in, int32_t k, int32_t stride, int32_t& pad, int32_t& out) {
  switch (r.between(0, 2)) {
    case 0:
      pad = 0;
      out = in >= k ? (in - k) / stride + 1 : 0;
      break;
    case 1:
      out = (in + stride - 1) / stride;
      pad = std::max((out - 1) * stride + k - in, 0) / 2;
      break;
    default:
      pad = r.between(0, 2);
      out = in + 2 * pad >= k ? (in + 2 * pad - k) / stride + 1 : 0;
  }
  return out >= 1 && pad <= 2;
}

Case random_case(Random& r) {
  Case c;
  for (;;) {
    c.n = r.between(1, 2);
    c.in_h = r.between(1, 16);
    c.in_w = r.between(1, 16);
    c.in_c = r.between(1, 24);
    c.out_c = r.between(1, 24);
    const std::vector<std::pair<int32_t, int32_t>> kernels = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {3, 1}};
    const auto kernel = r.pick(kernels);
    c.k_h = kernel.first;
    c.k_w = kernel.second;
    c.p.stride_h = r.between(1, 2);
    c.p.stride_w = r.between(0, 2) ? c.p.stride_h : 3 - c.p.stride_h;  // non-square strides one case in three
    if (axis(r, c.in_h, c.k_h, c.p.stride_h, c.p.pad_h, c.out_h) &&
        axis(r, c.in_w, c.k_w, c.p.stride_w, c.p.pad_w, c.out_w))
      break;
  }
  const int32_t zp_in = r.between(-128, 127), zp_out = r.between(-128, 127);
  c.p.input_offset = -zp_in;
  c.p.output_offset = zp_out;
  c.p.act_min = r.between(0, 1) ? zp_out : -128;  // ReLU or none
  c.p.act_max = r.between(0, 3) ? 127 : r.between(c.p.act_min, 127);
  const int32_t k = c.k();
  c.sub_len = r.pick(std::vector<int32_t>{1, 2, 3, 4, 7, 8, 9, 16, k, k + 3});
  c.hash_bits = r.between(1, 8);
  c.projections.resize(static_cast<size_t>(c.sub_len) * c.hash_bits);
  const int projection_kind = r.between(0, 5);  // all zero, signs, or uniform
  for (auto& x : c.projections)
    x = static_cast<int8_t>(projection_kind == 0 ? 0 : projection_kind == 1 ? r.between(-1, 1) : r.between(-128, 127));
  const int kind = r.between(0, 3) == 0 ? 1 : r.between(0, 2) == 0 ? 2 : 0;
  c.input = r.int8s(static_cast<size_t>(c.n) * c.in_h * c.in_w * c.in_c, kind);
  c.weights = r.int8s(static_cast<size_t>(c.out_c) * k, kind == 1 ? 1 : 0);
  c.has_bias = r.between(0, 3) != 0;
  for (int32_t o = 0; o < c.out_c; ++o) {
    c.bias.push_back(r.between(-(1 << 16), 1 << 16));
    c.multiplier.push_back(r.between(1 << 30, INT32_MAX));
    c.shift.push_back(r.between(0, 3) == 0 ? r.between(-31, -20) : r.between(-12, 2));
  }
  return c;
}

struct Reference {
  std::vector<int8_t> output;
  int64_t clusters = 0;
};

// The definition, spelled out: im2col, then per block a map from code to its members' sums.
Reference reference(const Case& c) {
  const int32_t k = c.k(), pixels = c.out_h * c.out_w, len_max = c.sub_len, bits = c.hash_bits;
  Reference ref;
  ref.output.resize(c.output_size());
  for (int32_t b = 0; b < c.n; ++b) {
    std::vector<std::vector<int64_t>> rows(static_cast<size_t>(pixels), std::vector<int64_t>(static_cast<size_t>(k)));
    for (int32_t oy = 0; oy < c.out_h; ++oy)
      for (int32_t ox = 0; ox < c.out_w; ++ox)
        for (int32_t ky = 0; ky < c.k_h; ++ky)
          for (int32_t kx = 0; kx < c.k_w; ++kx)
            for (int32_t ch = 0; ch < c.in_c; ++ch) {
              const int32_t iy = oy * c.p.stride_h - c.p.pad_h + ky, ix = ox * c.p.stride_w - c.p.pad_w + kx;
              const bool inside = iy >= 0 && iy < c.in_h && ix >= 0 && ix < c.in_w;
              rows[static_cast<size_t>(oy * c.out_w + ox)][static_cast<size_t>((ky * c.k_w + kx) * c.in_c + ch)] =
                  inside ? c.input[((static_cast<size_t>(b) * c.in_h + iy) * c.in_w + ix) * c.in_c + ch] +
                               c.p.input_offset
                         : 0;
            }
    std::vector<std::vector<int64_t>> acc(static_cast<size_t>(pixels),
                                          std::vector<int64_t>(static_cast<size_t>(c.out_c)));
    for (auto& a : acc)
      for (int32_t o = 0; o < c.out_c; ++o) a[static_cast<size_t>(o)] = c.has_bias ? c.bias[static_cast<size_t>(o)] : 0;
    for (int32_t start = 0; start < k; start += len_max) {
      const int32_t len = std::min(len_max, k - start);
      struct Cluster {
        int64_t count = 0;
        std::vector<int64_t> sum;
        std::vector<int32_t> members;
      };
      std::map<uint32_t, Cluster> clusters;
      for (int32_t n = 0; n < pixels; ++n) {
        const auto& row = rows[static_cast<size_t>(n)];
        uint32_t code = 0;
        for (int32_t h = 0; h < bits; ++h) {
          int64_t z = 0;
          for (int32_t i = 0; i < len; ++i)
            z += row[static_cast<size_t>(start + i)] * c.projections[static_cast<size_t>(i * bits + h)];
          if (z > 0) code |= 1u << h;
        }
        Cluster& cl = clusters[code];
        if (cl.sum.empty()) cl.sum.assign(static_cast<size_t>(len), 0);
        ++cl.count;
        for (int32_t i = 0; i < len; ++i) cl.sum[static_cast<size_t>(i)] += row[static_cast<size_t>(start + i)];
        cl.members.push_back(n);
      }
      ref.clusters += static_cast<int64_t>(clusters.size());
      for (const auto& [code, cl] : clusters) {
        std::vector<int64_t> centroid(static_cast<size_t>(len));
        for (int32_t i = 0; i < len; ++i) {
          // Half away from zero, written on the magnitude: round(|s| / count), the sign put back.
          const int64_t s = cl.sum[static_cast<size_t>(i)], magnitude = s < 0 ? -s : s;
          const int64_t rounded = (2 * magnitude + cl.count) / (2 * cl.count);
          centroid[static_cast<size_t>(i)] = s < 0 ? -rounded : rounded;
        }
        for (int32_t o = 0; o < c.out_c; ++o) {
          int64_t t = 0;
          for (int32_t i = 0; i < len; ++i)
            t += centroid[static_cast<size_t>(i)] * c.weights[static_cast<size_t>(o) * k + start + i];
          for (const int32_t n : cl.members) acc[static_cast<size_t>(n)][static_cast<size_t>(o)] += t;
        }
      }
    }
    for (int32_t n = 0; n < pixels; ++n)
      for (int32_t o = 0; o < c.out_c; ++o) {
        const int64_t a = acc[static_cast<size_t>(n)][static_cast<size_t>(o)];
        EXPECT_TRUE(a >= INT32_MIN && a <= INT32_MAX);
        ref.output[(static_cast<size_t>(b) * pixels + n) * c.out_c + o] =
            mcunas_requantize_to_s8(static_cast<int32_t>(a), c.multiplier[static_cast<size_t>(o)],
                                    c.shift[static_cast<size_t>(o)], c.p.output_offset, c.p.act_min, c.p.act_max);
      }
  }
  return ref;
}

// The scratch size the header documents, computed here on its own.
int64_t documented_scratch(const Case& c) {
  const int64_t pixels = static_cast<int64_t>(c.out_h) * c.out_w, codes = int64_t{1} << c.hash_bits;
  const int64_t rounded = (c.sub_len + 3) / 4 * 4;  // L rounded up to a multiple of 4
  return 3 + 4 * pixels * c.out_c + 4 * codes + 4 * codes * c.sub_len + 4 * codes * c.out_c +
         2 * c.hash_bits * rounded + 2 * rounded + 2 * codes + pixels;
}

constexpr uint8_t kGuard = 0xa5;
constexpr size_t kGuardBytes = 64;

// The kernel on a scratch `offset` bytes into a guarded buffer; fails the test when it writes outside its bytes.
int32_t run_kernel(const Case& c, std::vector<int8_t>& out, size_t offset) {
  const auto reuse = c.reuse();
  const auto quant = c.quant();
  const auto in = c.in_dims(), f = c.filter_dims(), o = c.out_dims();
  const int32_t bytes = mcunas_reuse_conv_s8_scratch_bytes(&reuse, &in, &f, &o);
  EXPECT_EQ(bytes, documented_scratch(c));
  std::vector<uint8_t> buffer(offset + static_cast<size_t>(bytes) + kGuardBytes, kGuard);
  out.assign(c.output_size(), 0);
  const int32_t clusters = mcunas_reuse_conv_s8(&c.p, &reuse, &quant, &in, c.input.data(), &f, c.weights.data(),
                                                c.has_bias ? c.bias.data() : nullptr, &o, out.data(),
                                                buffer.data() + offset);
  for (size_t i = 0; i < offset; ++i) EXPECT_EQ(buffer[i], kGuard) << "written before the scratch, byte " << i;
  for (size_t i = offset + static_cast<size_t>(bytes); i < buffer.size(); ++i)
    EXPECT_EQ(buffer[i], kGuard) << "written past the scratch, byte " << i - offset;
  return clusters;
}

TEST(ReuseConv, MatchesTheReferenceBitForBit) {
  Random r(2024);
  int zero_projection_cases = 0, shared_clusters = 0;
  for (int t = 0; t < 400; ++t) {
    const Case c = random_case(r);
    const Reference want = reference(c);
    std::vector<int8_t> got;
    const int32_t clusters = run_kernel(c, got, static_cast<size_t>(t % 4));
    ASSERT_EQ(clusters, want.clusters) << "case " << t;
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want.output[i]) << "case " << t << " output " << i;
    zero_projection_cases += std::all_of(c.projections.begin(), c.projections.end(), [](int8_t x) { return !x; });
    shared_clusters += clusters < c.n * c.out_h * c.out_w * c.blocks();
  }
  // The random cases reach what matters: zero projections, and clusters of more than one member (centroids that are
  // not a single sub-vector) in most cases.
  EXPECT_GT(zero_projection_cases, 30);
  EXPECT_GT(shared_clusters, 200);
}

// One output pixel per image: every cluster is a single sub-vector, its centroid the sub-vector itself, and the
// result is the dense convolution's.
TEST(ReuseConv, OneOutputPixelIsTheDenseConvolution) {
  Random r(7);
  for (int t = 0; t < 60; ++t) {
    // A map the size of the window without padding, or of one pixel padded on both sides ("same"): one output.
    Case c = random_case(r);
    const bool padded = t % 2 == 1;
    c.in_h = padded ? 1 : c.k_h;
    c.in_w = padded ? 1 : c.k_w;
    c.p.pad_h = padded ? c.k_h / 2 : 0;
    c.p.pad_w = padded ? c.k_w / 2 : 0;
    c.out_h = c.out_w = 1;
    c.input = r.int8s(static_cast<size_t>(c.n) * c.in_h * c.in_w * c.in_c, t % 3);
    std::vector<int8_t> got;
    const int32_t clusters = run_kernel(c, got, 1);
    EXPECT_EQ(clusters, c.n * c.blocks()) << "case " << t;
    const auto quant = c.quant();
    const auto in = c.in_dims(), f = c.filter_dims(), o = c.out_dims();
    std::vector<uint8_t> scratch(static_cast<size_t>(mcunas_conv_s8_scratch_bytes(&c.p, &in, &f)) + 1);
    std::vector<int8_t> dense(c.output_size());
    mcunas_conv_s8(&c.p, &quant, &in, c.input.data(), &f, c.weights.data(), c.has_bias ? c.bias.data() : nullptr, &o,
                   dense.data(), scratch.data() + 1);
    ASSERT_EQ(got, dense) << "case " << t;
  }
}

// With every projection zero each code is 0: one cluster per block and image, whatever the input.
TEST(ReuseConv, ZeroProjectionsGiveOneClusterPerBlock) {
  Random r(8);
  for (int t = 0; t < 40; ++t) {
    Case c = random_case(r);
    std::fill(c.projections.begin(), c.projections.end(), 0);
    std::vector<int8_t> got;
    EXPECT_EQ(run_kernel(c, got, 3), c.n * c.blocks()) << "case " << t;
    EXPECT_EQ(got, reference(c).output) << "case " << t;
  }
}

TEST(ReuseConv, NoScratchReturnsMinusOneAndWritesNothing) {
  Random r(9);
  const Case c = random_case(r);
  const auto reuse = c.reuse();
  const auto quant = c.quant();
  const auto in = c.in_dims(), f = c.filter_dims(), o = c.out_dims();
  std::vector<int8_t> out(c.output_size(), 42);
  EXPECT_EQ(mcunas_reuse_conv_s8(&c.p, &reuse, &quant, &in, c.input.data(), &f, c.weights.data(), c.bias.data(), &o,
                                 out.data(), nullptr),
            -1);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](int8_t x) { return x == 42; }));
}

// The documented size holds at every alignment of the caller's scratch: no write before or past it (run_kernel's
// guards) and the same output at each offset.
TEST(ReuseConv, ScratchBytesHoldAtAnyAlignment) {
  Random r(10);
  for (int t = 0; t < 60; ++t) {
    const Case c = random_case(r);
    std::vector<int8_t> first;
    const int32_t clusters = run_kernel(c, first, 0);
    for (size_t offset = 1; offset < 8; ++offset) {
      std::vector<int8_t> got;
      EXPECT_EQ(run_kernel(c, got, offset), clusters) << "case " << t << " offset " << offset;
      ASSERT_EQ(got, first) << "case " << t << " offset " << offset;
    }
    ASSERT_EQ(first, reference(c).output) << "case " << t;
  }
}

}  // namespace
