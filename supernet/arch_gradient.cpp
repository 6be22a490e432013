#include "supernet/arch_gradient.h"

#include <utility>
#include <vector>

#include "common/error.h"
#include "supernet/loss.h"

namespace nas::supernet {

void reinforce_gradient(SuperNet& net, const Tensor& images, std::span<const int32_t> labels, int32_t samples,
                        double tau, Rng& rng) {
  if (samples < 2) throw Error("reinforce_gradient", "needs at least 2 samples for its baseline (got " +
                                                         std::to_string(samples) + ")", Error::Kind::failure);
  net.set_mode(BlockMode::sampled);
  const auto k_n = static_cast<size_t>(samples);
  std::vector<double> losses(k_n);
  std::vector<std::vector<std::pair<size_t, size_t>>> paths(k_n);  // per sample, per block: (op, width)
  for (size_t k = 0; k < k_n; ++k) {
    net.sample(rng, tau);
    for (size_t b = 0; b < net.block_count(); ++b)
      paths[k].emplace_back(net.block(b).selected(), net.block(b).selected_width());
    losses[k] = softmax_cross_entropy(net.network().forward(images, /*training=*/true), labels, nullptr).loss;
  }
  double total = 0;
  for (double l : losses) total += l;
  net.zero_arch_grads();
  for (size_t k = 0; k < k_n; ++k) {
    const double advantage = losses[k] - (total - losses[k]) / static_cast<double>(k_n - 1);
    for (size_t b = 0; b < net.block_count(); ++b)
      net.add_score_gradient(b, paths[k][b].first, paths[k][b].second, advantage / static_cast<double>(k_n));
  }
}

void mixture_gradient(SuperNet& net, const Tensor& images, std::span<const int32_t> labels, double tau, Tensor& grad) {
  net.set_tau(tau);
  net.set_mode(BlockMode::mixture);
  softmax_cross_entropy(net.network().forward(images, /*training=*/true), labels, &grad);
  net.zero_arch_grads();
  net.network().backward(grad);  // writes θ_a's gradient (and weight gradients nobody reads)
  net.set_mode(BlockMode::sampled);
}

}  // namespace nas::supernet
