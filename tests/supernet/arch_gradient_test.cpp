// Does the architecture gradient see accuracy? (DESIGN.md, "Architecture gradients must compare candidates.")
//
// Three chained searchable blocks, every candidate conv + training-mode BatchNorm, on real-shaped data. The target
// of an estimator is the gradient of the EXPECTED loss over the architecture distribution,
//     E[L] = Σ_a P(a) L(a),   ∂E/∂θ_{b,j} = Σ_a P(a) L(a) (1[a_b = j] − p_{b,j}) / τ,
// computed exactly by running every one of the 2·2 · 3·2 · 2·2 = 96 architectures (operators and widths) on the
// same batch. Two estimators are held against it:
//  - GDAS's straight-through gradient on the sampled path, averaged exactly over the same 96 paths (its
//    expectation, so no sampling noise): for the blocks whose output scale the next BatchNorm removes, it is
//    orders of magnitude too small — the flaw the search had;
//  - REINFORCE with a leave-one-out baseline, averaged over many estimates: it must converge to ∂E/∂θ;
//  - the mixture gradient, which must agree with ∂E/∂θ in sign and order of magnitude, block by block.
// The mixture gradient itself is also checked against central differences of the mixture loss.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <vector>

#include "supernet/arch_gradient.h"
#include "supernet/dataset.h"
#include "supernet/loss.h"
#include "supernet/optimizer.h"
#include "supernet/state_guard.h"
#include "supernet/supernet.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

const Shape kImage{1, 10, 10, 3};
constexpr int32_t kClasses = 4;
constexpr int32_t kBatch = 32;
constexpr double kTau = 1.0;

SearchSpace chain_space() {
  return parse_search_space(YAML::Load(R"(
blocks:
  - {name: b1, out: 8, ops: [conv3x3, dwsep3x3], widths: [4, 8]}
  - {name: b2, out: 8, ops: [conv3x3, dwsep3x3, skip], widths: [4, 8]}
  - {name: b3, out: 12, stride: 2, ops: [conv3x3, dwsep3x3], widths: [6, 12]}
)"),
                            kImage);
}

// The supernet after a short training on synthetic data with sampled paths (so candidates differ in what they
// are worth, as after a warm-up), with unequal architecture logits, and one fixed batch.
struct ChainedSupernet {
  SuperNet net{chain_space(), kImage, kClasses, 3};
  Tensor images;
  std::vector<int32_t> labels;

  ChainedSupernet() {
    SyntheticSpec spec;
    spec.count = 512;
    spec.height = kImage.h;
    spec.width = kImage.w;
    spec.channels = kImage.c;
    spec.num_classes = kClasses;
    spec.noise = 0.5f;
    spec.seed = 11;
    const Dataset data = make_synthetic(spec);
    BatchLoader loader(data, kBatch, true, Augment{}, 5);
    OptimizerSpec sgd;
    sgd.type = "sgd";
    sgd.momentum = 0.9;
    auto optimizer = make_optimizer(sgd, net.weights());
    Rng rng(9);
    Tensor grad;
    for (int32_t epoch = 0; epoch < 3; ++epoch) {
      loader.start_epoch(epoch);
      while (loader.next(images, labels)) {
        net.sample(rng, 1.0);
        softmax_cross_entropy(net.network().forward(images, true), labels, &grad);
        net.network().backward(grad);
        optimizer->step(net.weights(), 0.05);
      }
    }
    loader.start_epoch(99);
    loader.next(images, labels);
    const float logits[] = {0.2f, -0.1f, 0.1f, -0.2f, 0.3f, 0.0f, 0.1f, -0.3f, 0.2f, 0.1f, -0.2f, 0.0f, 0.2f};
    auto theta = net.arch().theta();
    for (size_t i = 0; i < theta.size(); ++i) theta[i] = logits[i];
    net.set_tau(kTau);
  }

  // The training-mode loss of the current mode and selection; BatchNorm statistics are put back, so every
  // evaluation sees the same weights.
  double loss(Tensor* grad = nullptr) {
    const StateGuard keep_statistics(net.weights());
    return softmax_cross_entropy(net.network().forward(images, true), labels, grad).loss;
  }
};

