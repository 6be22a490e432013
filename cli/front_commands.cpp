// nas sweep, nas sweep-job, nas merge, nas pareto (see commands.h).
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_bytes.h"
#include "common/interrupt.h"
#include "common/subprocess.h"
#include "results/results_db.h"
#include "results/shard_merge.h"
#include "sweep/sweep_collect.h"
#include "sweep/sweep_job.h"
#include "sweep/sweep_local.h"
#include "sweep/sweep_registry.h"
#include "sweep/sweep_slurm.h"

namespace nas::cli {

namespace fs = std::filesystem;
using results::ResultsDb;

namespace {

sweep::Say say_for(const std::string& sweep) {
  return [sweep](const std::string& line) { fmt::print(stderr, "[{}] {}\n", sweep, line); };
}

int print_status(const results::ResultsDb& db, const std::string& name, bool json) {
  const auto sweep = sweep::require_sweep(db, name);
  const auto plan = sweep::read_plan(sweep::SweepFiles{sweep.dir});
  const auto statuses = sweep::current_statuses(db, sweep, plan);
  if (json)
    std::cout << sweep::status_json(sweep, statuses).dump() << "\n";
  else
    std::cout << sweep::format_status(sweep, statuses);
  return 0;
}

int follow(results::ResultsDb& db, const sweep::SweepRecord& sweep, bool json) {
  nas::install_interrupt_handler();
  const auto plan = sweep::read_plan(sweep::SweepFiles{sweep.dir});
  const int rc = sweep::wait_for_sweep(db, sweep, plan, /*poll_seconds=*/2.0, say_for(sweep.name));
  if (json) std::cout << sweep::status_json(sweep, sweep::current_statuses(db, sweep, plan)).dump() << "\n";
  return rc;
}

}  // namespace

void require_existing(const std::string& db_path) {
  if (db_path.empty()) throw Error("--db", "empty path (give the results database's file, e.g. --db mcunas.db)");
  std::error_code ec;
  if (!fs::exists(db_path, ec))
    throw Error(db_path, "no results database here (nas train or nas search creates it; pass --db to read another "
                         "file)");
}

int command_sweep(SweepArgs args, const std::string& db_path, bool json, const std::string& command_line) {
  if (!args.status.empty()) {
    require_existing(db_path);
    return print_status(results::ResultsDb(db_path), args.status, json);
  }
  if (!args.follow.empty()) {
    require_existing(db_path);
    results::ResultsDb db(db_path);
    return follow(db, sweep::require_sweep(db, args.follow), json);
  }
  if (!args.resume.empty()) {
    require_existing(db_path);
    results::ResultsDb db(db_path);
    const auto sweep = sweep::require_sweep(db, args.resume);
    if (sweep.executor != "local")
      throw Error("--resume", "sweep " + sweep.name + " runs on Slurm; follow it with --wait " + sweep.name +
                                  " (to rerun failed task K: sbatch --array=K " + (sweep.dir / "job.sh").string() + ")");
    nas::install_interrupt_handler();
    const auto plan = sweep::read_plan(sweep::SweepFiles{sweep.dir});
    const int rc = sweep::run_sweep_locally(db, sweep, plan, args.jobs, say_for(sweep.name));
    if (json) std::cout << sweep::status_json(sweep, sweep::current_statuses(db, sweep, plan)).dump() << "\n";
    return rc;
  }
  if (args.targets.empty())
    throw Error("nas sweep", "give --target T[,T...] to start a sweep, --status NAME or --wait NAME to follow one, "
                             "or --resume NAME to finish an interrupted local one");
  auto& spec = args.spec;
  spec.targets = sweep::split_list(args.targets, "--target");
  spec.max_ram = sweep::split_list(args.max_ram, "--max-ram");
  spec.max_flash = sweep::split_list(args.max_flash, "--max-flash");
  spec.max_latency = sweep::split_list(args.max_latency, "--max-latency");
  spec.max_energy = sweep::split_list(args.max_energy, "--max-energy");
  spec.max_macs = sweep::split_list(args.max_macs, "--max-macs");
  spec.max_params = sweep::split_list(args.max_params, "--max-params");
  if (args.jobs < (spec.executor == "slurm" ? 0 : 1))
    throw Error("--jobs", "must be at least 1 (how many jobs run at once)");
  const int32_t cores = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  // Local jobs share this machine: unless told otherwise each gets an equal share of its cores.
  if (spec.executor == "local" && !spec.overrides.threads) spec.overrides.threads = std::max(1, cores / args.jobs);
  sweep::SweepPlan plan = sweep::plan_sweep(spec);   // every bad flag is refused here, before anything is written

  results::ResultsDb db(db_path);
  plan.name = spec.name.empty() ? sweep::next_sweep_name(db) : spec.name;
  if (sweep::find_sweep(db, plan.name))
    throw Error("--name", "a sweep named '" + plan.name + "' is already in " + db.path().string() +
                              " (pick another name, or follow it with nas sweep --status " + plan.name + ")");
  const fs::path dir = fs::absolute(args.dir.empty() ? db.path().parent_path() / "sweeps" / plan.name : fs::path(args.dir));
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    throw Error(dir.string(), "already holds files (pick another --dir or --name, or remove it)");
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create the sweep directory: " + ec.message());
  const sweep::SweepFiles files{dir};
  write_file_atomically(files.plan(), sweep::plan_json(plan).dump(2) + "\n");
  sweep::SweepRecord sweep{plan.name, "", plan.executor, dir, static_cast<int32_t>(plan.jobs.size()),
                            command_line, ""};
  sweep::record_sweep(db, sweep);
  const auto say = say_for(plan.name);
  say(fmt::format("{} jobs ({} executor), files in {}", plan.jobs.size(), plan.executor, dir.string()));

  if (plan.executor == "local") {
    nas::install_interrupt_handler();
    const int rc = sweep::run_sweep_locally(db, sweep, plan, args.jobs, say);
    if (json) std::cout << sweep::status_json(sweep, sweep::current_statuses(db, sweep, plan)).dump() << "\n";
    return rc;
  }
  sweep::SlurmOptions slurm;
  slurm.parallel = args.jobs;
  slurm.cpus_per_task = spec.overrides.threads.value_or(search::load_search_config(plan.config).threads);
  slurm.sbatch_args = args.sbatch_args;
  try {
    sweep.slurm_job_id = sweep::submit_to_slurm(sweep, plan, slurm);
  } catch (const Error&) {
    // Nothing was queued: leave no sweep behind, so the same command can simply be run again.
    sweep::forget_sweep(db, sweep.name);
    fs::remove_all(dir, ec);
    throw;
  }
  sweep::set_slurm_job_id(db, sweep.name, sweep.slurm_job_id);
  say(fmt::format("submitted Slurm job array {} ({} tasks); nas sweep --status {} or --wait {} follows it",
                  sweep.slurm_job_id, plan.jobs.size(), sweep.name, sweep.name));
  if (args.wait) return follow(db, sweep, json);
  if (json) std::cout << nlohmann::json{{"sweep", sweep.name}, {"slurm_job_id", sweep.slurm_job_id}}.dump() << "\n";
  return 0;
}

int command_sweep_job(const std::string& dir, std::optional<int32_t> index) {
  if (!index) {
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (!task) throw Error("nas sweep-job", "give the job index (or run it as a Slurm array task)");
    index = std::atoi(task);
  }
  nas::install_interrupt_handler();
  return sweep::run_sweep_job(sweep::SweepFiles{fs::absolute(dir)}, *index);
}

int command_merge(const std::vector<std::string>& shards, const std::string& sweep_name, const std::string& db_path,
                  bool json) {
  if (shards.empty() == sweep_name.empty())
    throw Error("nas merge", "give either shard files or --sweep NAME (not both)");
  if (!sweep_name.empty()) require_existing(db_path);
  results::ResultsDb db(db_path);
  nlohmann::json out = nlohmann::json::array();
  if (!sweep_name.empty()) {
    const auto sweep = sweep::require_sweep(db, sweep_name);
    const auto plan = sweep::read_plan(sweep::SweepFiles{sweep.dir});
    const auto statuses = sweep::current_statuses(db, sweep, plan);
    const int32_t added = sweep::merge_finished(db, sweep, statuses, say_for(sweep.name));
    fmt::print(stderr, "[{}] {} runs added; {}\n", sweep.name, added,
               sweep::status_counts(sweep::current_statuses(db, sweep, plan)));
    if (json) std::cout << nlohmann::json{{"sweep", sweep.name}, {"added", added}}.dump() << "\n";
    return 0;
  }
  for (const auto& shard : shards) {
    const auto r = results::merge_shard(db, shard);
    if (json)
      out.push_back({{"shard", shard}, {"added", r.added}, {"already", r.already}, {"not_done", r.not_done}});
    else
      fmt::print("{}: {} run{} added, {} already merged, {} not done (left out)\n", shard, r.added,
                 r.added == 1 ? "" : "s", r.already, r.not_done);
  }
  if (json) std::cout << nlohmann::json{{"db", db.path().string()}, {"shards", out}}.dump() << "\n";
  return 0;
}

int command_pareto(const results::ParetoQuery& query, const std::string& plot, bool all, const std::string& db_path,
                   bool json) {
  results::check_query(query);
  const fs::path plot_path(plot);
  const std::string extension = plot_path.extension().string();
  if (!plot.empty() && extension != ".svg" && extension != ".png")
    throw Error("--plot", "'" + plot + "' must end in .svg or .png");
  require_existing(db_path);
  const results::ResultsDb db(db_path, results::ResultsDb::Access::read_only);
  if (query.sweep) sweep::require_sweep(db, *query.sweep);
  if (query.target) results::require_target_with_runs(db, *query.target);
  const auto candidates = results::pareto_candidates(db, query);
  if (json)
    std::cout << results::pareto_json(candidates, query).dump() << "\n";
  else
    std::cout << results::format_pareto(candidates, query, all);
  if (plot.empty()) return 0;
  if (candidates.empty()) throw Error("--plot", "nothing to plot: no finished search matches");
  const std::string svg = results::front_svg(results::pareto_plot(candidates, query));
  const fs::path svg_path = extension == ".svg" ? plot_path : fs::path(plot + ".svg.tmp");
  write_file_atomically(svg_path, svg);
  if (extension == ".png") {
    // PNG through librsvg's converter when it is there; the SVG is what mcunas itself draws.
    const auto converted = nas::run_captured({"rsvg-convert", "-b", "white", "-o", plot, svg_path.string()});
    fs::remove(svg_path);
    if (converted.exit_code == 127)
      throw Error("--plot", "writing PNG needs rsvg-convert (Debian librsvg2-bin); or write --plot front.svg");
    if (converted.exit_code != 0)
      throw Error("rsvg-convert", converted.err.substr(0, converted.err.find('\n')), Error::Kind::failure);
  }
  fmt::print(stderr, "plot written to {}\n", plot);
  return 0;
}

}  // namespace nas::cli
