#include "search/shortlist.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/yaml_keys.h"
#include "search/fix_to_budgets.h"
#include "supernet/candidate_accuracy.h"
#include "supernet/network_builder.h"
#include "supernet/weight_inheritance.h"

namespace nas::search {

namespace {

// Held-out images per candidate of the fix step's operator upgrade (operator_upgrade.h): the same images for every
// candidate, so their losses are compared pair by pair; 2,000 take about half a second per candidate on 2 cores.
constexpr int32_t kUpgradeImages = 2000;

// What fixing reads from the search besides the operator set: per block its narrowest width choice (repair's
// floor), how strongly it wants each channel and its channel limit (fit's order and bound). The same for every
// operator set of the shortlist, so it is read once.
struct WidthChoices {
  std::vector<int32_t> narrowest;
  std::vector<std::vector<float>> channel_strength;
  std::vector<int32_t> max_channels;
};

WidthChoices width_choices_of(const supernet::SuperNet& net, const supernet::SearchSpace& space) {
  WidthChoices w;
  for (size_t b = 0; b < space.blocks.size(); ++b) {
    w.narrowest.push_back(supernet::width_choices(space.blocks[b]).front());
    const std::vector<double> keep = net.channel_keep_probabilities(b);
    w.channel_strength.emplace_back(keep.begin(), keep.end());
    w.max_channels.push_back(space.blocks[b].out_channels);
  }
  return w;
}

// The last step of fixing, for every kind of candidate: add back the channels the search wanted most while every
// budget holds (fit_to_budgets).
void fit_candidate(FixedCandidate& c, const ArchCost& cost, const std::vector<constraints::Budget>& fix_budgets,
                   int32_t input_channels, const WidthChoices& widths) {
  const FitResult fitted =
      fit_to_budgets(c.arch, cost, fix_budgets, input_channels, widths.channel_strength, widths.max_channels);
  c.arch = fitted.arch;
  c.added_channels = fitted.added_channels;
}

FixedCandidate fix_candidate(supernet::SuperNet& net, const supernet::SearchSpace& space, const ArchCost& cost,
                             const std::vector<constraints::Budget>& fix_budgets, int32_t input_channels,
                             const WidthChoices& widths, const std::vector<size_t>& ops,
                             const supernet::Dataset& holdout, int32_t batch_size) {
  const RepairResult repaired =
      repair_to_budgets(net.fix_with_ops(ops), cost, fix_budgets, input_channels, widths.narrowest);
  FixedCandidate c{repaired.arch, repaired.removed_channels, 0, repaired.fits, {}, 0};
  if (!repaired.fits) return c;
  UpgradeResult upgraded =
      upgrade_operators(c.arch, space, cost, fix_budgets, input_channels, [&](const supernet::FixedArch& candidate) {
        net.select_fixed(candidate);
        return supernet::path_score(net, holdout, kUpgradeImages, batch_size).loss;
      });
  c.arch = std::move(upgraded.arch);
  c.upgrades = std::move(upgraded.upgrades);
  fit_candidate(c, cost, fix_budgets, input_channels, widths);
  return c;
}

}  // namespace

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

FixedCandidate choose_fixed_network(supernet::SuperNet& net, const supernet::SearchSpace& space, const ArchCost& cost,
                                    const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                                    const SearchConfig& config, supernet::BatchLoader& loader,
                                    const supernet::DataSplits& data, results::ResultsDb& db, int64_t run_id,
                                    Progress& progress) {
  const auto fix_budgets = with_estimate_margin(budgets);
  std::vector<std::vector<double>> log_probs;
  for (size_t b = 0; b < space.blocks.size(); ++b) log_probs.push_back(log_softmax(net.op_logits(b)));
  const auto sets = most_probable_choice_sets(log_probs, static_cast<size_t>(config.shortlist.candidates));
  const WidthChoices widths = width_choices_of(net, space);
  std::vector<FixedCandidate> candidates;
  std::vector<std::string> seen;
  int32_t missed = 0, alike = 0;
  auto consider = [&](FixedCandidate c) {
    // The argmax is always a candidate at first (it decides when nothing fits); the others only when they fit.
    if (!candidates.empty() && !c.fits) {
      ++missed;
      return;
    }
    std::string text = yaml::to_text(supernet::fixed_arch_yaml(c.arch));
    if (std::find(seen.begin(), seen.end(), text) != seen.end()) {  // two sets fixed into one network
      ++alike;
      return;
    }
    seen.push_back(std::move(text));
    candidates.push_back(std::move(c));
  };
  for (const ChoiceSet& set : sets) {
    FixedCandidate c = fix_candidate(net, space, cost, fix_budgets, input_channels, widths, set.choices,
                                     data.validation, config.batch_size);
    c.log_probability = set.log_probability;
    consider(std::move(c));
  }
  // The seed network (every block's first operator) scaled uniformly to the budgets: the channel-pruning baseline
  // inside this space, probed like the others. Not from the search's widths: those were learned for other
  // operators, and repairing them into the seed's costlier ones left bottlenecks (scale_to_budgets); not upgraded:
  // it stays the seed's operators.
  size_t considered = sets.size();
  if (config.shortlist.candidates > 1 && config.shortlist.seed_ops) {
    ++considered;
    const std::vector<size_t> seed_ops(space.blocks.size(), 0);
    const RepairResult scaled =
        scale_to_budgets(net.fix_with_ops(seed_ops), cost, fix_budgets, input_channels, widths.max_channels);
    FixedCandidate c{scaled.arch, scaled.removed_channels, 0, scaled.fits, {}, 0, true};
    for (const auto& block : log_probs) c.log_probability += block.front();
    if (c.fits) fit_candidate(c, cost, fix_budgets, input_channels, widths);
    consider(std::move(c));
  }
  // An argmax that misses a budget (repair could not save it) gives way to the candidates that fit.
  if (!candidates.front().fits && candidates.size() > 1) candidates.erase(candidates.begin());
  if (considered > 1 && candidates.size() == 1)
    progress.message(fmt::format("shortlist: no probe; of {} networks, {} fixed into the argmax's network and {} "
                                 "could not meet the budgets", considered, alike, missed));
  size_t best = 0;
  if (candidates.size() > 1) {
    FinetunePlan plan = finetune_plan(config);
    plan.epochs = config.shortlist.epochs;
    const bool inherit = config.shortlist.start.value_or(config.finetune_init) == FinetuneInit::supernet;
    std::vector<results::ShortlistRecord> records;
    progress.message(fmt::format("shortlist: {} networks, each trained {} epoch{} from {} and scored on the {} "
                                 "held-out images", candidates.size(), plan.epochs, plan.epochs == 1 ? "" : "s",
                                 inherit ? "the supernet's weights" : "fresh weights", data.validation.count));
    for (size_t i = 0; i < candidates.size(); ++i) {
      progress.set_phase("shortlist");
      const YAML::Node model = supernet::fixed_model_yaml(candidates[i].arch);
      supernet::Network probe = supernet::build_network(model, data.train.batch_shape(1), data.train.num_classes,
                                                        config.seed);
      if (inherit) supernet::inherit_weights(net, candidates[i].arch, probe);
      ProbeHooks hooks;
      hooks.begin = [&](int32_t epoch) {
        progress.begin_epoch(epoch, plan.epochs, loader.batches_per_epoch());
        return phase_step_callback(progress, "nas search", "shortlist", epoch, config.batch_size, data.train.count);
      };
      hooks.end = [&](int32_t, const supernet::EpochResult& train) {
        progress.end_epoch(fmt::format("loss {:.4f} train {:.2f}%  {:.1f}s", train.loss, 100 * train.accuracy,
                                       train.seconds));
      };
      const ProbeResult r = probe_network(probe, loader, data.validation, plan, hooks);
      progress.set_phase("");
      const char* origin = candidates[i].scaled_seed ? " (the seed, scaled)" : "";
      progress.message(fmt::format("  {}. {}{}  log P {:.2f}  held-out {:.2f}%  {:.1f}s", i + 1,
                                   supernet::fixed_arch_line(candidates[i].arch), origin,
                                   candidates[i].log_probability, 100 * r.holdout_accuracy, r.seconds));
      records.push_back({static_cast<int32_t>(i), yaml::to_text(supernet::fixed_arch_yaml(candidates[i].arch)),
                         candidates[i].log_probability, r.holdout_accuracy, r.holdout_loss, false});
      if (r.holdout_accuracy > records[best].holdout_accuracy) best = i;
    }
    records[best].chosen = true;
    db.store_shortlist(run_id, records);
    progress.message(fmt::format("shortlist: network {} chosen", best + 1));
  }
  for (const OperatorUpgrade& u : candidates[best].upgrades)
    progress.message(fmt::format("fix: {} {} -> {} (held-out loss {:.4f} -> {:.4f}, budgets still met)", u.block,
                                 u.from, u.to, u.loss_before, u.loss_after));
  return candidates[best];
}

}  // namespace nas::search
