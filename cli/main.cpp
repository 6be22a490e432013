// The `nas` command line. Thin by design: it parses arguments and calls library functions, so everything it does
// is tested without a shell. Errors print one line and exit 2 (bad input) or 1 (failure).
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "constraints/budget.h"
#include "cost_models/target.h"
#include "results/deployment_records.h"
#include "results/distillation_records.h"
#include "results/results_db.h"
#include "results/run_report.h"
#include "search/progress.h"
#include "search/resume.h"
#include "search/search_config.h"
#include "search/search_driver.h"
#include "search/seed_run.h"
#include "search/target_listing.h"
#include "search/train_config.h"
#include "search/train_driver.h"

namespace {

using nas::cli::require_existing;
using nas::results::ResultsDb;

// `--resume RUN` continues a run with what it was started with: any other option of `command` given with it (but
// --db, --json and --keep-checkpoint) would be silently ignored, so it is refused. `kept` says what the run keeps.
void refuse_options_beside_resume(const CLI::App& command, const std::string& kept) {
  for (const auto* option : command.get_options()) {
    const std::string name = option->get_name();
    if (option->count() > 0 && name != "--resume" && name != "--keep-checkpoint" && name != "--db" && name != "--json")
      throw nas::Error("--resume", "continues a run with " + kept + "; drop " + name);
  }
}

std::string joined_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + std::string(argv[i]);
  return line;
}

// `nas train`, a new run or (resume_run > 0) one continued from its checkpoint with its own config and teacher.
int command_train(nas::search::TrainConfig config, std::optional<nas::search::TeacherSpec> teacher,
                  const std::string& db_path, bool json, const std::string& command_line, int64_t resume_run,
                  bool keep_checkpoint) {
  if (teacher) nas::search::check_distillation_settings(teacher->settings);
  if (teacher || resume_run > 0) require_existing(db_path);  // the teacher, or the run, is in this file
  ResultsDb db(db_path);
  std::optional<nas::search::TrainResume> resume;
  if (resume_run > 0) {
    resume = nas::search::train_resume(db, resume_run);
    config = resume->config;
    teacher = resume->teacher;
  }
  nas::search::Progress progress(nas::search::Progress::detect(/*quiet=*/false));
  nas::install_interrupt_handler();
  const auto outcome = nas::search::run_train(config, db, progress, command_line, teacher, resume_run,
                                              resume ? &resume->checkpoint : nullptr, keep_checkpoint);
  if (json) {
    const nlohmann::json out = {{"run_id", outcome.run_id},
                                {"status", outcome.status},
                                {"config", config.path.string()},
                                {"epochs_done", outcome.epochs_done},
                                {"test_accuracy", outcome.test_accuracy},
                                {"mean_epoch_seconds", outcome.mean_epoch_seconds},
                                {"images_per_second", outcome.images_per_second},
                                {"parameters", outcome.parameters},
                                {"peak_rss_bytes", outcome.peak_rss_bytes},
                                {"threads", config.threads},
                                {"db", db.path().string()}};
    std::cout << out.dump() << "\n";
  } else if (outcome.epochs_done == 0) {
    fmt::print("run {} {} before its first epoch finished\n", outcome.run_id, outcome.status);
  } else {
    fmt::print("run {} {}: test accuracy {:.2f}% after {} epochs ({:.1f} s/epoch, {:.0f} img/s, peak RSS {:.0f} MiB)\n",
               outcome.run_id, outcome.status, 100 * outcome.test_accuracy, outcome.epochs_done,
               outcome.mean_epoch_seconds, outcome.images_per_second,
               static_cast<double>(outcome.peak_rss_bytes) / (1 << 20));
    fmt::print("stored in {} (nas show {})\n", db.path().string(), outcome.run_id);
  }
  return outcome.status == "done" ? 0 : 130;
}

