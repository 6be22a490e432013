// nas eval and nas export: a finished run's network on the host, in float and in int8, and as generated C or an
// int8 TensorFlow Lite file. A `nas import` run is int8 already and goes the same ways, without the float side.
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_bytes.h"
#include "common/threads.h"
#include "deploy/arduino_library.h"
#include "deploy/codegen.h"
#include "deploy/folder_package.h"
#include "deploy/tflite_export.h"
#include "results/imported_models.h"
#include "runner/int8_deployment.h"
#include "search/progress.h"
#include "supernet/trainer.h"

namespace nas::cli {

runner::Int8Deployment int8_run(const results::ResultsDb& db, const DeployArgs& args, search::Progress& progress,
                                const std::function<void()>& ready) {
  deploy::check(args.calibration);
  if (const auto imported = results::imported_model_of_run(db, args.run_id)) {
    auto stored = results::load_stored_data(db, args.run_id);
    if (ready) ready();
    return runner::imported_int8(std::move(stored), *imported);  // int8 already: nothing to calibrate
  }
  auto stored = results::load_stored_network(db, args.run_id);
  if (ready) ready();
  progress.message(fmt::format("run {}: folding BatchNorm, calibrating on {} training images ({})", args.run_id,
                               args.calibration.images, args.calibration.method));
  return runner::prepare_int8(std::move(stored), args.calibration);
}

int command_eval(const DeployArgs& args, const std::string& db_path, bool json) {
  require_existing(db_path);
  const results::ResultsDb db(db_path, results::ResultsDb::Access::read_only);
  const ThreadBudget threads(args.threads);
  search::Progress progress(search::Progress::detect(json));
  nlohmann::json out;
  std::string text;
  const auto report = [&](int32_t done, int32_t all) {
    if (done == all || done % 2000 == 0) progress.message(fmt::format("int8 evaluation: {}/{} images", done, all));
  };
  const auto imported = results::imported_model_of_run(db, args.run_id);
  if (imported) {
    // An imported model is int8 only: its accuracy on the run's test images, nothing to compare with.
    auto d = int8_run(db, args, progress);
    deploy::Int8Executor executor(d.model);
    const double accuracy = deploy::int8_accuracy(executor, d.stored.data.test, report);
    out = {{"run", args.run_id},
           {"images", d.stored.data.test.count},
           {"imported", imported->file_name},
           {"int8_accuracy", accuracy},
           {"memory", runner::memory_json(d)}};
    text = fmt::format("{}: {} test images\n  int8       {:.2f} %  (imported from {}: no float network)\n  {}\n",
                       runner::run_label(d.stored.run), d.stored.data.test.count, 100 * accuracy,
                       imported->file_name, runner::memory_line(d));
  } else if (!args.int8) {
    auto stored = results::load_stored_network(db, args.run_id);
    const auto result = supernet::evaluate(*stored.net, stored.data.test, 500);
    out = {{"run", args.run_id}, {"images", stored.data.test.count}, {"float_accuracy", result.accuracy}};
    text = fmt::format("{}: {} test images\n  float  {:.2f} %\n", runner::run_label(stored.run),
                       stored.data.test.count, 100 * result.accuracy);
  } else {
    auto d = int8_run(db, args, progress);
    deploy::Int8Executor executor(d.model);
    const auto r = deploy::evaluate_int8(*d.stored.net, executor, d.stored.data.test, report);
    out = {{"run", args.run_id},
           {"images", r.images},
           {"float_accuracy", r.float_accuracy},
           {"int8_accuracy", r.int8_accuracy},
           {"agreement", r.agreement},
           {"calibration", {{"method", args.calibration.method},
                            {"images", args.calibration.images},
                            {"percentile", args.calibration.percentile},
                            {"bias_correction", args.calibration.bias_correction}}},
           {"memory", runner::memory_json(d)}};
    text = fmt::format("{}: {} test images\n  float      {:.2f} %\n  int8       {:.2f} %  ({:+.2f} pt)\n"
                       "  agreement  {:.2f} % of images get the same class\n  {}\n",
                       runner::run_label(d.stored.run), r.images, 100 * r.float_accuracy, 100 * r.int8_accuracy,
                       100 * (r.int8_accuracy - r.float_accuracy), 100 * r.agreement, runner::memory_line(d));
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << text;
  }
  return 0;
}

namespace {

// --format tflite: one file, written whole or not at all.
int export_tflite(const DeployArgs& args, const std::string& db_path, bool json) {
  const std::filesystem::path out = args.out;
  if (std::filesystem::is_directory(out))
    throw Error("--out", "'" + args.out + "' is a directory; --format tflite writes one file (e.g. model.tflite)");
  if (!can_write_file(out)) throw Error("--out", "cannot write '" + args.out + "' (check the folder's permissions)");
  require_existing(db_path);
  const results::ResultsDb db(db_path, results::ResultsDb::Access::read_only);
  const ThreadBudget threads(args.threads);
  search::Progress progress(search::Progress::detect(json));
  auto d = int8_run(db, args, progress);
  // An imported model keeps its own description, so that export → import → export gives the same bytes.
  const std::string description =
      d.stored.net ? fmt::format("mcunas: run {} of {}", args.run_id, db_path) : d.description;
  const std::vector<uint8_t> bytes = deploy::tflite_model(d.model, description);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  write_file_atomically(out, std::string(bytes.begin(), bytes.end()));
  if (json) {
    std::cout << nlohmann::json{{"run", args.run_id}, {"out", args.out}, {"bytes", bytes.size()}}.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{}: wrote {} ({} bytes, int8 TensorFlow Lite)\n", runner::run_label(d.stored.run),
                             args.out, bytes.size());
  }
  return 0;
}

}  // namespace

