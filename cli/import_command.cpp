// nas import: an int8 TensorFlow Lite model made elsewhere (or exported by us) stored as a run, so that nas eval,
// export, deploy and profile take it like a searched network; with --as-seed, a float ONNX model stored as a fixed
// network of the search space that `nas search --seed-run` searches from. Everything is checked before anything is
// stored: the file (deploy/tflite_import.h, supernet/onnx_import.h), the data it is tested on, and that the two fit
// each other; the run and what it holds are then written in one transaction.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_bytes.h"
#include "common/yaml_keys.h"
#include "deploy/int8_executor.h"
#include "deploy/post_training.h"
#include "deploy/tflite_import.h"
#include "results/imported_models.h"
#include "supernet/data_spec.h"
#include "supernet/onnx_import.h"
#include "supernet/search_space.h"
#include "supernet/trainer.h"

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
void check_fits(const supernet::Shape& in, int64_t outputs, const supernet::DataSplits& data, const std::string& file,
                const std::string& data_name) {
  const supernet::Shape images = data.test.batch_shape(1);
  if (in.h != images.h || in.w != images.w || in.c != images.c)
    throw Error(file, "takes " + shape_text(in.h, in.w, in.c) + " inputs but the data (" + data_name + ") has " +
                          shape_text(images.h, images.w, images.c) + " images; pass --data with the model's data");
  if (outputs != data.test.num_classes)
    throw Error(file, "gives " + std::to_string(outputs) + " outputs but the data (" + data_name + ") has " +
                          std::to_string(data.test.num_classes) + " classes; pass --data with the model's data");
}

std::string run_name(const ImportArgs& args) {
  return args.name.empty() ? std::filesystem::path(args.file).stem().string() : args.name;
}

std::string config_yaml(const ImportArgs& args, const std::string& format, const std::string& name, size_t bytes,
                        const YAML::Node& data) {
  YAML::Node config;
  config["import"]["file"] = std::filesystem::absolute(args.file).lexically_normal().string();
  config["import"]["format"] = format;
  config["import"]["name"] = name;
  config["import"]["bytes"] = bytes;
  config["data"] = data;
  YAML::Emitter out;
  out << config;
  return std::string(out.c_str()) + "\n";
}

// What both kinds of import share: the data chosen, loaded and checked against the model's input and classes.
struct ImportData {
  DataChoice choice;
  supernet::DataSpec spec;
  supernet::DataSplits splits;
};
ImportData load_import_data(const ImportArgs& args, const supernet::Shape& input, int64_t outputs) {
  ImportData d;
  d.choice = choose_data(args.data);
  const std::filesystem::path base =
      d.choice.config_path.empty() ? std::filesystem::current_path() : d.choice.config_path.parent_path();
  d.spec = supernet::parse_data_spec(d.choice.node, base);
  d.splits = supernet::load_data(d.spec, 0);
  check_fits(input, outputs, d.splits, args.file, d.spec.name);
  return d;
}

results::RunStart import_start(const ImportArgs& args, const std::string& format, size_t bytes,
                               const ImportData& data, const std::string& command_line) {
  results::RunStart start;
  start.kind = results::kImportKind;
  start.config_yaml = config_yaml(args, format, run_name(args), bytes, data.choice.node);
  start.config_path = data.choice.config_path.string();
  start.command_line = command_line;
  start.threads = 1;
  return start;
}