// Runs the search `request` asks for (a new run or a resumed one) and prints its outcome.
int search_into(const nas::search::SearchRequest& request, ResultsDb& db, bool json) {
  nas::search::Progress progress(nas::search::Progress::detect(/*quiet=*/false));
  nas::install_interrupt_handler();
  const auto outcome = nas::search::run_search(request, db, progress);
  if (json) {
    const nlohmann::json out = {{"run_id", outcome.run_id},
                                {"status", outcome.status},
                                {"target", outcome.target},
                                {"test_accuracy", outcome.status == "done" ? nlohmann::json(outcome.test_accuracy)
                                                                           : nlohmann::json(nullptr)},
                                {"costs", nas::results::costs_json(outcome.cost_records)},
                                {"fits", outcome.fits},
                                {"repaired_channels", outcome.repaired_channels},
                                {"seconds", outcome.seconds},
                                {"config", request.config.path.string()},
                                {"db", db.path().string()}};
    std::cout << out.dump() << "\n";
  } else if (outcome.status != "done") {
    fmt::print("run {} {} (nas show {} has what was recorded)\n", outcome.run_id, outcome.status, outcome.run_id);
  } else {
    fmt::print("run {} done in {:.0f} s: test accuracy {:.2f}% on {}\n", outcome.run_id, outcome.seconds,
               100 * outcome.test_accuracy, outcome.target);
    for (const auto& c : outcome.cost_records) {
      const auto metric = nas::constraints::metric_named(c.metric).value_or(nas::constraints::Metric::ram);
      fmt::print("  {:<8} {:>10}", c.metric, nas::constraints::format_metric(metric, c.value));
      if (c.budget)
        fmt::print("  of {:>10} ({:5.1f}%, {}){}", nas::constraints::format_metric(metric, *c.budget),
                   100 * c.value / *c.budget, c.budget_source, c.value > *c.budget ? "  MISSED" : "");
      fmt::print("\n");
    }
    if (outcome.repaired_channels > 0)
      fmt::print("  {} channels removed after fixing so that every budget holds\n", outcome.repaired_channels);
    fmt::print("fixed architecture, weights and costs stored in {} (nas show {})\n", db.path().string(),
               outcome.run_id);
  }
  if (outcome.status != "done") return 130;
  return outcome.fits ? 0 : 1;
}

int command_search(const nas::search::SearchRequest& request, const std::string& db_path, bool json) {
  // A bad target, budget or distillation setting is refused before the database is even opened (run_search checks
  // again, and checks the data, the search space and the teacher, before it records anything).
  const auto target = nas::cost_models::load_target(request.target);
  nas::constraints::make_budgets(request.budgets, {target.name, static_cast<double>(target.sram_bytes),
                                                   static_cast<double>(target.flash_bytes)});
  if (request.teacher) {
    nas::search::check_distillation_settings(request.teacher->settings);
    require_existing(db_path);
  }
  ResultsDb db(db_path);
  return search_into(request, db, json);
}

// `nas search --resume RUN`: the run's own request, rebuilt from its stored config and checkpoint.
int command_resume_search(int64_t run_id, bool keep_checkpoint, const std::string& db_path, bool json,
                          std::string command_line) {
  require_existing(db_path);
  ResultsDb db(db_path);
  auto request = nas::search::resume_request(db, run_id, std::move(command_line));
  request.keep_checkpoint = keep_checkpoint;
  return search_into(request, db, json);
}

int command_targets(bool json) {
  std::vector<nas::cost_models::Target> targets;
  for (const auto& name : nas::cost_models::known_targets()) targets.push_back(nas::cost_models::load_target(name));
  if (json)
    std::cout << nas::search::targets_json(targets).dump() << "\n";
  else
    std::cout << nas::search::format_targets(targets);
  return 0;
}

int command_runs(const std::string& db_path, bool json) {
  require_existing(db_path);
  const ResultsDb db(db_path, ResultsDb::Access::read_only);
  const auto runs = db.list_runs();
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& run : runs) list.push_back(nas::results::run_summary_json(run));
    std::cout << nlohmann::json{{"db", db.path().string()}, {"runs", list}}.dump() << "\n";
  } else if (runs.empty()) {
    fmt::print("no runs yet in {}\n", db.path().string());
  } else {
    std::cout << nas::results::format_runs_table(runs);
  }
  return 0;
}

