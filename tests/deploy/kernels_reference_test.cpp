// The int8 kernels against naive references written here, on random shapes: odd channel counts, padding, strides,
// 1x1 convolutions (the fast path), extreme values (-128 / 127), non-zero zero points, small and large shifts.
// The references requantise in TFLite's own formulation (nudge, truncating division, then rounding half away from
// zero in long double), independently of deploy/kernels/requantize.h. Every output must match bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "mcunas_kernels.h"

namespace {

int32_t reference_requantize(int32_t acc, int32_t m, int32_t shift) {
  const int64_t x = std::clamp<int64_t>(static_cast<int64_t>(acc) * (int64_t{1} << std::max(shift, 0)), INT32_MIN,
                                        INT32_MAX);
  const int64_t ab = x * m;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  const int64_t high = (ab + nudge) / (int64_t{1} << 31);  // C++ division truncates toward zero
  const int right = std::max(-shift, 0);
  const long double q = std::ldexp(static_cast<long double>(high), -right);
  return static_cast<int32_t>(q >= 0 ? std::floor(q + 0.5L) : -std::floor(-q + 0.5L));
}

int8_t reference_output(int64_t acc, int32_t m, int32_t shift, int32_t offset, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(std::clamp(reference_requantize(static_cast<int32_t>(acc), m, shift) + offset, lo, hi));
}

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  int32_t between(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng_); }
  // Inputs: uniform, or only the extremes -128 / 127 (the accumulator's worst case).
  std::vector<int8_t> int8s(size_t count, bool extremes) {
    std::vector<int8_t> v(count);
    for (auto& x : v) x = static_cast<int8_t>(extremes ? (between(0, 1) ? 127 : -128) : between(-128, 127));
    return v;
  }
  std::vector<int32_t> multipliers(size_t count) {
    std::vector<int32_t> v(count);
    for (auto& x : v) x = between(1 << 30, INT32_MAX);
    return v;
  }
  // Small (-1..2) and large (down to -31) shifts.
  std::vector<int32_t> shifts(size_t count) {
    std::vector<int32_t> v(count);
    for (auto& x : v) x = between(0, 3) == 0 ? between(-31, -20) : between(-12, 2);
    return v;
  }
  std::vector<int32_t> biases(size_t count) {
    std::vector<int32_t> v(count);
    for (auto& x : v) x = between(-(1 << 16), 1 << 16);
    return v;
  }
  void activation(int32_t zero_point, int32_t& lo, int32_t& hi) {
    lo = between(0, 1) ? zero_point : -128;  // ReLU or none
    hi = between(0, 3) ? 127 : between(lo, 127);
  }

 private:
  std::mt19937 rng_;
};

int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t pad) { return (in + 2 * pad - k) / stride + 1; }

