// The reuse rate (clusters per sub-vector) a reuse convolution is priced at during the search, before a network
// exists whose rate could be measured; a fixed network's rate is measured by the kernel on its calibration images
// (deploy/reuse_rate.h) and goes through the same kernel-work formulas (kernel_work.h, reuse_conv).
//
// Per image and block, N sub-vectors (one per output pixel) fall into the 2^H codes of H sign projections; the
// clusters are the codes hit. Measured on trained networks, the clusters per block grow as a power of the codes,
// of the sub-vector length L (longer sub-vectors differ more) and of N (more pixels hit more codes):
//   clusters = e^a · 2^(b·H) · L^c · N^d,   rate = min(1, clusters / N)
// fitted by least squares in logs on every reuse layer of the trec_L*_H* runs (a CifarNet-like network on
// Fashion-MNIST at six (L, H) settings): `bash experiments/trec/rate_fit.sh docs/results/trec.db`, whose output
// docs/trec.md shows with the error of every layer. The rate depends on the data and the training; this is a
// prior for the search, checked against the measured rate of the searched network (docs/trec.md, "Search").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace nas::cost_models {

struct ReuseRateFit {
  double a, b, c, d;
};

// experiments/trec/rate_fit.sh on docs/results/trec.db: 18 reuse layers (six (L, H) settings × three layers),
// largest error 30.8 %, mean 17.2 % of the measured rate (the layer's data matter beyond L, H and N).
inline constexpr ReuseRateFit kReuseRateFit{-1.6206, 0.5706, 0.1334, 0.3723};

// Clusters per sub-vector expected for sub-vectors of `sub_len` values hashed by `hash_bits` bits, `pixels`
// sub-vectors per block and image; in (0, 1].
inline double estimated_reuse_rate(int32_t sub_len, int32_t hash_bits, int32_t pixels) {
  const ReuseRateFit& f = kReuseRateFit;
  const double n = std::max(pixels, 1);
  const double clusters = std::exp(f.a + f.b * hash_bits * std::log(2.0) + f.c * std::log(std::max(sub_len, 1)) +
                                   f.d * std::log(n));
  return std::clamp(clusters / n, 1.0 / n, 1.0);
}

}  // namespace nas::cost_models