int command_show(const std::string& db_path, int64_t run_id, bool json) {
  require_existing(db_path);
  const ResultsDb db(db_path, ResultsDb::Access::read_only);
  const auto run = db.get_run(run_id);
  if (!run)
    throw nas::Error("nas show", "no run " + std::to_string(run_id) + " in " + db.path().string() +
                                     " (nas runs lists them)");
  const auto deployments = nas::results::deployments_of_run(db, run_id);
  if (json) {
    auto out = nas::results::run_detail_json(*run);
    out.update(nas::results::distillation_json(db, run_id));
    for (const auto& d : deployments) out["deployments"].push_back(nas::results::deployment_json(d));
    std::cout << out.dump() << "\n";
  } else {
    std::cout << nas::results::format_run_detail(*run) << nas::results::distillation_lines(db, run_id)
              << nas::results::deployment_lines(deployments);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mcunas: neural architecture search for microcontrollers"};
  app.require_subcommand(1);
  std::string db_path = "mcunas.db";
  bool json = false;
  app.add_option("--db", db_path, "results database (SQLite)")->capture_default_str();
  app.add_flag("--json", json, "print one JSON object on stdout (progress stays on stderr)");

  auto* train = app.add_subcommand("train", "train a fixed network from an experiment config");
  std::string config_path;
  nas::search::TrainOverrides overrides;
  train->add_option("--config", config_path, "experiment YAML, e.g. experiments/fmnist_cnn.yaml");
  int64_t train_resume_run = 0;
  bool train_keep_checkpoint = false;
  train->add_flag("--keep-checkpoint", train_keep_checkpoint,
                  "keep the run's last checkpoint when it is done (default: removed)");
  train->add_option("--resume", train_resume_run,
                    "continue run RUN (stale, interrupted or failed) from its last complete epoch, with its own config");
  train->add_option("--epochs", overrides.epochs, "override train.epochs");
  train->add_option("--threads", overrides.threads, "override train.threads");
  train->add_option("--batch-size", overrides.batch_size, "override train.batch_size");
  train->add_option("--seed", overrides.seed, "override train.seed");
  train->add_option("--data-dir", overrides.data_dir, "override data.dir (where the data files are)");

  nas::cli::TeacherArgs train_teacher;
  nas::cli::add_teacher_options(train, train_teacher);

  auto* search = app.add_subcommand("search", "search the network that fits a board's budgets (warm-up, search, "
                                               "fix, fine-tune, test)");
  nas::search::SearchRequest request;
  std::string search_config = nas::search::default_search_config().string();
  nas::search::SearchOverrides search_overrides;
  search->add_option("--target", request.target, "board name (nas targets lists them) or a target YAML");
  search->add_option("--max-ram", request.budgets.max_ram, "peak RAM budget incl. the firmware's share, e.g. 256K");
  search->add_option("--max-flash", request.budgets.max_flash, "flash budget incl. the firmware's share, e.g. 1M");
  search->add_option("--max-latency", request.budgets.max_latency, "latency budget per inference, e.g. 50ms");
  search->add_option("--max-energy", request.budgets.max_energy, "energy budget per inference, e.g. 2mJ");
  search->add_option("--max-macs", request.budgets.max_macs, "multiply-accumulates per inference, e.g. 2.5M");
  search->add_option("--max-params", request.budgets.max_params, "parameters (weights and biases), e.g. 50K");
  search->add_option("--config", search_config, "search YAML")->capture_default_str();
  search->add_option("--seed", search_overrides.seed, "override search.seed");
  search->add_option("--threads", search_overrides.threads, "override search.threads");
  search->add_option("--warmup-epochs", search_overrides.warmup_epochs, "override search.epochs.warmup");
  search->add_option("--search-epochs", search_overrides.search_epochs, "override search.epochs.search");
  search->add_option("--finetune-epochs", search_overrides.finetune_epochs, "override search.epochs.finetune");
  search->add_option("--data-dir", search_overrides.data_dir, "override data.dir (where the data files are)");
  search->add_option("--seed-run", request.seed_run,
                     "search the widths of run RUN's network (nas import model.onnx --as-seed, or a search), from "
                     "its weights and on its data, instead of the config's search space");
  search->add_flag("--seed-network", request.seed_network,
                   "no search: train the space's seed network (every block's first op, all channels) for the "
                   "fine-tune epochs, the unconstrained reference");
  int64_t resume_run = 0;
  search->add_option("--resume", resume_run,
                     "continue run RUN (stale, interrupted or failed) from its last complete epoch, with its own "
                     "config, board and budgets");
  search->add_flag("--keep-checkpoint", request.keep_checkpoint,
                   "keep the run's last checkpoint when it is done (default: removed)");
  nas::cli::TeacherArgs search_teacher;
  nas::cli::add_teacher_options(search, search_teacher);
  search_teacher.needs_teacher.push_back(search->add_flag(
      "--teacher-in-search", search_teacher.in_search,
      "distil in the warm-up and search phases too (default: in fine-tuning only)"));

  auto* finetune = app.add_subcommand("finetune", "fine-tune a finished search's network again from its inherited "
                                                   "weights, e.g. with a --teacher or another --seed (a new run)");
  nas::search::FinetuneRequest finetune_request;
  nas::cli::TeacherArgs finetune_teacher;
  finetune->add_option("run", finetune_request.search_run, "the search run (see nas runs)");
  int64_t finetune_resume_run = 0;
  finetune->add_flag("--keep-checkpoint", finetune_request.keep_checkpoint,
                     "keep the run's last checkpoint when it is done (default: removed)");
  finetune->add_option("--resume", finetune_resume_run,
                       "continue nas finetune run RUN (stale, interrupted or failed) from its last complete epoch");
  finetune->add_option("--epochs", finetune_request.epochs, "fine-tuning epochs (default: the search's)");
  finetune->add_option("--seed", finetune_request.seed, "data order seed (default: the search's)");
  finetune->add_option("--threads", finetune_request.threads, "threads (default: the search's)");
  nas::cli::add_teacher_options(finetune, finetune_teacher);

  auto* sweep = app.add_subcommand("sweep", "run a grid of searches (targets x budgets x seeds) here or on a Slurm "
                                            "cluster, each job into its own shard, merged on completion");
  nas::cli::SweepArgs sweep_args;
  sweep->add_option("--target", sweep_args.targets, "boards, comma-separated: nano33,f746");
  sweep->add_option("--max-latency", sweep_args.max_latency, "latency budgets, comma-separated: 10ms,20ms,50ms");
  sweep->add_option("--max-ram", sweep_args.max_ram, "RAM budgets, comma-separated: 64K,128K,256K");
  sweep->add_option("--max-flash", sweep_args.max_flash, "flash budgets, comma-separated");
  sweep->add_option("--max-energy", sweep_args.max_energy, "energy budgets, comma-separated");
  sweep->add_option("--max-macs", sweep_args.max_macs, "MAC budgets, comma-separated: 500K,1M,2M");
  sweep->add_option("--max-params", sweep_args.max_params, "parameter budgets, comma-separated: 20K,50K");
  sweep->add_option("--seeds", sweep_args.spec.seeds, "seeds per grid point (search.seed, +1, ...)")
      ->capture_default_str();
  sweep->add_option("--jobs", sweep_args.jobs, "jobs at once (local: processes; slurm: array tasks, 0 = no limit)")
      ->capture_default_str();
  sweep->add_option("--executor", sweep_args.spec.executor, "local or slurm")->capture_default_str();
  sweep->add_option("--config", sweep_args.spec.config, "search YAML")->default_val(search_config);
  sweep->add_option("--name", sweep_args.spec.name, "sweep name (default sweep-N)");
  sweep->add_option("--dir", sweep_args.dir, "where the jobs' shards and logs go (default: sweeps/NAME beside --db; "
                                              "on a cluster, a directory every node sees)");
  sweep->add_option("--threads", sweep_args.spec.overrides.threads,
                    "threads per job (local default: cores / --jobs; slurm: also --cpus-per-task)");
  sweep->add_option("--warmup-epochs", sweep_args.spec.overrides.warmup_epochs, "override search.epochs.warmup");
  sweep->add_option("--search-epochs", sweep_args.spec.overrides.search_epochs, "override search.epochs.search");
  sweep->add_option("--finetune-epochs", sweep_args.spec.overrides.finetune_epochs, "override search.epochs.finetune");
  sweep->add_option("--data-dir", sweep_args.spec.overrides.data_dir, "override data.dir");
  sweep->add_option("--sbatch", sweep_args.sbatch_args,
                    "an sbatch option passed through, repeatable: --sbatch=--partition=cpu --sbatch=--time=2:00:00");
  sweep->add_option("--resume", sweep_args.resume, "run the unfinished jobs of local sweep NAME (after Ctrl-C)");
  sweep->add_option("--status", sweep_args.status, "print where each job of sweep NAME stands");
  auto* wait_option = sweep->add_option("--wait", sweep_args.follow,
                                        "follow a sweep until every job ended, merging as they end: the new one "
                                        "(slurm), or NAME")
                          ->expected(0, 1);

  auto* sweep_job = app.add_subcommand("sweep-job", "run one job of a sweep (what nas sweep starts; not for hand use)");
  std::string sweep_job_dir;
  std::optional<int32_t> sweep_job_index;
  sweep_job->add_option("dir", sweep_job_dir, "the sweep directory")->required();
  sweep_job->add_option("index", sweep_job_index, "job index (default: $SLURM_ARRAY_TASK_ID)");

  auto* merge = app.add_subcommand("merge", "fold finished runs of shard databases into --db (idempotent, one "
                                            "transaction per shard)");
  std::vector<std::string> merge_shards;
  std::string merge_sweep;
  merge->add_option("shards", merge_shards, "shard databases (a sweep's job-K.db files)");
  merge->add_option("--sweep", merge_sweep, "merge every finished job of sweep NAME");

  auto* pareto = app.add_subcommand("pareto", "the non-dominated candidates: accuracy against a cost, per target");
  nas::results::ParetoQuery pareto_query;
  std::string pareto_plot;
  bool pareto_all = false;
  pareto->add_option("--target", pareto_query.target, "one board only");
  pareto->add_option("--sweep", pareto_query.sweep, "one sweep's runs only");
  pareto->add_option("--x", pareto_query.x, "latency, ram, flash, energy, macs or params")->capture_default_str();
  pareto->add_option("--y", pareto_query.y, "accuracy")->capture_default_str();
  pareto->add_option("--by", pareto_query.series, "plot one series per target or per sweep")->capture_default_str();
  pareto->add_flag("--measured", pareto_query.measured,
                   "latency and energy measured in QEMU (nas profile, nas deploy --run-qemu) instead of estimated; "
                   "runs not measured yet are left out");
  pareto->add_option("--plot", pareto_plot, "write the fronts as front.svg (or .png through rsvg-convert)");
  pareto->add_flag("--all", pareto_all, "list dominated candidates too");

  nas::cli::DeployArgs deploy_args;
  auto add_calibration = [&](CLI::App* sub) {
    sub->add_option("run", deploy_args.run_id, "run id (see nas runs)")->required();
    sub->add_option("--calibration", deploy_args.calibration.method, "activation ranges: percentile, minmax or mse")
        ->capture_default_str();
    sub->add_option("--calibration-images", deploy_args.calibration.images, "training images to calibrate on")
        ->capture_default_str();
    sub->add_option("--percentile", deploy_args.calibration.percentile, "for --calibration percentile")
        ->capture_default_str();
    sub->add_option("--threads", deploy_args.threads, "threads for the float network")->capture_default_str();
    sub->add_flag("!--no-bias-correction", deploy_args.calibration.bias_correction,
                  "keep the quantised biases as rounded (no empirical bias correction)");
  };
  auto* eval = app.add_subcommand("eval", "test accuracy of a run's network in float and, with --int8, in int8 "
                                          "on the host kernels, with their agreement");
  add_calibration(eval);
  eval->add_flag("--int8", deploy_args.int8, "also quantise to int8 and run the C kernels");
  auto* export_c = app.add_subcommand("export", "write a run's network as int8 C (model.h, model.c, kernels/), "
                                                "as an Arduino library and its .zip (no heap, one static arena), or "
                                                "as an int8 TensorFlow Lite model");
  add_calibration(export_c);
  export_c->add_option("--format", deploy_args.format, "output format (c, arduino, tflite)")->capture_default_str();
  export_c->add_option("--name", deploy_args.name, "--format arduino: library name (default mcunas_run<RUN>)");
  export_c->add_option("--out", deploy_args.out,
                       "directory to write into (created if missing); with --format tflite, the .tflite file")
      ->required();

  auto* deploy = app.add_subcommand("deploy", "build a run's int8 network into Cortex-M firmware for a board "
                                              "(.elf, .hex, .bin) and, with --run-qemu, check it bit for bit in QEMU");
  add_calibration(deploy);
  deploy->add_option("--target", deploy_args.target, "board: a name from nas targets, or a YAML file")->required();
  deploy->add_option("--out", deploy_args.out, "directory to write into (created if missing)")->required();
  deploy->add_flag("--run-qemu", deploy_args.run_qemu,
                   "also run test images on the target's QEMU stand-in, compare every output byte with the host "
                   "and count instructions per layer");
  deploy->add_option("--images", deploy_args.images, "test images for --run-qemu")->capture_default_str();

  auto* profile = app.add_subcommand("profile", "a run's network counted in QEMU layer by layer against the cost "
                                                "model: instructions, RAM, flash, stack, latency, energy");
  add_calibration(profile);
  profile->add_option("--target", deploy_args.target, "board: a name from nas targets, or a YAML file")->required();
  profile->add_option("--images", deploy_args.images, "test images to run (and compare with the host)")
      ->capture_default_str();
  profile->add_option("--out", deploy_args.out, "keep the firmware in this directory");

  auto* calibrate = app.add_subcommand("calibrate", "fit a target's latency model to instruction counts of the "
                                                    "int8 kernels on its QEMU stand-in; the search then uses it");
  std::string calibrate_target, calibrate_out;
  calibrate->add_option("--target", calibrate_target, "board: a name from nas targets, or a YAML file")->required();
  calibrate->add_option("--out", calibrate_out, "where to write the coefficients (default: <target>.calibration.yaml "
                                                "beside the target YAML)");

  nas::cli::ImportArgs import_args;
  auto* import = app.add_subcommand("import", "store an int8 TensorFlow Lite model as a run, tested on --data, so "
                                              "that eval, export, deploy and profile take it; with --as-seed, a "
                                              "float ONNX model as a seed network to search from");
  import->add_option("file", import_args.file, "the .tflite file (int8), or with --as-seed the .onnx file")
      ->required();
  import->add_flag("--as-seed", import_args.as_seed,
                   "a float ONNX model, kept as a fixed network of the search space (nas search --seed-run RUN)");
  import->add_option("--name", import_args.name, "a name for the run (default: the file's name)");
  import->add_option("--data", import_args.data,
                     "the images it is tested on: a dataset name or a config file with a data: section "
                     "(default fashion-mnist)");

  auto* targets = app.add_subcommand("targets", "list the boards, their limits and where each number comes from");

  app.add_subcommand("runs", "list the runs in the results database");
  auto* show = app.add_subcommand("show", "print one run: config, per-epoch metrics, final accuracy");
  int64_t run_id = 0;
  show->add_option("run", run_id, "run id (see nas runs)")->required();

  // --db and --json are accepted after the subcommand too: `nas runs --json`.
  for (auto* sub : {train, search, finetune, show, targets, app.get_subcommand("runs"), sweep, merge, pareto, eval,
                    export_c, deploy, calibrate, profile, import}) {
    sub->add_option("--db", db_path, "results database (SQLite)");
    sub->add_flag("--json", json, "print one JSON object on stdout");
  }

  // CLI11 reports an unknown first word as "a subcommand is required"; say what is wrong instead.
  const std::vector<std::string> commands = {"search",   "train",   "finetune", "sweep",     "sweep-job",
                                             "merge",    "pareto",  "eval",     "export",    "deploy",
                                             "calibrate", "profile", "targets", "runs",      "show",
                                             "import"};
  if (argc > 1 && argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::fprintf(stderr, "nas: unknown command '%s' (known: search, train, finetune, sweep, merge, pareto, eval, "
                 "export, deploy, profile, calibrate, import, targets, runs, show; see nas --help)\n", argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nas: %s (see nas --help)\n", e.what());
    return 2;
  }

  try {
    if (train->parsed()) {
      if (train->count("--resume") > 0) {
        refuse_options_beside_resume(*train, "its own config");
        return command_train({}, std::nullopt, db_path, json, joined_command_line(argc, argv), train_resume_run,
                             train_keep_checkpoint);
      }
      if (config_path.empty())
        throw nas::Error("nas train", "--config is required (e.g. experiments/fmnist_cnn.yaml), or --resume RUN");
      const auto config = nas::search::load_train_config(config_path, overrides);
      return command_train(config, train_teacher.spec(), db_path, json, joined_command_line(argc, argv), 0,
                           train_keep_checkpoint);
    }
    if (search->parsed()) {
      if (search->count("--resume") > 0) {
        refuse_options_beside_resume(*search, "its own config, board and budgets");
        return command_resume_search(resume_run, request.keep_checkpoint, db_path, json,
                                     joined_command_line(argc, argv));
      }
      if (request.target.empty())
        throw nas::Error("nas search", "--target is required (nas targets lists the boards), or --resume RUN");
      request.config = nas::search::load_search_config(search_config, search_overrides);
      if (request.seed_run > 0) {  // that run's network becomes the search space (search/seed_run.h)
        require_existing(db_path);
        const ResultsDb seed_db(db_path, ResultsDb::Access::read_only);
        request.config = nas::search::seed_run_config(seed_db, request.seed_run, request.config, search_overrides);
      }
      request.command_line = joined_command_line(argc, argv);
      request.teacher = search_teacher.spec();
      return command_search(request, db_path, json);
    }
    if (finetune->parsed()) {
      finetune_request.command_line = joined_command_line(argc, argv);
      if (finetune->count("--resume") > 0) {
        refuse_options_beside_resume(*finetune, "its own search, epochs, seed and teacher");
        return nas::cli::command_finetune(finetune_request, db_path, json, finetune_resume_run);
      }
      if (finetune->count("run") == 0)
        throw nas::Error("nas finetune",
                         "the search run to fine-tune is required (nas runs lists them), or --resume RUN");
      finetune_request.teacher = finetune_teacher.spec();
      return nas::cli::command_finetune(finetune_request, db_path, json, 0);
    }
    if (sweep->parsed()) {
      sweep_args.wait = wait_option->count() > 0 && sweep_args.follow.empty();
      return nas::cli::command_sweep(sweep_args, db_path, json, joined_command_line(argc, argv));
    }
    if (sweep_job->parsed()) return nas::cli::command_sweep_job(sweep_job_dir, sweep_job_index);
    if (merge->parsed()) return nas::cli::command_merge(merge_shards, merge_sweep, db_path, json);
    if (pareto->parsed()) return nas::cli::command_pareto(pareto_query, pareto_plot, pareto_all, db_path, json);
    if (eval->parsed()) return nas::cli::command_eval(deploy_args, db_path, json);
    if (export_c->parsed()) return nas::cli::command_export(deploy_args, db_path, json);
    if (deploy->parsed()) return nas::cli::command_deploy(deploy_args, db_path, json);
    if (profile->parsed()) return nas::cli::command_profile(deploy_args, db_path, json);
    if (import->parsed())
      return nas::cli::command_import(import_args, db_path, json, joined_command_line(argc, argv));
    if (calibrate->parsed()) return nas::cli::command_calibrate(calibrate_target, calibrate_out, json);
    if (targets->parsed()) return command_targets(json);
    if (app.get_subcommand("runs")->parsed()) return command_runs(db_path, json);
    if (show->parsed()) return command_show(db_path, run_id, json);
  } catch (const nas::Error& e) {
    std::fprintf(stderr, "nas: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nas: %s\n", e.what());
    return 1;
  }
  return 0;
}