// Conv or depthwise: the shared random set-up, then each kernel and its reference.
void check_convolutions(bool depthwise) {
  Random r(depthwise ? 11 : 10);
  int in_place_cases = 0;
  for (int t = 0; t < 300; ++t) {
    const int32_t n = r.between(1, 2), in_h = r.between(1, 9), in_w = r.between(1, 9), in_c = r.between(1, 9);
    const int32_t k_h = std::min(r.between(0, 2) * 2 + 1, in_h);
    const int32_t k_w = t % 5 == 0 ? 1 : std::min(r.between(0, 2) * 2 + 1, in_w);
    const bool one_by_one = t % 7 == 0 && !depthwise;
    const int32_t kh = one_by_one ? 1 : k_h, kw = one_by_one ? 1 : k_w;
    const int32_t stride_h = one_by_one ? 1 : r.between(1, 2), stride_w = one_by_one ? 1 : r.between(1, 2);
    const int32_t pad_h = one_by_one ? 0 : r.between(0, kh / 2), pad_w = one_by_one ? 0 : r.between(0, kw / 2);
    const int32_t out_h = out_size(in_h, kh, stride_h, pad_h), out_w = out_size(in_w, kw, stride_w, pad_w);
    const int32_t out_c = depthwise ? in_c : r.between(1, 9);
    const int32_t zp_in = r.between(-128, 127), zp_out = r.between(-128, 127);
    int32_t lo = 0, hi = 0;
    r.activation(zp_out, lo, hi);
    const mcunas_conv_params p{stride_h, stride_w, pad_h, pad_w, -zp_in, zp_out, lo, hi};
    const bool extremes = t % 3 == 0;
    const auto input = r.int8s(static_cast<size_t>(n) * in_h * in_w * in_c, extremes);
    const auto weights = r.int8s(static_cast<size_t>(depthwise ? 1 : out_c) * kh * kw * in_c, extremes);
    const auto bias = r.biases(out_c);
    const auto mult = r.multipliers(out_c), shift = r.shifts(out_c);
    const mcunas_channel_quant q{mult.data(), shift.data()};
    const mcunas_dims in{n, in_h, in_w, in_c}, f{depthwise ? 1 : out_c, kh, kw, in_c}, out{n, out_h, out_w, out_c};
    std::vector<int8_t> got(static_cast<size_t>(n) * out_h * out_w * out_c);
    // Depthwise: without scratch (the pixel loop), through the channel planes in the scratch (placed at an odd
    // address, as the arena may), and in place where the kernel allows it; all three against the reference.
    std::vector<int8_t> planes(got.size()), in_place;
    if (depthwise) {
      mcunas_depthwise_conv_s8(&p, &q, &in, input.data(), &f, weights.data(), bias.data(), &out, got.data(), nullptr);
      std::vector<uint8_t> scratch(static_cast<size_t>(mcunas_depthwise_conv_s8_scratch_bytes(&p, &in, &f)) + 1);
      mcunas_depthwise_conv_s8(&p, &q, &in, input.data(), &f, weights.data(), bias.data(), &out, planes.data(),
                               scratch.data() + 1);
      if (mcunas_depthwise_conv_s8_in_place(&p, &in, &f, &out)) {
        in_place = input;
        mcunas_depthwise_conv_s8(&p, &q, &in, in_place.data(), &f, weights.data(), bias.data(), &out,
                                 in_place.data(), scratch.data() + 1);
        ++in_place_cases;
      }
    } else {
      mcunas_conv_s8(&p, &q, &in, input.data(), &f, weights.data(), bias.data(), &out, got.data(), nullptr);
    }

    size_t i = 0;
    for (int32_t b = 0; b < n; ++b)
      for (int32_t oy = 0; oy < out_h; ++oy)
        for (int32_t ox = 0; ox < out_w; ++ox)
          for (int32_t o = 0; o < out_c; ++o, ++i) {
            int64_t acc = bias[o];
            for (int32_t ky = 0; ky < kh; ++ky)
              for (int32_t kx = 0; kx < kw; ++kx) {
                const int32_t iy = oy * stride_h - pad_h + ky, ix = ox * stride_w - pad_w + kx;
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                const int32_t first = depthwise ? o : 0, last = depthwise ? o + 1 : in_c;
                for (int32_t c = first; c < last; ++c) {
                  const int32_t x = input[((static_cast<size_t>(b) * in_h + iy) * in_w + ix) * in_c + c];
                  const int32_t w = depthwise ? weights[(static_cast<size_t>(ky) * kw + kx) * in_c + c]
                                              : weights[((static_cast<size_t>(o) * kh + ky) * kw + kx) * in_c + c];
                  acc += static_cast<int64_t>(x - zp_in) * w;
                }
              }
            const int8_t want = reference_output(acc, mult[o], shift[o], zp_out, lo, hi);
            ASSERT_EQ(got[i], want) << "case " << t << " output " << i << (one_by_one ? " (1x1 path)" : "");
            if (!depthwise) continue;
            ASSERT_EQ(planes[i], want) << "case " << t << " output " << i << " (planes)";
            if (!in_place.empty()) {
              ASSERT_EQ(in_place[i], want) << "case " << t << " output " << i << " (in place)";
            }
          }
  }
  // The random shapes reach the in-place case often enough to mean something (stride 1, padding k / 2).
  if (depthwise) {
    EXPECT_GT(in_place_cases, 15);
  }
}

