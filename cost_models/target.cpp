#include "cost_models/target.h"

#include "cost_models/target_calibration.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/source_tree.h"
#include "common/yaml_keys.h"
#include "cost_models/target_calibration.h"

namespace nas::cost_models {
namespace {

namespace yk = nas::yaml;

// Cores whose pipelines the shipped coefficients were derived for; a typo here would otherwise go unnoticed.
const std::vector<std::string> kKnownCores = {"cortex-m0plus", "cortex-m4", "cortex-m4f", "cortex-m7"};

YAML::Node child(const YAML::Node& map, const std::string& key, const std::string& key_path) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) throw Error(key_path, "missing key '" + key + "'");
  return node;
}

std::string read_string(const YAML::Node& map, const std::string& key) {
  const auto node = child(map, key, key);
  return yk::read_scalar<std::string>(node, key, "a string");
}

double read_non_negative(const YAML::Node& map, const std::string& key, const std::string& key_path) {
  const auto node = child(map, key, key_path);
  const auto value = yk::read_scalar<double>(node, key_path, "a number");
  if (!std::isfinite(value) || value < 0)
    throw Error(yk::where(key_path, node), "must be a finite number >= 0 (got " + node.Scalar() + ")");
  return value;
}

int64_t read_bytes(const YAML::Node& map, const std::string& key, const std::string& key_path) {
  const auto node = child(map, key, key_path);
  const auto value = yk::read_scalar<int64_t>(node, key_path, "a whole number of bytes");
  if (value < 0) throw Error(yk::where(key_path, node), "must be >= 0 (got " + node.Scalar() + ")");
  return value;
}

std::vector<std::string> path_names() {
  return {kKernelPathNames.begin(), kKernelPathNames.end()};
}

Target parse_target(const YAML::Node& root) {
  yk::check_keys(root, "target",
                 {"name", "description", "core", "clock_hz", "sram_bytes", "flash_bytes", "ram_reserved_bytes",
                  "flash_reserved_bytes", "dsp", "active_power_w", "qemu_machine", "image", "latency",
                  "code_bytes", "per_layer_code_bytes", "cycles_per_instruction"});
  Target t;
  t.name = read_string(root, "name");
  t.description = read_string(root, "description");
  t.core = read_string(root, "core");
  if (std::find(kKnownCores.begin(), kKnownCores.end(), t.core) == kKnownCores.end())
    throw Error(yk::where("core", root["core"]), "unknown core '" + t.core + "' (known: " + yk::join(kKnownCores) + ")");
  t.clock_hz = read_non_negative(root, "clock_hz", "clock_hz");
  if (t.clock_hz <= 0) throw Error(yk::where("clock_hz", root["clock_hz"]), "must be > 0");
  t.sram_bytes = read_bytes(root, "sram_bytes", "sram_bytes");
  t.flash_bytes = read_bytes(root, "flash_bytes", "flash_bytes");
  t.ram_reserved_bytes = read_bytes(root, "ram_reserved_bytes", "ram_reserved_bytes");
  t.flash_reserved_bytes = read_bytes(root, "flash_reserved_bytes", "flash_reserved_bytes");
  if (t.ram_reserved_bytes >= t.sram_bytes)
    throw Error(yk::where("ram_reserved_bytes", root["ram_reserved_bytes"]),
                "must be smaller than sram_bytes (" + std::to_string(t.sram_bytes) + ")");
  if (t.flash_reserved_bytes >= t.flash_bytes)
    throw Error(yk::where("flash_reserved_bytes", root["flash_reserved_bytes"]),
                "must be smaller than flash_bytes (" + std::to_string(t.flash_bytes) + ")");
  t.dsp = yk::read_scalar<bool>(child(root, "dsp", "dsp"), "dsp", "true or false");
  t.active_power_w = read_non_negative(root, "active_power_w", "active_power_w");
  t.qemu_machine = read_string(root, "qemu_machine");
  if (root["cycles_per_instruction"]) {
    t.cycles_per_instruction = read_non_negative(root, "cycles_per_instruction", "cycles_per_instruction");
    if (t.cycles_per_instruction <= 0)
      throw Error(yk::where("cycles_per_instruction", root["cycles_per_instruction"]), "must be > 0");
  }
  if (root["image"]) {
    const auto image = root["image"];
    yk::check_keys(image, "image", {"flash_origin", "flash_bytes", "ram_origin", "ram_bytes"});
    t.image = ImageLayout{read_bytes(image, "flash_origin", "image.flash_origin"),
                          read_bytes(image, "flash_bytes", "image.flash_bytes"),
                          read_bytes(image, "ram_origin", "image.ram_origin"),
                          read_bytes(image, "ram_bytes", "image.ram_bytes")};
    if (t.image->flash_bytes <= 0 || t.image->ram_bytes <= 0)
      throw Error(yk::where("image", image), "flash_bytes and ram_bytes must be > 0");
  }
  t.per_layer_code_bytes = read_bytes(root, "per_layer_code_bytes", "per_layer_code_bytes");

  // Every path must be priced: a missing one would silently cost nothing.
  const auto latency = child(root, "latency", "latency");
  const auto code = child(root, "code_bytes", "code_bytes");
  yk::check_keys(latency, "latency", path_names());
  yk::check_keys(code, "code_bytes", path_names());
  for (size_t p = 0; p < kKernelPathCount; ++p) {
    const std::string name(kKernelPathNames[p]);
    const std::string path = "latency." + name;
    const auto entry = child(latency, name, path);
    yk::check_keys(entry, path, {kLatencyTermNames.begin(), kLatencyTermNames.end()});
    for (size_t i = 0; i < kLatencyTermNames.size(); ++i) {
      const std::string key = kLatencyTermNames[i];
      if (i < 3 || entry[key]) term(t.latency[p], i) = read_non_negative(entry, key, path + "." + key);
    }
    t.code_bytes[p] = read_bytes(code, name, "code_bytes." + name);
  }
  return t;
}