void report(bool json, nlohmann::json out, const std::string& text) {
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

// An int8 .tflite: stored as its bytes, evaluated on the int8 kernels.
int import_tflite(const ImportArgs& args, const std::vector<uint8_t>& bytes, const std::string& db_path, bool json,
                  const std::string& command_line) {
  const deploy::Int8Model model = deploy::read_tflite(bytes, args.file);
  const auto& in = model.tensors.at(static_cast<size_t>(model.input));
  const ImportData data = load_import_data(args, {1, in.h, in.w, in.c},
                                           model.tensors.at(static_cast<size_t>(model.output)).bytes());
  // The database is opened (and created) only now that the model and its data are known to be good.
  results::ResultsDb db(db_path);
  search::Progress progress(search::Progress::detect(json));  // after the refusals: they are one line each
  deploy::Int8Executor executor(model);
  const double accuracy = deploy::int8_accuracy(executor, data.splits.test, [&](int32_t done, int32_t all) {
    if (done == all || done % 2000 == 0) progress.message(fmt::format("int8 evaluation: {}/{} images", done, all));
  });
  const std::string file = std::filesystem::path(args.file).filename().string();
  const int64_t run_id = results::store_imported_run(
      db, import_start(args, "tflite", bytes.size(), data, command_line), {"tflite", file, bytes}, accuracy);
  report(json,
         {{"run", run_id}, {"file", args.file}, {"name", run_name(args)}, {"format", "tflite"}, {"bytes", bytes.size()},
          {"layers", model.ops.size()}, {"data", data.spec.name}, {"images", data.splits.test.count},
          {"int8_accuracy", accuracy}},
         fmt::format("imported {} as run {} ({}): {} layers, {} bytes\n"
                     "  int8 {:.2f} % on {} test images ({})\n"
                     "  next: nas deploy {} --target nano33 --out fw --run-qemu\n",
                     args.file, run_id, run_name(args), model.ops.size(), bytes.size(), 100 * accuracy,
                     data.splits.test.count, data.spec.name, run_id));
  return 0;
}

// A float ONNX model as a seed network: its fixed architecture and weights, evaluated in float.
int import_onnx_seed(const ImportArgs& args, const std::vector<uint8_t>& bytes, const std::string& db_path, bool json,
                     const std::string& command_line) {
  supernet::OnnxNetwork onnx = supernet::read_onnx(bytes, args.file);
  const ImportData data = load_import_data(args, onnx.input, onnx.classes);
  results::ResultsDb db(db_path);
  const double accuracy = supernet::evaluate(*onnx.net, data.splits.test, 500).accuracy;
  const YAML::Node model = supernet::fixed_model_yaml(onnx.arch);
  const results::ArchitectureRecord arch{"", yaml::to_text(supernet::fixed_arch_yaml(onnx.arch)), yaml::to_text(model),
                                         0, 0, {}};
  const auto theta = onnx.net->params().theta();
  const auto state = onnx.net->params().state();
  const int64_t run_id = results::store_imported_network(
      db, import_start(args, "onnx", bytes.size(), data, command_line), arch,
      std::vector<float>(theta.begin(), theta.end()), std::vector<float>(state.begin(), state.end()), accuracy);
  std::string blocks;
  for (const auto& b : onnx.arch.blocks)
    blocks += fmt::format("{}{} {}{}", blocks.empty() ? "" : ", ", b.op.name(), b.out_channels,
                          b.stride > 1 ? fmt::format("/{}", b.stride) : "");
  report(json,
         {{"run", run_id}, {"file", args.file}, {"name", run_name(args)}, {"format", "onnx"}, {"bytes", bytes.size()},
          {"blocks", onnx.arch.blocks.size()}, {"data", data.spec.name}, {"images", data.splits.test.count},
          {"float_accuracy", accuracy}},
         fmt::format("imported {} as run {} ({}), a seed network of {} blocks: {}\n"
                     "  float {:.2f} % on {} test images ({})\n"
                     "  next: nas search --seed-run {} --target nano33 --max-latency 50ms\n",
                     args.file, run_id, run_name(args), onnx.arch.blocks.size(), blocks, 100 * accuracy,
                     data.splits.test.count, data.spec.name, run_id));
  return 0;
}

}  // namespace

int command_import(const ImportArgs& args, const std::string& db_path, bool json, const std::string& command_line) {
  const std::vector<uint8_t> bytes = read_file_bytes(args.file, "a .tflite or .onnx file");
  const bool tflite = bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0;
  const bool onnx_name = std::filesystem::path(args.file).extension() == ".onnx";
  if (args.as_seed) {
    if (tflite)
      throw Error("--as-seed", "takes a float ONNX model; '" + args.file + "' is an int8 TFLite model (import it "
                               "without --as-seed)");
    return import_onnx_seed(args, bytes, db_path, json, command_line);
  }
  if (onnx_name && !tflite)
    throw Error(args.file, "an ONNX model is imported as a seed network to search from: add --as-seed");
  return import_tflite(args, bytes, db_path, json, command_line);
}

}  // namespace nas::cli