TEST(KernelsAgainstReference, Conv) { check_convolutions(false); }
TEST(KernelsAgainstReference, DepthwiseConv) { check_convolutions(true); }

TEST(KernelsAgainstReference, FullyConnected) {
  Random r(12);
  for (int t = 0; t < 300; ++t) {
    const int32_t n = r.between(1, 3), in_f = r.between(1, 70), out_f = r.between(1, 13);
    const int32_t zp_in = r.between(-128, 127), zp_out = r.between(-128, 127);
    int32_t lo = 0, hi = 0;
    r.activation(zp_out, lo, hi);
    const int32_t m = r.multipliers(1)[0], s = r.shifts(1)[0];
    const mcunas_fc_params p{-zp_in, zp_out, m, s, lo, hi};
    const auto input = r.int8s(static_cast<size_t>(n) * in_f, t % 3 == 0);
    const auto weights = r.int8s(static_cast<size_t>(out_f) * in_f, t % 3 == 0);
    const auto bias = r.biases(out_f);
    std::vector<int8_t> got(static_cast<size_t>(n) * out_f);
    mcunas_fully_connected_s8(&p, n, in_f, input.data(), out_f, weights.data(), bias.data(), got.data());
    for (int32_t b = 0; b < n; ++b)
      for (int32_t o = 0; o < out_f; ++o) {
        int64_t acc = bias[o];
        for (int32_t i = 0; i < in_f; ++i)
          acc += static_cast<int64_t>(input[static_cast<size_t>(b) * in_f + i] - zp_in) *
                 weights[static_cast<size_t>(o) * in_f + i];
        ASSERT_EQ(got[static_cast<size_t>(b) * out_f + o], reference_output(acc, m, s, zp_out, lo, hi)) << t;
      }
  }
}

TEST(KernelsAgainstReference, Pooling) {
  Random r(13);
  for (int t = 0; t < 300; ++t) {
    const int32_t n = r.between(1, 2), in_h = r.between(1, 9), in_w = r.between(1, 9), c = r.between(1, 9);
    const bool global = t % 5 == 0;
    const int32_t k_h = global ? in_h : r.between(1, std::min(3, in_h));
    const int32_t k_w = global ? in_w : r.between(1, std::min(3, in_w));
    const int32_t stride = global ? 1 : r.between(1, 2), pad_h = global ? 0 : r.between(0, k_h / 2),
                  pad_w = global ? 0 : r.between(0, k_w / 2);
    const int32_t out_h = out_size(in_h, k_h, stride, pad_h), out_w = out_size(in_w, k_w, stride, pad_w);
    int32_t lo = 0, hi = 0;
    r.activation(r.between(-128, 127), lo, hi);
    const mcunas_pool_params p{k_h, k_w, stride, stride, pad_h, pad_w, lo, hi};
    const auto input = r.int8s(static_cast<size_t>(n) * in_h * in_w * c, t % 3 == 0);
    const mcunas_dims in{n, in_h, in_w, c}, out{n, out_h, out_w, c};
    std::vector<int8_t> max(static_cast<size_t>(n) * out_h * out_w * c), avg(max.size());
    mcunas_max_pool_s8(&p, &in, input.data(), &out, max.data());
    mcunas_avg_pool_s8(&p, &in, input.data(), &out, avg.data());
    size_t i = 0;
    for (int32_t b = 0; b < n; ++b)
      for (int32_t oy = 0; oy < out_h; ++oy)
        for (int32_t ox = 0; ox < out_w; ++ox)
          for (int32_t ch = 0; ch < c; ++ch, ++i) {
            int32_t best = -128, sum = 0, count = 0;
            for (int32_t ky = 0; ky < k_h; ++ky)
              for (int32_t kx = 0; kx < k_w; ++kx) {
                const int32_t iy = oy * stride - pad_h + ky, ix = ox * stride - pad_w + kx;
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                const int32_t v = input[((static_cast<size_t>(b) * in_h + iy) * in_w + ix) * c + ch];
                best = std::max(best, v);
                sum += v;
                ++count;
              }
            // The mean rounded half away from zero, in floating point here.
            const double mean = static_cast<double>(sum) / count;
            const auto rounded = static_cast<int32_t>(mean >= 0 ? std::floor(mean + 0.5) : -std::floor(-mean + 0.5));
            ASSERT_EQ(max[i], std::clamp(best, lo, hi)) << t;
            ASSERT_EQ(avg[i], std::clamp(rounded, lo, hi)) << t;
          }
  }
}

