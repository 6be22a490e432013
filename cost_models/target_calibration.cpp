#include "cost_models/target_calibration.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_keys.h"

namespace nas::cost_models {

namespace yk = nas::yaml;

std::filesystem::path calibration_path(const std::filesystem::path& target_yaml) {
  return target_yaml.parent_path() / (target_yaml.stem().string() + ".calibration.yaml");
}

std::string calibration_yaml(const TargetCalibration& c) {
  std::string out = fmt::format(
      "# Written by `nas calibrate --target {0}` from instruction counts of mcunas' own int8 kernels on QEMU's {1}\n"
      "# ({2} code). Do not edit: run nas calibrate again. load_target prices each kernel call as the sum of the\n"
      "# coefficients below times the call's quantities (cost_models/kernel_work.h), in instructions, times the\n"
      "# target's cycles_per_instruction. `fit` says how closely the coefficients reproduce the counted calls.\n"
      "target: {0}\ncore: {2}\nqemu_machine: {1}\ncommit: {3}\ndate: {4}\ninstructions:\n",
      c.target, c.qemu_machine, c.core, c.commit, c.date);
  for (size_t p = 0; p < kKernelPathCount; ++p) {
    out += fmt::format("  {}:\n", kKernelPathNames[p]);
    for (size_t t = 0; t < kLatencyTermNames.size(); ++t)
      if (term(c.instructions[p], t) != 0 || t < 3)
        out += fmt::format("    {}: {:.6g}\n", kLatencyTermNames[t], term(c.instructions[p], t));
  }
  out += "# Flash measured with arm-none-eabi-size and the linker's map: each path's kernel code (paths of one kernel\n"
         "# source share it) and one generated layer's call.\ncode_bytes:\n";
  for (size_t p = 0; p < kKernelPathCount; ++p) out += fmt::format("  {}: {}\n", kKernelPathNames[p], c.code_bytes[p]);
  out += fmt::format("per_layer_code_bytes: {}\n", c.per_layer_code_bytes);
  out += "fit:\n";
  for (size_t p = 0; p < kKernelPathCount; ++p) {
    const auto& f = c.fit[p];
    out += fmt::format("  {}: {{calls: {}, max_error_pct: {:.1f}, mean_error_pct: {:.1f}, within_10_pct: {:.0f}}}\n",
                       kKernelPathNames[p], f.samples, 100 * f.max_error, 100 * f.mean_error, 100 * f.within_10);
  }
  return out;
}

TargetCalibration read_calibration(const std::filesystem::path& file) {
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    yk::check_keys(root, "calibration", {"target", "core", "qemu_machine", "commit", "date", "instructions",
                                         "code_bytes", "per_layer_code_bytes", "fit"});
    TargetCalibration c;
    auto text = [&](const char* key) {
      if (!root[key]) throw Error(key, "missing");
      return yk::read_scalar<std::string>(root[key], key, "a string");
    };
    c.target = text("target");
    c.core = text("core");
    c.qemu_machine = text("qemu_machine");
    c.commit = text("commit");
    c.date = text("date");
    if (!root["instructions"]) throw Error("instructions", "missing");
    const auto instructions = root["instructions"];
    yk::require_map(instructions, "instructions");
    yk::check_keys(instructions, "instructions", {kKernelPathNames.begin(), kKernelPathNames.end()});
    for (size_t p = 0; p < kKernelPathCount; ++p) {
      const std::string path = "instructions." + std::string(kKernelPathNames[p]);
      const auto entry = instructions[std::string(kKernelPathNames[p])];
      if (!entry) throw Error(path, "missing: every kernel path needs its coefficients");
      yk::check_keys(entry, path, {kLatencyTermNames.begin(), kLatencyTermNames.end()});
      for (size_t t = 0; t < kLatencyTermNames.size(); ++t) {
        if (!entry[kLatencyTermNames[t]]) continue;
        const double v = yk::read_scalar<double>(entry[kLatencyTermNames[t]], path, "a number");
        if (!(v >= 0)) throw Error(path + "." + kLatencyTermNames[t], "must be >= 0");
        term(c.instructions[p], t) = v;
      }
    }
    if (!root["code_bytes"]) throw Error("code_bytes", "missing");
    const auto code = root["code_bytes"];
    yk::require_map(code, "code_bytes");
    yk::check_keys(code, "code_bytes", {kKernelPathNames.begin(), kKernelPathNames.end()});
    for (size_t p = 0; p < kKernelPathCount; ++p) {
      const std::string name(kKernelPathNames[p]);
      if (!code[name]) throw Error("code_bytes." + name, "missing");
      c.code_bytes[p] = yk::read_scalar<int64_t>(code[name], "code_bytes." + name, "a whole number of bytes");
    }
    if (!root["per_layer_code_bytes"]) throw Error("per_layer_code_bytes", "missing");
    c.per_layer_code_bytes =
        yk::read_scalar<int64_t>(root["per_layer_code_bytes"], "per_layer_code_bytes", "a whole number of bytes");
    return c;
  } catch (const Error& e) {
    throw Error(file.string(), std::string(e.what()) + " (rerun nas calibrate to rewrite it)");
  } catch (const YAML::Exception& e) {
    throw Error(file.string(), std::string("not valid YAML: ") + e.what() + " (rerun nas calibrate to rewrite it)");
  }
}

void apply_calibration(Target& target, const TargetCalibration& c, const std::filesystem::path& file) {
  if (c.core != target.core)
    throw Error(file.string(), "was calibrated for core " + c.core + ", the target has " + target.core +
                                   "; rerun nas calibrate --target " + target.name);
  for (size_t p = 0; p < kKernelPathCount; ++p)
    for (size_t t = 0; t < kLatencyTermNames.size(); ++t)
      term(target.latency[p], t) = term(c.instructions[p], t) * target.cycles_per_instruction;
  target.code_bytes = c.code_bytes;
  target.per_layer_code_bytes = c.per_layer_code_bytes;
  target.calibration = fmt::format("nas calibrate on QEMU {} ({}, commit {})", c.qemu_machine, c.date, c.commit);
}

}  // namespace nas::cost_models
