// Reading YAML config sections strictly: every key checked against the known ones, every value against its
// type, and every error naming the key path and the line, so a typo in a config is an error with an address
// rather than a silent default. Shared by the data, model and train sections.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace nas::yaml {

// "a, b, c"
std::string join(const std::vector<std::string>& words);

// The node as YAML text ending in a newline: how configs and architectures are stored in the results database.
std::string to_text(const YAML::Node& node);

// "data.synthetic.count (line 7)": the key path, and the line when the node came from a file.
std::string where(const std::string& key_path, const YAML::Node& node);

void require_map(const YAML::Node& node, const std::string& key_path);

// Every key of `node` must be one of `known`.
void check_keys(const YAML::Node& node, const std::string& key_path, const std::vector<std::string>& known);

// A mapping's key as text; bad input naming where it is when the key is itself a mapping or a list (YAML allows
// `{a: 1}: 2`, which no config of ours means).
std::string key_name(const YAML::Node& key, const std::string& key_path);

// A value as a message shows it: a scalar in quotes ('abc'), a list or map in flow style ([10, 4]).
std::string shown(const YAML::Node& node);

// The node's value as T; `expected` describes T for the message ("an integer", "a number", "true or false").
template <typename T>
T read_scalar(const YAML::Node& node, const std::string& key_path, const char* expected) {
  if (!node.IsScalar())
    throw Error(where(key_path, node), std::string("expected ") + expected + " (got " + shown(node) + ")");
  try {
    return node.as<T>();
  } catch (const YAML::BadConversion&) {
    throw Error(where(key_path, node), std::string("expected ") + expected + " (got " + shown(node) + ")");
  }
}

// An integer of at least min_value.
int32_t read_int(const YAML::Node& node, const std::string& key_path, int32_t min_value);

}  // namespace nas::yaml
