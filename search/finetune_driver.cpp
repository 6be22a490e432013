#include "search/finetune_driver.h"

#include <fmt/core.h>

#include <chrono>
#include <memory>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/threads.h"
#include "results/distillation_records.h"
#include "results/stored_network.h"
#include "search/finetune_phase.h"
#include "search/resume.h"
#include "search/search_config.h"
#include "search/train_driver.h"
#include "supernet/network_builder.h"

namespace nas::search {

namespace {

struct SearchToFinetune {
  results::RunDetail detail;
  results::FinetuneStart start;
};

// The search run and its stored start point, or one line saying why it cannot be fine-tuned again.
SearchToFinetune finished_search(const results::ResultsDb& db, int64_t run_id) {
  const std::string where = "nas finetune";
  auto detail = db.get_run(run_id);
  if (!detail)
    throw Error(where, fmt::format("no run {} in {} (nas runs lists the runs; --db picks another file)", run_id,
                                   db.path().string()));
  const results::RunSummary& s = detail->summary;
  if (s.kind != "search" && s.kind != "seed")
    throw Error(where, fmt::format("run {} is a run of kind {}; only a search (or a seed network run) has a fixed network and "
                                   "inherited weights to fine-tune again",
                                   run_id, s.kind));
  if (s.status != "done")
    throw Error(where, fmt::format("run {} is '{}', not finished; fine-tune a finished search", run_id, s.status));
  auto start = results::finetune_start_of_run(db, run_id);
  if (!detail->architecture || !start)
    throw Error(where, fmt::format("run {} has no stored fine-tuning start (searches before schema version 5 did "
                                   "not keep one); search again with this mcunas",
                                   run_id));
  return {std::move(*detail), std::move(*start)};
}

}  // namespace

FinetuneOutcome run_finetune(const FinetuneRequest& request, results::ResultsDb& db, Progress& progress) {
  const auto started = std::chrono::steady_clock::now();
  if (request.epochs && *request.epochs < 1)
    throw Error("--epochs", fmt::format("must be at least 1 (got {})", *request.epochs));
  const auto [search, start] = finished_search(db, request.search_run);
  SearchOverrides overrides;
  overrides.finetune_epochs = request.epochs;
  overrides.seed = request.seed;
  overrides.threads = request.threads;
  const std::filesystem::path config_path = search.summary.config_path.empty()
                                                ? std::filesystem::current_path() / "stored.yaml"
                                                : std::filesystem::path(search.summary.config_path);
  const SearchConfig config = search_config_from_text(search.config_yaml, config_path, overrides);

  if (config.finetune_epochs < 1)
    throw Error("nas finetune", fmt::format("run {}'s config fine-tunes for 0 epochs; pass --epochs N",
                                            request.search_run));
  ThreadBudget threads(config.threads);
  supernet::DataSplits data = load_search_data(config);
  const supernet::Shape input = data.train.batch_shape(1);
  const int32_t classes = data.train.num_classes;
  supernet::Network net = supernet::build_network(YAML::Load(search.architecture->model_yaml), input, classes,
                                                  config.seed);
  const std::string stored_start = fmt::format("run {}'s fine-tuning start", request.search_run);
  results::restore_values(start.weights, net.params().theta(), stored_start, "weights");
  results::restore_values(start.state, net.params().state(), stored_start, "BatchNorm statistics");
  supernet::BatchLoader loader(data.train, config.batch_size, /*shuffle=*/true, config.data.augment, config.seed);
  std::unique_ptr<Teacher> teacher;
  if (request.teacher) {
    teacher = std::make_unique<Teacher>(db, *request.teacher, data);
    teacher->prepare(data.train, loader.augments(), config.batch_size, progress);
  }
  progress.message(fmt::format("fine-tuning run {}'s fixed network for {}: {} epochs, seed {}{}", request.search_run,
                               search.architecture->target, config.finetune_epochs, config.seed,
                               teacher ? fmt::format(", distilled from run {}", teacher->run_id()) : ""));

  FinetuneOutcome outcome;
  outcome.target = search.architecture->target;
  outcome.search_test_accuracy = search.summary.test_accuracy;
  outcome.cost_records = search.architecture->costs;
  if (request.resume) {
    db.reopen_run(request.resume_run);
    outcome.run_id = request.resume_run;
    progress.message(fmt::format("run {} resumed in {} after fine-tuning epoch {}", outcome.run_id,
                                 db.path().string(), request.resume->epoch));
  } else {
    const results::RunStart run_start{"finetune", config.effective_yaml(), search.summary.config_path,
                                      request.command_line, config.seed, config.threads};
    outcome.run_id = db.begin_run(run_start);
    progress.message(fmt::format("run {} recorded in {}", outcome.run_id, db.path().string()));
    db.store_architecture(outcome.run_id, *search.architecture);
    results::store_finetune_source(db, outcome.run_id, results::run_uid(db, request.search_run));
    if (teacher) results::store_distillation(db, outcome.run_id, teacher->record("finetune"));
  }
  const FinetuneCheckpoints checkpoints{finetune_request_yaml(request),
                                        request.resume ? &*request.resume : nullptr};

  auto finish = [&](const std::string& status, const std::string& error) {
    results::RunEnd end =
        run_end(status, error, status == "done" ? std::optional(outcome.test_accuracy) : std::nullopt, &net);
    end.keep_checkpoint = request.keep_checkpoint;
    db.finish_run(outcome.run_id, end);
    outcome.status = status;
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  run_to_the_end(
      [&] {
        outcome.test_accuracy = run_finetune_phase(net, loader, data, finetune_plan(config),
                                                   teacher ? teacher->distillation() : nullptr, db, outcome.run_id,
                                                   progress, "nas finetune", &checkpoints);
      },
      [&] {
        progress.set_phase("");
        progress.message(fmt::format("run {} interrupted", outcome.run_id));
      },
      finish);
  return outcome;
}

}  // namespace nas::search