bool is_path(const std::string& text) {
  return text.find('/') != std::string::npos ||
         (text.size() >= 5 && text.compare(text.size() - 5, 5, ".yaml") == 0);
}

}  // namespace

double& term(LatencyCoefficients& c, size_t index) {
  double* terms[] = {&c.per_mac,        &c.per_output,           &c.per_call,
                     &c.per_pixel,      &c.per_patch_value,      &c.per_scalar_patch_value,
                     &c.per_window_row, &c.per_tail_mac,         &c.per_tail_output,
                     &c.per_valid_mac,  &c.per_valid_row_output, &c.per_scalar_tap,
                     &c.per_plane_sum};
  static_assert(sizeof(terms) / sizeof(terms[0]) == kLatencyTermNames.size(), "one name per term");
  return *terms[index];
}
double term(const LatencyCoefficients& c, size_t index) {
  LatencyCoefficients copy = c;
  return term(copy, index);
}

std::string targets_dir() {
  if (const char* dir = std::getenv("MCUNAS_TARGETS_DIR"); dir != nullptr && *dir != '\0') return dir;
  return (source_tree() / "cost_models" / "targets").string();
}

std::vector<std::string> known_targets() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(targets_dir(), ec))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml" &&
        !entry.path().stem().string().ends_with(".calibration"))  // a target's calibration, not a target
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

Target load_target(const std::string& name_or_path, bool calibrated) {
  std::string file = name_or_path;
  if (!is_path(name_or_path)) {
    file = targets_dir() + "/" + name_or_path + ".yaml";
    if (!std::filesystem::is_regular_file(file))
      throw Error("target", "unknown target '" + name_or_path + "' (known: " + yk::join(known_targets()) +
                                "; or give a path to a target YAML)");
  } else if (!std::filesystem::is_regular_file(file)) {
    throw Error("target", "no target file '" + file + "' (give an existing YAML, or a name: " +
                              yk::join(known_targets()) + ")");
  }
  try {
    Target target = parse_target(YAML::LoadFile(file));
    target.source_path = file;
    const auto calibration = calibration_path(file);
    if (calibrated && std::filesystem::exists(calibration))
      apply_calibration(target, read_calibration(calibration), calibration);
    return target;
  } catch (const Error& e) {
    throw Error(file, e.what());  // "file: key (line n): problem"
  } catch (const YAML::Exception& e) {
    throw Error(file, std::string("not valid YAML: ") + e.what());
  }
}

}  // namespace nas::cost_models
