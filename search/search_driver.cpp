#include "search/search_driver.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/threads.h"
#include "common/yaml_keys.h"
#include "constraints/penalty.h"
#include "cost_models/reachable.h"
#include "cost_models/target.h"
#include "results/distillation_records.h"
#include "search/arch_cost.h"
#include "search/finetune_phase.h"
#include "search/resume.h"
#include "search/seed_run.h"
#include "search/shortlist.h"
#include "search/supernet_trainer.h"
#include "search/train_driver.h"
#include "supernet/candidate_accuracy.h"
#include "supernet/network_builder.h"
#include "supernet/state_blob.h"
#include "supernet/supernet.h"
#include "supernet/weight_inheritance.h"

namespace nas::search {

namespace {

using constraints::Budget;
using constraints::format_metric;
using constraints::Metric;
using constraints::metric_name;

// Refuses budgets that no architecture of the space can meet, before any training.
void check_reachable(const std::vector<Budget>& budgets, const cost_models::Costs<double>& smallest,
                     const std::string& target) {
  for (const auto& b : budgets) {
    const double least = metric_cost(smallest, b.metric);
    if (least > b.limit)
      throw Error(b.source, fmt::format("cannot be met on {}: the smallest network of the search space needs {} "
                                        "of {} (raise the budget to at least that, or shrink the search space)",
                                        target, format_metric(b.metric, least), metric_name(b.metric)));
  }
}

std::string budgets_line(const std::vector<Budget>& budgets, const cost_models::Costs<double>& costs,
                         const constraints::Penalty* penalty) {
  std::string line;
  for (size_t i = 0; i < budgets.size(); ++i) {
    const auto& b = budgets[i];
    line += fmt::format("  {} {}/{}", metric_name(b.metric), format_metric(b.metric, metric_cost(costs, b.metric)),
                        format_metric(b.metric, b.limit));
    if (penalty) line += fmt::format(" λ={:.3g}", penalty->lambda(i));
  }
  return line;
}

std::vector<results::CostRecord> cost_records(const cost_models::Costs<double>& costs,
                                              const std::vector<Budget>& budgets) {
  std::vector<results::CostRecord> records;
  for (const Metric m : constraints::kMetrics) {
    results::CostRecord r{std::string(metric_name(m)), metric_cost(costs, m), std::nullopt, ""};
    for (const auto& b : budgets)
      if (b.metric == m) {
        r.budget = b.limit;
        r.budget_source = b.source;
      }
    records.push_back(r);
  }
  return records;
}

// Each operator's held-out accuracy in the warmed-up supernet: stored, and one line per block on the progress.
void report_candidates(supernet::SuperNet& net, const supernet::Dataset& holdout, const SearchConfig& config,
                       results::ResultsDb& db, int64_t run_id, Progress& progress) {
  if (holdout.count == 0) return;
  supernet::Rng rng(config.seed ^ 0xca9d1da7eULL);
  const auto candidates =
      supernet::candidate_accuracies(net, holdout, /*paths=*/4, /*images=*/1000, config.batch_size, rng);
  std::vector<results::CandidateAccuracyRecord> records;
  std::string line;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    records.push_back({c.block, c.op, c.accuracy});
    if (i == 0 || candidates[i - 1].block != c.block) line += fmt::format("{}  {}:", line.empty() ? "" : "\n", c.block);
    line += fmt::format(" {} {:.1f}%", c.op, 100 * c.accuracy);
  }
  db.add_candidate_accuracies(run_id, records);
  progress.message("held-out accuracy of each operator after warm-up (other blocks sampled):\n" + line);
}

}  // namespace

