// `nas targets`: the boards the cost models know, their limits, and where each number comes from. The sources are
// the comments next to each value in the target's YAML (yaml-cpp drops comments, so they are read from the text).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "cost_models/target.h"

namespace nas::search {

// key path ("clock_hz", "latency.conv.per_mac") → the comment on that key's line, or on the lines just above it.
std::map<std::string, std::string> value_sources(const std::string& yaml_path);

std::string format_targets(const std::vector<cost_models::Target>& targets);
nlohmann::json targets_json(const std::vector<cost_models::Target>& targets);

}  // namespace nas::search
