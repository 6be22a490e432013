#include "search/shortlist.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace nas::search {

std::vector<double> log_softmax(const std::vector<double>& logits) {
  if (logits.empty()) return {};
  const double top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const double l : logits) sum += std::exp(l - top);
  const double log_sum = top + std::log(sum);
  std::vector<double> out;
  out.reserve(logits.size());
  for (const double l : logits) out.push_back(l - log_sum);
  return out;
}

std::vector<ChoiceSet> most_probable_choice_sets(const std::vector<std::vector<double>>& log_probs, size_t k) {
  std::vector<ChoiceSet> beam{ChoiceSet{}};
  if (k == 0) return {};
  for (const auto& block : log_probs) {
    std::vector<ChoiceSet> next;
    next.reserve(beam.size() * block.size());
    for (const ChoiceSet& prefix : beam)
      for (size_t i = 0; i < block.size(); ++i) {
        ChoiceSet extended = prefix;
        extended.choices.push_back(i);
        extended.log_probability += block[i];
        next.push_back(std::move(extended));
      }
    // Most probable first; equal sums in lexicographic order of the choices, so the result does not depend on
    // the order the beam was built in.
    std::sort(next.begin(), next.end(), [](const ChoiceSet& a, const ChoiceSet& b) {
      if (a.log_probability != b.log_probability) return a.log_probability > b.log_probability;
      return a.choices < b.choices;
    });
    if (next.size() > k) next.resize(k);
    beam = std::move(next);
  }
  return beam;
}

ProbeResult probe_network(supernet::Network& net, supernet::BatchLoader& loader, const supernet::Dataset& holdout,
                          const FinetunePlan& plan, const ProbeHooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  auto optimizer = supernet::make_optimizer(plan.optimizer, net.params());
  const int32_t steps = loader.batches_per_epoch();
  const supernet::LrSchedule schedule(plan.schedule, steps, plan.epochs);
  for (int32_t e = 0; e < plan.epochs; ++e) {
    const supernet::EpochPlan epoch{plan.first_loader_epoch + e, int64_t{e} * steps, plan.label_smoothing};
    const auto train = supernet::train_epoch(net, *optimizer, schedule, loader, epoch,
                                             hooks.begin ? hooks.begin(e + 1) : supernet::StepCallback{});
    if (hooks.end) hooks.end(e + 1, train);
  }
  const auto eval = supernet::evaluate(net, holdout, plan.eval_batch_size);
  return {eval.accuracy, eval.loss,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
}

}  // namespace nas::search