// Calls `visit(P(a))` with the supernet in sampled mode selecting each architecture a in turn.
void for_each_architecture(SuperNet& net, const std::function<void(double)>& visit) {
  std::vector<size_t> op(net.block_count(), 0), width(net.block_count(), 0);
  for (;;) {
    double probability = 1;
    for (size_t b = 0; b < net.block_count(); ++b) {
      net.block(b).select(op[b]);
      net.block(b).select_width(width[b]);
      probability *= net.op_probabilities(b)[op[b]] * net.width_probabilities(b)[width[b]];
    }
    visit(probability);
    size_t b = 0;  // odometer over (op, width) of every block
    for (; b < net.block_count(); ++b) {
      if (++width[b] < net.block(b).widths().size()) break;
      width[b] = 0;
      if (++op[b] < net.block(b).op_count()) break;
      op[b] = 0;
    }
    if (b == net.block_count()) return;
  }
}

// ∂E[L]/∂θ over every architecture parameter, in arch().theta() order (per block: op logits, width logits).
std::vector<double> expected_loss_gradient(ChainedSupernet& s) {
  std::vector<double> grad(s.net.arch().theta().size(), 0.0);
  s.net.set_mode(BlockMode::sampled);
  for_each_architecture(s.net, [&](double probability) {
    const double loss = s.loss();
    size_t offset = 0;
    for (size_t b = 0; b < s.net.block_count(); ++b) {
      const SearchableBlock& block = s.net.block(b);
      const std::vector<double> p = s.net.op_probabilities(b), q = s.net.width_probabilities(b);
      for (size_t j = 0; j < p.size(); ++j)
        grad[offset++] += probability * loss * ((block.selected() == j ? 1.0 : 0.0) - p[j]) / kTau;
      for (size_t k = 0; k < q.size(); ++k)
        grad[offset++] += probability * loss * ((block.selected_width() == k ? 1.0 : 0.0) - q[k]) / kTau;
    }
  });
  return grad;
}

std::vector<double> backward_arch_gradient(ChainedSupernet& s) {
  Tensor grad;
  s.net.zero_arch_grads();
  s.loss(&grad);
  s.net.network().backward(grad);
  const auto g = s.net.arch().grads();
  return {g.begin(), g.end()};
}

// The straight-through estimator's expectation over the sampled path: Σ_a P(a) ĝ(a).
std::vector<double> straight_through_expectation(ChainedSupernet& s) {
  std::vector<double> mean(s.net.arch().theta().size(), 0.0);
  s.net.set_mode(BlockMode::sampled);
  for_each_architecture(s.net, [&](double probability) {
    const std::vector<double> g = backward_arch_gradient(s);
    for (size_t i = 0; i < g.size(); ++i) mean[i] += probability * g[i];
  });
  return mean;
}

std::vector<double> arch_grads(SuperNet& net) {
  const auto g = net.arch().grads();
  return {g.begin(), g.end()};
}

std::vector<double> mixture_estimate(ChainedSupernet& s) {
  Tensor scratch;
  {
    const StateGuard keep_statistics(s.net.weights());
    mixture_gradient(s.net, s.images, s.labels, kTau, scratch);
  }
  return arch_grads(s.net);
}

// The REINFORCE estimate averaged over `steps` independent calls (each with its own K samples).
std::vector<double> mean_reinforce_estimate(ChainedSupernet& s, int32_t steps, int32_t samples) {
  std::vector<double> mean(s.net.arch().theta().size(), 0.0);
  Rng rng(21);
  const StateGuard keep_statistics(s.net.weights());
  for (int32_t i = 0; i < steps; ++i) {
    reinforce_gradient(s.net, s.images, s.labels, samples, kTau, rng);
    const std::vector<double> g = arch_grads(s.net);
    for (size_t j = 0; j < g.size(); ++j) mean[j] += g[j] / steps;
  }
  return mean;
}

// How an estimate of block b's gradient compares with the truth: ‖estimate‖/‖truth‖ and their cosine.
struct Agreement {
  double norm_ratio = 0, cosine = 0;
};

