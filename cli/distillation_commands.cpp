// nas finetune, and the --teacher options of nas train, search and finetune (docs/distillation.md).
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "results/results_db.h"
#include "results/run_report.h"
#include "search/resume.h"

namespace nas::cli {

using results::ResultsDb;

int command_finetune(search::FinetuneRequest request, const std::string& db_path, bool json, int64_t resume_run) {
  if (request.teacher) search::check_distillation_settings(request.teacher->settings);
  require_existing(db_path);  // the search to fine-tune is a run of this file
  results::ResultsDb db(db_path);
  if (resume_run > 0) {
    const bool keep = request.keep_checkpoint;
    request = search::finetune_resume_request(db, resume_run, request.command_line);
    request.keep_checkpoint = keep;
  }
  search::Progress progress(search::Progress::detect(/*quiet=*/false));
  nas::install_interrupt_handler();
  const auto outcome = search::run_finetune(request, db, progress);
  if (json) {
    nlohmann::json out = {{"run_id", outcome.run_id},
                          {"status", outcome.status},
                          {"search_run", request.search_run},
                          {"target", outcome.target},
                          {"test_accuracy", outcome.status == "done" ? nlohmann::json(outcome.test_accuracy)
                                                                     : nlohmann::json(nullptr)},
                          {"search_test_accuracy", outcome.search_test_accuracy ? nlohmann::json(
                                                                                      *outcome.search_test_accuracy)
                                                                                : nlohmann::json(nullptr)},
                          {"costs", results::costs_json(outcome.cost_records)},
                          {"seconds", outcome.seconds},
                          {"db", db.path().string()}};
    if (request.teacher)
      out["teacher"] = {{"run", request.teacher->run_id},
                        {"alpha", request.teacher->settings.alpha},
                        {"temperature", request.teacher->settings.temperature}};
    std::cout << out.dump() << "\n";
  } else if (outcome.status != "done") {
    fmt::print("run {} {} (nas show {} has what was recorded)\n", outcome.run_id, outcome.status, outcome.run_id);
  } else {
    fmt::print("run {} done in {:.0f} s: test accuracy {:.2f}% on {}", outcome.run_id, outcome.seconds,
               100 * outcome.test_accuracy, outcome.target);
    if (outcome.search_test_accuracy)
      fmt::print(" (run {} ended its own fine-tuning at {:.2f}%)", request.search_run,
                 100 * *outcome.search_test_accuracy);
    fmt::print("\nstored in {} (nas show {})\n", db.path().string(), outcome.run_id);
  }
  return outcome.status == "done" ? 0 : 130;
}

std::optional<search::TeacherSpec> TeacherArgs::spec() const {
  for (const auto* option : needs_teacher)
    if (option->count() > 0 && !run)
      throw Error(option->get_name(), "only applies with --teacher RUN (the run to distil from)");
  if (!run) return std::nullopt;
  return search::TeacherSpec{*run, settings, in_search};
}

void add_teacher_options(CLI::App* sub, TeacherArgs& args) {
  sub->add_option("--teacher", args.run, "distil from this finished run of --db (knowledge distillation; nas runs "
                                         "lists the runs)");
  args.needs_teacher.push_back(
      sub->add_option("--alpha", args.settings.alpha, "distillation: weight of the label term, in [0, 1]")
          ->capture_default_str());
  args.needs_teacher.push_back(
      sub->add_option("--temperature", args.settings.temperature, "distillation: softmax temperature T")
          ->capture_default_str());
}

}  // namespace nas::cli
