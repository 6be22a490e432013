// The search space (`search_space:` of a config) and a fixed architecture (what a search stores and `nas finetune`
// reads back), from one YAML document; YAML that does not parse is the YAML library's part, not ours.
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "supernet/search_space.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  YAML::Node root;
  try {
    root = YAML::Load(nas::fuzz::text_of(data, size));
  } catch (const YAML::Exception&) {
    return 0;
  }
  try {
    nas::supernet::parse_search_space(root, nas::supernet::Shape{1, 28, 28, 1});
  } catch (const nas::Error&) {
  }
  try {
    nas::supernet::parse_fixed_arch(root);
  } catch (const nas::Error&) {
  }
  return 0;
}
