#include "cost_models/reachable.h"

#include <array>
#include <vector>

#include "cost_models/lowering.h"

namespace nas::cost_models {
namespace {

using Choice = std::vector<size_t>;  // one candidate index per block
constexpr size_t kMetrics = 8;

std::array<double, kMetrics> metrics_of(const Costs<double>& c) {
  return {c.flash_bytes, c.ram_bytes, c.latency_s, c.energy_j, c.arena_bytes, c.model_flash_bytes, c.macs, c.params};
}

Costs<double> costs_of(const std::array<double, kMetrics>& m) {
  Costs<double> c;
  c.flash_bytes = m[0];
  c.ram_bytes = m[1];
  c.latency_s = m[2];
  c.energy_j = m[3];
  c.arena_bytes = m[4];
  c.model_flash_bytes = m[5];
  c.macs = m[6];
  c.params = m[7];
  return c;
}

struct Extremes {
  const supernet::SearchSpace& space;
  supernet::Shape input;
  int32_t classes;
  const Target& target;
  bool all_channels;  // false: 1 channel per block
  bool maximise;

  std::array<double, kMetrics> evaluate(const Choice& choice) const {
    ArchView<double> view;
    for (size_t b = 0; b < space.blocks.size(); ++b) {
      BlockView<double> bv;
      bv.op_prob.assign(space.blocks[b].ops.size(), 0.0);
      bv.op_prob[choice[b]] = 1.0;
      bv.out_channels = all_channels ? space.blocks[b].out_channels : 1;
      view.blocks.push_back(std::move(bv));
    }
    return metrics_of(estimate(lower(space, view, input, classes), target));
  }

  bool better(double candidate, double best) const { return maximise ? candidate > best : candidate < best; }

  Costs<double> brute_force() const {
    const size_t n = space.blocks.size();
    Choice choice(n, 0);
    auto best = evaluate(choice);
    while (true) {
      size_t b = 0;  // odometer over the choices
      while (b < n && ++choice[b] == space.blocks[b].ops.size()) choice[b++] = 0;
      if (b == n) break;
      const auto m = evaluate(choice);
      for (size_t k = 0; k < kMetrics; ++k)
        if (better(m[k], best[k])) best[k] = m[k];
    }
    return costs_of(best);
  }

  Costs<double> greedy() const {
    std::array<double, kMetrics> best{};
    for (size_t k = 0; k < kMetrics; ++k) {
      Choice choice(space.blocks.size(), 0);
      double value = evaluate(choice)[k];
      for (size_t b = 0; b < space.blocks.size(); ++b) {
        size_t best_op = choice[b];
        for (size_t i = 0; i < space.blocks[b].ops.size(); ++i) {
          choice[b] = i;
          const double m = evaluate(choice)[k];
          if (better(m, value)) {
            value = m;
            best_op = i;
          }
        }
        choice[b] = best_op;
      }
      best[k] = value;
    }
    return costs_of(best);
  }

  Costs<double> run() const { return smallest_is_exact(space) ? brute_force() : greedy(); }
};

}  // namespace

bool smallest_is_exact(const supernet::SearchSpace& space) {
  double combinations = 1;
  for (const auto& block : space.blocks) combinations *= static_cast<double>(block.ops.size());
  return combinations <= kBruteForceLimit;
}

Costs<double> smallest_costs(const supernet::SearchSpace& space, supernet::Shape input, int32_t classes,
                             const Target& target) {
  return Extremes{space, input, classes, target, false, false}.run();
}

Costs<double> largest_costs(const supernet::SearchSpace& space, supernet::Shape input, int32_t classes,
                            const Target& target) {
  return Extremes{space, input, classes, target, true, true}.run();
}

}  // namespace nas::cost_models