TEST(KernelsAgainstReference, GlobalAveragePooling) {
  // The mean over the map requantised to its own scale: sum of (q − zp_in), times s_in / (s_out · h · w).
  Random r(14);
  for (int t = 0; t < 300; ++t) {
    const int32_t n = r.between(1, 2), h = r.between(1, 9), w = r.between(1, 9), c = r.between(1, 17);
    const int32_t zp_in = r.between(-128, 127), zp_out = r.between(-128, 127);
    int32_t lo = 0, hi = 0;
    r.activation(zp_out, lo, hi);
    const mcunas_mean_params p{-zp_in, zp_out, r.multipliers(1)[0], r.shifts(1)[0], lo, hi};
    const mcunas_dims dims{n, h, w, c};
    const auto input = r.int8s(static_cast<size_t>(n) * h * w * c, t % 3 == 0);
    std::vector<int8_t> got(static_cast<size_t>(n) * c);
    mcunas_global_avg_pool_s8(&p, &dims, input.data(), got.data());
    for (int32_t b = 0; b < n; ++b)
      for (int32_t ch = 0; ch < c; ++ch) {
        int64_t sum = 0;
        for (int32_t i = 0; i < h * w; ++i) sum += input[(static_cast<size_t>(b) * h * w + i) * c + ch] - zp_in;
        ASSERT_EQ(got[static_cast<size_t>(b) * c + ch],
                  reference_output(sum, p.multiplier, p.shift, zp_out, lo, hi)) << t;
      }
  }
}

TEST(KernelsAgainstReference, Add) {
  Random r(14);
  for (int t = 0; t < 300; ++t) {
    const int32_t size = r.between(1, 200), zp1 = r.between(-128, 127), zp2 = r.between(-128, 127),
                  zp_out = r.between(-128, 127);
    int32_t lo = 0, hi = 0;
    r.activation(zp_out, lo, hi);
    // Input shifts are <= 0 in TFLite's ADD; the output shift is around -20.
    const mcunas_add_params p{-zp1, r.multipliers(1)[0], r.between(-3, 0), -zp2, r.multipliers(1)[0],
                              r.between(-3, 0), 20, zp_out, r.multipliers(1)[0], r.between(-22, -17), lo, hi};
    const auto a = r.int8s(static_cast<size_t>(size), t % 3 == 0), b = r.int8s(static_cast<size_t>(size), t % 4 == 0);
    std::vector<int8_t> got(static_cast<size_t>(size));
    mcunas_add_s8(&p, size, a.data(), b.data(), got.data(), nullptr);
    for (int32_t i = 0; i < size; ++i) {
      const int32_t v1 = (a[i] - zp1) * (1 << 20), v2 = (b[i] - zp2) * (1 << 20);
      const int32_t sum = reference_requantize(v1, p.input1_multiplier, p.input1_shift) +
                          reference_requantize(v2, p.input2_multiplier, p.input2_shift);
      ASSERT_EQ(got[i], reference_output(sum, p.output_multiplier, p.output_shift, zp_out, lo, hi)) << t;
    }
  }
}

}  // namespace
