// nas import: an int8 TensorFlow Lite model made elsewhere (or exported by us) stored as a run, so that nas eval,
// export, deploy and profile take it like a searched network. Everything is checked before anything is stored: the
// file (deploy/tflite_import.h reads and verifies it), the data it is tested on, and that the two fit each other;
// the run and the file's bytes are then written in one transaction.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_bytes.h"
#include "deploy/int8_executor.h"
#include "deploy/post_training.h"
#include "deploy/tflite_import.h"
#include "results/imported_models.h"
#include "supernet/data_spec.h"

namespace nas::cli {

namespace {

// The `data:` section the model is tested on, and the file it came from ("" for a dataset name).
struct DataChoice {
  YAML::Node node;
  std::filesystem::path config_path;
};

// --data: a dataset name (default fashion-mnist, the README's data) or a config file whose `data:` section is used
// as it is, normalisation included: a model exported by mcunas expects its run's normalised images.
DataChoice choose_data(const std::string& data) {
  const auto names = supernet::known_datasets();
  DataChoice out;
  if (data.empty() || std::find(names.begin(), names.end(), data) != names.end()) {
    out.node["dataset"] = data.empty() ? std::string("fashion-mnist") : data;
    return out;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(data, ec))
    throw Error("--data", "'" + data + "' is neither a dataset (" + fmt::format("{}", fmt::join(names, ", ")) +
                              ") nor a config file with a data: section");
  YAML::Node config;
  try {
    config = YAML::LoadFile(data);
  } catch (const YAML::Exception& e) {
    throw Error("--data", "'" + data + "' is not valid YAML (line " + std::to_string(e.mark.line + 1) + ")");
  }
  if (!config.IsMap() || !config["data"] || !config["data"].IsMap())
    throw Error("--data", "'" + data + "' has no data: section (see docs/user-data.md)");
  out.node = config["data"];
  out.config_path = std::filesystem::absolute(data, ec).lexically_normal();
  return out;
}

std::string shape_text(int32_t h, int32_t w, int32_t c) { return fmt::format("{}x{}x{}", h, w, c); }

// The model must take the data's images and give one logit per class.
void check_fits(const deploy::Int8Model& model, const supernet::DataSplits& data, const std::string& file,
                const std::string& data_name) {
  const auto& in = model.tensors.at(static_cast<size_t>(model.input));
  const auto& out = model.tensors.at(static_cast<size_t>(model.output));
  const supernet::Shape images = data.test.batch_shape(1);
  if (in.h != images.h || in.w != images.w || in.c != images.c)
    throw Error(file, "takes " + shape_text(in.h, in.w, in.c) + " inputs but the data (" + data_name + ") has " +
                          shape_text(images.h, images.w, images.c) + " images; pass --data with the model's data");
  if (out.bytes() != data.test.num_classes)
    throw Error(file, "gives " + std::to_string(out.bytes()) + " outputs but the data (" + data_name + ") has " +
                          std::to_string(data.test.num_classes) + " classes; pass --data with the model's data");
}

std::string config_yaml(const ImportArgs& args, const std::string& name, size_t bytes, const YAML::Node& data) {
  YAML::Node config;
  config["import"]["file"] = std::filesystem::absolute(args.file).lexically_normal().string();
  config["import"]["format"] = "tflite";
  config["import"]["name"] = name;
  config["import"]["bytes"] = bytes;
  config["data"] = data;
  YAML::Emitter out;
  out << config;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

int command_import(const ImportArgs& args, const std::string& db_path, bool json, const std::string& command_line) {
  const std::vector<uint8_t> bytes = read_file_bytes(args.file, "a .tflite file");
  const std::string file = std::filesystem::path(args.file).filename().string();
  const deploy::Int8Model model = deploy::read_tflite(bytes, args.file);
  const DataChoice data = choose_data(args.data);
  const std::filesystem::path base =
      data.config_path.empty() ? std::filesystem::current_path() : data.config_path.parent_path();
  const supernet::DataSpec spec = supernet::parse_data_spec(data.node, base);
  const supernet::DataSplits splits = supernet::load_data(spec, 0);
  check_fits(model, splits, args.file, spec.name);
  search::Progress progress(search::Progress::detect(json));  // after the refusals: they are one line each
  // The database is opened (and created) only now that the model and its data are known to be good.
  results::ResultsDb db(db_path);

  deploy::Int8Executor executor(model);
  const double accuracy = deploy::int8_accuracy(executor, splits.test, [&](int32_t done, int32_t all) {
    if (done == all || done % 2000 == 0) progress.message(fmt::format("int8 evaluation: {}/{} images", done, all));
  });
  const std::string name = args.name.empty() ? std::filesystem::path(args.file).stem().string() : args.name;
  results::RunStart start;
  start.kind = results::kImportKind;
  start.config_yaml = config_yaml(args, name, bytes.size(), data.node);
  start.config_path = data.config_path.string();
  start.command_line = command_line;
  start.threads = 1;
  const int64_t run_id = results::store_imported_run(db, start, {"tflite", file, bytes}, accuracy);

  if (json) {
    std::cout << nlohmann::json{{"run", run_id},       {"file", args.file},         {"name", name},
                                {"format", "tflite"},  {"bytes", bytes.size()},     {"layers", model.ops.size()},
                                {"data", spec.name},   {"images", splits.test.count}, {"int8_accuracy", accuracy}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format("imported {} as run {} ({}): {} layers, {} bytes\n"
                             "  int8 {:.2f} % on {} test images ({})\n"
                             "  next: nas deploy {} --target nano33 --out fw --run-qemu\n",
                             args.file, run_id, name, model.ops.size(), bytes.size(), 100 * accuracy,
                             splits.test.count, spec.name, run_id);
  }
  return 0;
}

}  // namespace nas::cli
