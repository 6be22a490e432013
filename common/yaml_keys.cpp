#include "common/yaml_keys.h"

#include <algorithm>

namespace nas::yaml {

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : ", ") + word;
  return text;
}

std::string to_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

std::string shown(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

std::string where(const std::string& key_path, const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? key_path + " (line " + std::to_string(line + 1) + ")" : key_path;
}

void require_map(const YAML::Node& node, const std::string& key_path) {
  if (!node.IsMap()) throw Error(where(key_path, node), "expected a mapping of keys to values");
}

std::string key_name(const YAML::Node& key, const std::string& key_path) {
  if (!key.IsScalar())
    throw Error(where(key_path, key), std::string("a key must be a name (got a ") +
                                          (key.IsMap() ? "mapping" : key.IsSequence() ? "list" : "null") + ")");
  return key.Scalar();
}

void check_keys(const YAML::Node& node, const std::string& key_path, const std::vector<std::string>& known) {
  require_map(node, key_path);
  for (const auto& entry : node) {
    const auto key = key_name(entry.first, key_path);
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw Error(where(key_path, entry.first), "unknown key '" + key + "' (known: " + join(known) + ")");
  }
}

int32_t read_int(const YAML::Node& node, const std::string& key_path, int32_t min_value) {
  const auto value = read_scalar<int32_t>(node, key_path, "an integer");
  if (value < min_value)
    throw Error(where(key_path, node), "must be >= " + std::to_string(min_value) + " (got " + std::to_string(value) + ")");
  return value;
}

}  // namespace nas::yaml
