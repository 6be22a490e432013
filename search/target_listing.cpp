#include "search/target_listing.h"

#include <fmt/core.h>

#include <fstream>
#include <vector>

#include "constraints/budget_units.h"

namespace nas::search {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::map<std::string, std::string> value_sources(const std::string& yaml_path) {
  std::map<std::string, std::string> sources;
  std::ifstream in(yaml_path);
  std::vector<std::pair<size_t, std::string>> parents;  // (indent, key) of the enclosing maps
  std::string pending;                                   // comment lines just above a key
  for (std::string line; std::getline(in, line);) {
    const std::string body = trim(line);
    if (body.empty()) {
      pending.clear();
      continue;
    }
    const size_t indent = line.find_first_not_of(" ");
    if (body[0] == '#') {
      pending += (pending.empty() ? "" : " ") + trim(body.substr(1));
      continue;
    }
    const auto colon = body.find(':');
    if (colon == std::string::npos || body[0] == '-') {
      pending.clear();
      continue;
    }
    while (!parents.empty() && parents.back().first >= indent) parents.pop_back();
    std::string key;
    for (const auto& p : parents) key += p.second + ".";
    key += trim(body.substr(0, colon));
    const auto hash = body.find(" #", colon);
    std::string comment = hash == std::string::npos ? "" : trim(body.substr(hash + 2));
    if (comment.empty()) comment = pending;
    if (!comment.empty()) sources[key] = comment;
    const std::string value = trim(body.substr(colon + 1, hash == std::string::npos ? std::string::npos : hash - colon - 1));
    if (value.empty()) parents.emplace_back(indent, trim(body.substr(0, colon)));
    pending.clear();
  }
  return sources;
}

std::string format_targets(const std::vector<cost_models::Target>& targets) {
  std::string out;
  for (const auto& t : targets) {
    const auto sources = value_sources(t.source_path);
    const auto source = [&](const char* key) {
      const auto it = sources.find(key);
      return it == sources.end() ? std::string("(no source given)") : it->second;
    };
    out += fmt::format("{}: {}\n", t.name, t.description);
    out += fmt::format("  core        {} at {:.0f} MHz{}   [{}]\n", t.core, t.clock_hz / 1e6, t.dsp ? ", DSP" : "",
                       source("clock_hz"));
    out += fmt::format("  SRAM        {} ({} for the model; firmware keeps {})   [{}; reserve: {}]\n",
                       constraints::format_bytes(t.sram_bytes), constraints::format_bytes(t.ram_available()),
                       constraints::format_bytes(t.ram_reserved_bytes), source("sram_bytes"),
                       source("ram_reserved_bytes"));
    out += fmt::format("  flash       {} ({} for the model; firmware keeps {})   [{}; reserve: {}]\n",
                       constraints::format_bytes(t.flash_bytes), constraints::format_bytes(t.flash_available()),
                       constraints::format_bytes(t.flash_reserved_bytes), source("flash_bytes"),
                       source("flash_reserved_bytes"));
    out += fmt::format("  power       {:.1f} mW active   [{}]\n", t.active_power_w * 1e3, source("active_power_w"));
    const auto& conv = t.latency_of(cost_models::KernelPath::conv);
    const std::string latency_source =
        t.calibration.empty() ? source("latency.conv.per_mac")
                              : fmt::format("{}, x {} cycles/instruction: {}", t.calibration, t.cycles_per_instruction,
                                            source("cycles_per_instruction"));
    out += fmt::format("  latency     conv {:.2f} cycles/MAC (+{:.1f}/output, +{:.0f}/call)   [{}]\n", conv.per_mac,
                       conv.per_output, conv.per_call, latency_source);
    out += fmt::format("  emulator    qemu-system-arm -M {}\n", t.qemu_machine);
    out += fmt::format("  file        {}\n\n", t.source_path);
  }
  return out;
}

nlohmann::json targets_json(const std::vector<cost_models::Target>& targets) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : targets) {
    nlohmann::json sources = nlohmann::json::object();
    for (const auto& [key, text] : value_sources(t.source_path)) sources[key] = text;
    list.push_back({{"name", t.name},
                    {"description", t.description},
                    {"core", t.core},
                    {"clock_hz", t.clock_hz},
                    {"sram_bytes", t.sram_bytes},
                    {"flash_bytes", t.flash_bytes},
                    {"ram_reserved_bytes", t.ram_reserved_bytes},
                    {"flash_reserved_bytes", t.flash_reserved_bytes},
                    {"dsp", t.dsp},
                    {"active_power_w", t.active_power_w},
                    {"qemu_machine", t.qemu_machine},
                    {"cycles_per_instruction", t.cycles_per_instruction},
                    {"latency_calibration", t.calibration},
                    {"file", t.source_path},
                    {"sources", sources}});
  }
  return {{"targets", list}};
}

}  // namespace nas::search