SearchOutcome run_search(const SearchRequest& request, results::ResultsDb& db, Progress& progress) {
  const SearchConfig& config = request.config;
  const auto started = std::chrono::steady_clock::now();
  // Everything that can be wrong with the input is checked before the run is recorded.
  const cost_models::Target target = cost_models::load_target(request.target);
  if (request.seed_network && request.budgets.any())
    throw Error("--seed-network", "trains the unconstrained seed network; drop the --max-... budgets (its costs are "
                                  "recorded against the board's own limits)");
  const std::vector<Budget> budgets = constraints::make_budgets(
      request.budgets, {target.name, static_cast<double>(target.sram_bytes), static_cast<double>(target.flash_bytes)});
  ThreadBudget threads(config.threads);
  supernet::DataSplits data = load_search_data(config);
  if (!request.seed_network && data.validation.count == 0)
    throw Error(config.path.string(),
                fmt::format("data: {} training items leave none to hold out for the architecture steps (a search "
                            "holds out a tenth of them, at most search.arch.holdout); give at least 10 training items "
                            "or a data.validation split", data.train.count));
  const supernet::Shape input = data.train.batch_shape(1);
  const int32_t classes = data.train.num_classes;
  std::unique_ptr<Teacher> teacher = request.teacher ? std::make_unique<Teacher>(db, *request.teacher, data) : nullptr;
  const supernet::SearchSpace space = [&] {
    try {
      return supernet::parse_search_space(config.space_node, input);
    } catch (const Error& e) {
      throw Error(config.path.string(), e.what(), e.kind());
    }
  }();
  const ArchCost cost(space, input, classes, target);
  // The seed network is not searched: it has no budget to reach.
  if (!request.seed_network) {
    if (cost_models::smallest_is_exact(space))
      check_reachable(budgets, cost_models::smallest_costs(space, input, classes, target), target.name);
    else
      progress.message("note: the search space is too large to find its smallest network exactly; budgets are not "
                       "checked for reachability before the search");
  }
  constraints::Penalty penalty(budgets, config.penalty);

  progress.message(fmt::format("target {}: {}", target.name, target.description));
  progress.message(fmt::format("data: {} train, {} held out for the architecture, {} test images of {}x{}x{}, {} "
                               "classes", data.train.count, data.validation.count, data.test.count, input.h, input.w,
                               input.c, classes));
  const auto largest = cost_models::largest_costs(space, input, classes, target);
  progress.message("largest network of the space:" + budgets_line(budgets, largest, nullptr));

  supernet::SuperNet net(space, input, classes, config.seed);
  if (request.seed_run > 0 && !request.resume) {  // a resumed run's checkpoint holds its supernet already
    const SeedNetwork seed = load_seed_network(db, request.seed_run, input, classes);
    supernet::seed_supernet(*seed.net, seed.arch, net);
    progress.message(fmt::format("the supernet starts from run {}'s network and weights", request.seed_run));
  }
  supernet::BatchLoader loader(data.train, config.batch_size, /*shuffle=*/true, config.data.augment, config.seed);
  SupernetTrainer trainer(net, config, cost, penalty, loader.batches_per_epoch(), data.validation);
  if (teacher) {
    teacher->prepare(data.train, loader.augments(), config.batch_size, progress);
    if (request.teacher->in_search) trainer.set_distillation(teacher->distillation());
  }

  SearchOutcome outcome;
  outcome.target = target.name;
  const std::string request_yaml = search_request_yaml(request);
  const results::CheckpointRecord* resume = request.resume ? &*request.resume : nullptr;
  if (resume) {
    db.reopen_run(request.resume_run, request.take_over);
    outcome.run_id = request.resume_run;
    progress.message(fmt::format("run {} resumed in {} after {} epoch {}", outcome.run_id, db.path().string(),
                                 resume->phase, resume->epoch));
  } else {
    results::RunStart start{request.seed_network ? "seed" : "search", config.effective_yaml(), config.path.string(),
                            request.command_line, config.seed, config.threads};
    outcome.run_id = db.begin_run(start);
    progress.message(fmt::format("run {} recorded in {}", outcome.run_id, db.path().string()));
    if (teacher)
      results::store_distillation(
          db, outcome.run_id,
          teacher->record(request.teacher->in_search && !request.seed_network ? "search+finetune" : "finetune"));
  }
  // The supernet's state after an epoch of warm-up or search, as a checkpoint (resume.h continues from it).
  auto supernet_checkpoint = [&](const char* phase, int32_t phase_epoch) {
    supernet::StateWriter out;
    trainer.save(out);
    return results::CheckpointRecord{phase, phase_epoch, request_yaml, out.take()};
  };
  const bool resume_in_finetune = resume && resume->phase == "finetune";
  int32_t first_epoch = 0;
  if (resume && !resume_in_finetune) {
    supernet::StateReader in(resume->state, fmt::format("the checkpoint of run {}", outcome.run_id));
    trainer.load(in);
    in.finish();
    first_epoch = resume->phase == "warmup" ? resume->epoch : config.warmup_epochs + resume->epoch;
  }

  std::unique_ptr<supernet::Network> fixed;
  auto finish = [&](const std::string& status, const std::string& error) {
    results::RunEnd end = run_end(status, error, status == "done" ? std::optional(outcome.test_accuracy) : std::nullopt,
                                  fixed.get());
    end.keep_checkpoint = request.keep_checkpoint;
    db.finish_run(outcome.run_id, end);
    outcome.status = status;
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };

  run_to_the_end(
      [&] {
        // Warm-up and search share one weight schedule; epochs are counted over both. The seed network skips both.
        const int32_t supernet_epochs =
            request.seed_network || resume_in_finetune ? 0 : config.warmup_epochs + config.search_epochs;
        for (int32_t e = first_epoch; e < supernet_epochs; ++e) {
          const bool search = e >= config.warmup_epochs;
          const char* phase = search ? "search" : "warmup";
          const int32_t phase_epoch = search ? e - config.warmup_epochs + 1 : e + 1;
          progress.set_phase(phase);
          progress.begin_epoch(phase_epoch, search ? config.search_epochs : config.warmup_epochs,
                               loader.batches_per_epoch());
          const auto train = trainer.epoch(
              loader, e, search,
              phase_step_callback(progress, "nas search", phase, phase_epoch, config.batch_size, data.train.count));
          const double lr = trainer.learning_rate(int64_t{e + 1} * loader.batches_per_epoch() - 1);
          const results::EpochRecord record = phase_epoch_record(phase_epoch, phase, lr, train);
          std::string line = fmt::format("loss {:.4f} train {:.2f}%  {:.1f}s", train.loss, 100 * train.accuracy,
                                         train.seconds);
          if (!search) {
            progress.end_epoch(line);
            // The operators' accuracies after the last warm-up epoch come before its checkpoint: a resumed run then
            // never lacks them, and the checkpoint holds the supernet as the search phase finds it.
            if (phase_epoch == config.warmup_epochs && config.search_epochs > 0)
              report_candidates(net, data.validation, config, db, outcome.run_id, progress);
            const results::CheckpointRecord checkpoint = supernet_checkpoint(phase, phase_epoch);
            db.add_epoch(outcome.run_id, record, &checkpoint);
            continue;
          }
          const auto soft = cost.soft_costs(net, nullptr);  // the expectation, for the trace
          const auto fixed_now = cost.exact(net.fix());
          std::vector<results::BudgetTrace> trace;
          for (size_t b = 0; b < budgets.size(); ++b)
            trace.push_back({phase_epoch, std::string(metric_name(budgets[b].metric)),
                             metric_cost(soft, budgets[b].metric), metric_cost(fixed_now, budgets[b].metric),
                             budgets[b].limit, penalty.lambda(b)});
          std::vector<results::ArchGradientTrace> gradients;
          for (size_t b = 0; b < space.blocks.size(); ++b) {
            const auto& share = trainer.gradient_shares()[b];
            gradients.push_back({phase_epoch, space.blocks[b].name, share.op_accuracy, share.op_penalty,
                                 share.width_accuracy, share.width_penalty});
          }
          const results::CheckpointRecord checkpoint = supernet_checkpoint(phase, phase_epoch);
          db.add_search_epoch(outcome.run_id, record, trace, gradients, &checkpoint);
          progress.end_epoch(line + fmt::format("  τ={:.3f}", trainer.tau()) +
                             budgets_line(budgets, fixed_now, &penalty));
        }

        // Fix: argmax operators and widths; then channel counts repaired or fitted to the budgets, less the
        // latency model's margin (fix_to_budgets.h). The seed network is taken as it is: its costs are what they are.
        if (resume_in_finetune) {
          // Fixed before the process ended: the stored architecture is the one the checkpoint's weights belong to.
          const auto stored = db.get_run(outcome.run_id);
          if (!stored || !stored->architecture)
            throw Error(fmt::format("the checkpoint of run {}", outcome.run_id),
                        "is in fine-tuning but the run has no stored architecture", Error::Kind::failure);
          outcome.arch = supernet::parse_fixed_arch(YAML::Load(stored->architecture->arch_yaml));
          outcome.repaired_channels = stored->architecture->repaired_channels;
          outcome.added_channels = stored->architecture->added_channels;
        } else if (request.seed_network) {
          outcome.arch = supernet::seed_arch(space);
        } else {
          const FixedCandidate chosen = choose_fixed_network(net, space, cost, budgets, input.c, config, loader, data,
                                                             db, outcome.run_id, progress);
          outcome.arch = chosen.arch;
          outcome.repaired_channels = chosen.removed_channels;
          outcome.added_channels = chosen.added_channels;
          outcome.fits = chosen.fits;
        }
        outcome.costs = cost.exact(outcome.arch);
        outcome.cost_records = cost_records(outcome.costs, budgets);
        if (request.seed_network || resume_in_finetune)
          outcome.fits = std::none_of(outcome.cost_records.begin(), outcome.cost_records.end(),
                                      [](const results::CostRecord& r) { return r.budget && r.value > *r.budget; });
        progress.set_phase("");
        progress.message("fixed architecture:" + budgets_line(budgets, outcome.costs, nullptr) +
                         fmt::format(" ({} channels removed, {} added back to fit the budgets)",
                                     outcome.repaired_channels, outcome.added_channels));
        const YAML::Node model = supernet::fixed_model_yaml(outcome.arch);
        if (!resume_in_finetune)
          db.store_architecture(outcome.run_id,
                                {target.name, yaml::to_text(supernet::fixed_arch_yaml(outcome.arch)),
                                 yaml::to_text(model), outcome.repaired_channels, outcome.added_channels,
                                 outcome.cost_records});

        // Fine-tune the fixed net from the supernet's weights (or, with search.finetune.start: scratch, from a fresh
        // initialisation), which are stored first: `nas finetune` starts there again (with a teacher, or another
        // seed) without searching again. A resumed fine-tuning takes its weights from the checkpoint instead.
        fixed = std::make_unique<supernet::Network>(supernet::build_network(model, input, classes, config.seed));
        if (!resume_in_finetune) {
          if (config.finetune_init == FinetuneInit::supernet)
            supernet::inherit_weights(net, outcome.arch, *fixed);
          else  // build_network's initialisation, seeded by config.seed
            progress.message("fine-tuning starts from fresh weights (search.finetune.start: scratch)");
          const auto theta = fixed->params().theta(), state = fixed->params().state();
          results::store_finetune_start(db, outcome.run_id,
                                        {{theta.begin(), theta.end()}, {state.begin(), state.end()}});
        }
        const FinetuneCheckpoints checkpoints{request_yaml, resume_in_finetune ? resume : nullptr};
        outcome.test_accuracy = run_finetune_phase(*fixed, loader, data, finetune_plan(config),
                                                   teacher ? teacher->distillation() : nullptr, db,
                                                   outcome.run_id, progress, "nas search", &checkpoints);
      },
      [&] {
        progress.set_phase("");
        progress.message(fmt::format("run {} interrupted", outcome.run_id));
      },
      finish);
  return outcome;
}

}  // namespace nas::search