int command_export(const DeployArgs& args, const std::string& db_path, bool json) {
  const bool arduino = args.format == "arduino";
  if (args.format == "tflite") {
    if (!args.name.empty()) throw Error("--name", "names an Arduino library; use it with --format arduino");
    return export_tflite(args, db_path, json);
  }
  if (args.format != "c" && !arduino)
    throw Error("--format", "'" + args.format + "' is not supported (known: c, arduino, tflite)");
  if (args.out.empty()) throw Error("--out", "needs a directory to write model.h and model.c into");
  if (!args.name.empty() && !arduino) throw Error("--name", "names an Arduino library; use it with --format arduino");
  const std::string name = args.name.empty() ? deploy::default_library_name(args.run_id) : args.name;
  if (arduino) deploy::check_library_name(name);
  require_existing(db_path);
  const results::ResultsDb db(db_path, results::ResultsDb::Access::read_only);
  const ThreadBudget threads(args.threads);
  search::Progress progress(search::Progress::detect(json));
  auto d = int8_run(db, args, progress, [&] { deploy::make_output_dir(args.out); });
  const std::string origin = fmt::format("run {} of {}", args.run_id, db_path);
  const auto code = deploy::generate_c(d.model, d.plan, origin);
  std::vector<std::string> files = {"model.h", "model.c", "kernels/"};
  if (arduino) {
    // The example sketch runs test image 0 and shows the class the host computed for it next to the board's.
    const deploy::ArduinoLibrarySpec spec{name, origin, deploy::arduino_example(d.model, d.stored.data.test, 0)};
    files = deploy::write_folder_and_zip(deploy::arduino_library_files(d.model, code, spec), name, args.out);
  } else {
    deploy::write_c_files(code, args.out);
  }
  if (json) {
    nlohmann::json out{{"run", args.run_id}, {"out", args.out}, {"files", files}, {"memory", runner::memory_json(d)}};
    if (arduino) out["library"] = name;
    std::cout << out.dump(2) << "\n";
  } else {
    const std::string what =
        arduino ? fmt::format("the Arduino library {0}/{1}/ ({2} files) and {0}/{1}.zip", args.out, name,
                              files.size() - 1)
                : fmt::format("{}/model.h, model.c and kernels/", args.out);
    std::cout << fmt::format("{}: wrote {}\n  {}\n", runner::run_label(d.stored.run), what, runner::memory_line(d));
  }
  return 0;
}

}  // namespace nas::cli