std::vector<Agreement> per_block(const SuperNet& net, const std::vector<double>& estimate,
                                 const std::vector<double>& truth) {
  std::vector<Agreement> out;
  for (size_t b = 0; b < net.block_count(); ++b) {
    const auto& ops = net.arch().slots()[2 * b];
    const auto& widths = net.arch().slots()[2 * b + 1];
    double dot = 0, ee = 0, tt = 0;
    for (int64_t i = ops.offset; i < widths.offset + widths.count; ++i) {
      const auto u = static_cast<size_t>(i);
      dot += estimate[u] * truth[u];
      ee += estimate[u] * estimate[u];
      tt += truth[u] * truth[u];
    }
    out.push_back({std::sqrt(ee / tt), dot / std::sqrt(ee * tt + 1e-300)});
  }
  return out;
}

TEST(ArchGradient, StraightThroughEstimatorMissesTheAccuracySignalBehindBatchNorm) {
  ChainedSupernet s;
  const std::vector<double> truth = expected_loss_gradient(s);
  const auto agreement = per_block(s.net, straight_through_expectation(s), truth);
  for (size_t b = 0; b < agreement.size(); ++b)
    std::printf("straight-through b%zu: |estimate|/|truth| %.3g, cosine %.3f\n", b + 1, agreement[b].norm_ratio,
                agreement[b].cosine);
  // b1 and b2 feed a conv + BatchNorm (b2's skip passes b1's scale on to b3's): the straight-through gradient is
  // the derivative along that scale, which the BatchNorm removes.
  EXPECT_LT(agreement[0].norm_ratio, 0.01);
  EXPECT_LT(agreement[1].norm_ratio, 0.01);
}

TEST(ArchGradient, MixtureGradientAgreesWithTheExpectedLossInSignAndMagnitude) {
  ChainedSupernet s;
  const std::vector<double> truth = expected_loss_gradient(s);
  const auto agreement = per_block(s.net, mixture_estimate(s), truth);
  for (size_t b = 0; b < agreement.size(); ++b) {
    std::printf("mixture b%zu: |estimate|/|truth| %.3g, cosine %.3f\n", b + 1, agreement[b].norm_ratio,
                agreement[b].cosine);
    EXPECT_GT(agreement[b].cosine, 0.5) << "block " << b + 1;
    EXPECT_GT(agreement[b].norm_ratio, 0.1) << "block " << b + 1;
    EXPECT_LT(agreement[b].norm_ratio, 10.0) << "block " << b + 1;
  }
}

// REINFORCE is unbiased: its mean over many independent estimates approaches ∂E/∂θ in direction and size; one
// estimate (4 samples) is noisy but still points the right way on average.
TEST(ArchGradient, ReinforceEstimateConvergesToTheExpectedLossGradient) {
  ChainedSupernet s;
  const std::vector<double> truth = expected_loss_gradient(s);
  const auto agreement = per_block(s.net, mean_reinforce_estimate(s, 3000, 4), truth);
  for (size_t b = 0; b < agreement.size(); ++b) {
    std::printf("reinforce b%zu: |mean estimate|/|truth| %.3g, cosine %.3f\n", b + 1, agreement[b].norm_ratio,
                agreement[b].cosine);
    EXPECT_GT(agreement[b].cosine, 0.9) << "block " << b + 1;
    EXPECT_GT(agreement[b].norm_ratio, 0.7) << "block " << b + 1;
    EXPECT_LT(agreement[b].norm_ratio, 1.3) << "block " << b + 1;
  }
}

TEST(ArchGradient, MixtureGradientMatchesCentralDifferencesOfTheMixtureLoss) {
  ChainedSupernet s;
  const std::vector<double> analytic = mixture_estimate(s);
  const std::vector<float> expected(analytic.begin(), analytic.end());
  s.net.set_mode(BlockMode::mixture);
  testing::GradCheckOptions options;
  options.h = 1e-2;
  testing::GradientComparison comparison(options);
  comparison.check(s.net.arch().theta(), expected, [&] { return s.loss(); }, "architecture logits");
  const auto report = comparison.finish();
  EXPECT_EQ(report.checked, static_cast<int64_t>(expected.size()));
  EXPECT_LT(report.relative_error, 1e-2) << report.worst;
}

}  // namespace
}  // namespace nas::supernet
