// The fix step's shortlist: which of a few networks the search hands to fine-tuning.
//
// The search ends with a distribution over each block's operators; its argmax is one network, but the supernet
// that trained that distribution ranks architectures close to chance within a family (Kendall τ 0.50 over 8
// architectures, docs/search.md), so the argmax is often not the best of what the distribution still considers.
// The shortlist takes the `candidates` most probable operator sets under the final distribution (τ = 1: the
// logits themselves, not the annealed τ_end, which makes every set but the argmax vanishingly unlikely), fixes each
// like the argmax (argmax widths, repair, upgrade, fit: every one fits the budgets), trains each for a short probe
// with the fine-tuning optimiser and its schedule compressed into the probe, from where the fine-tune starts (the
// supernet's weights or fresh ones; ShortlistSpec::start), and keeps the one with the highest held-out accuracy
// (ties: the more probable). Real training decides between networks the supernet cannot tell apart; the probe
// networks are discarded and the chosen one is fine-tuned like any other. choose_fixed_network adds the seed network scaled
// uniformly to the budgets (scale_to_budgets in fix_to_budgets.h; ShortlistSpec in search_config.h). A space with
// one operator per block has one operator set, and no probe runs. A probe from the supernet's weights favours what
// the supernet trained most: a candidate whose operators shared their training with many others starts behind
// (docs/search.md, "Shortlist").
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "constraints/budget.h"
#include "results/results_db.h"
#include "search/arch_cost.h"
#include "search/finetune_phase.h"
#include "search/operator_upgrade.h"
#include "search/progress.h"
#include "search/search_config.h"
#include "supernet/dataset.h"
#include "supernet/network.h"
#include "supernet/supernet.h"
#include "supernet/trainer.h"

namespace nas::search {

// log softmax(logits).
std::vector<double> log_softmax(const std::vector<double>& logits);

// The `k` most probable assignments of one choice per block under independent per-block distributions given as
// log-probabilities (`log_probs[b][i]`), most probable first; equal sums keep the lexicographically smaller
// assignment first. Fewer when the space has fewer. Exact: any of the k best keeps a prefix among the k best
// prefixes, so a beam of width k over the blocks finds them.
struct ChoiceSet {
  std::vector<size_t> choices;
  double log_probability = 0;
};
std::vector<ChoiceSet> most_probable_choice_sets(const std::vector<std::vector<double>>& log_probs, size_t k);

struct ProbeResult {
  double holdout_accuracy = 0, holdout_loss = 0;
  double seconds = 0;
};

// Trains `net` for plan.epochs on `loader` (plan's optimiser; its schedule over those epochs) and evaluates it on
// `holdout`. Around each epoch (1-based): `begin(epoch)` returns its step callback (progress, interrupt), `end`
// sees its training result.
struct ProbeHooks {
  std::function<supernet::StepCallback(int32_t epoch)> begin;
  std::function<void(int32_t epoch, const supernet::EpochResult&)> end;
};
ProbeResult probe_network(supernet::Network& net, supernet::BatchLoader& loader, const supernet::Dataset& holdout,
                          const FinetunePlan& plan, const ProbeHooks& hooks = {});

// One network the fix step may hand to fine-tuning: an operator set with the argmax widths, repaired, upgraded
// and fitted to the budgets (fix_to_budgets.h, operator_upgrade.h).
struct FixedCandidate {
  supernet::FixedArch arch;
  int32_t removed_channels = 0, added_channels = 0;
  bool fits = true;
  std::vector<OperatorUpgrade> upgrades;
  double log_probability = 0;
  bool scaled_seed = false;  // the seed network scaled to the budgets, not an operator set fixed from the search
};

// The fix step of a search: the shortlist's operator sets (the config's most probable ones), each fixed to the
// budgets, and with seed_ops the seed network scaled to them, all less the latency model's margin
// (fix_to_budgets.h); with more than one distinct network that fits, each is probed and the most accurate on the
// held-out split chosen. The shortlist is stored with the run; the chosen network's operator upgrades are printed.
FixedCandidate choose_fixed_network(supernet::SuperNet& net, const supernet::SearchSpace& space, const ArchCost& cost,
                                    const std::vector<constraints::Budget>& budgets, int32_t input_channels,
                                    const SearchConfig& config, supernet::BatchLoader& loader,
                                    const supernet::DataSplits& data, results::ResultsDb& db, int64_t run_id,
                                    Progress& progress);

}  // namespace nas::search
