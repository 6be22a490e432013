// Strict YAML reading: every error names the key path and the line, and shows what was given.
#include "common/yaml_keys.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/common/test_support.h"

namespace nas::yaml {
namespace {

TEST(YamlKeys, UnknownKeysAreNamedWithTheirLineAndTheKnownOnes) {
  const YAML::Node node = YAML::Load("epochs: 3\nbatch_sise: 64\n");
  EXPECT_EQ(test_support::error_of([&] { check_keys(node, "train", {"epochs", "batch_size"}); }),
            "train (line 2): unknown key 'batch_sise' (known: epochs, batch_size)");
  EXPECT_EQ(test_support::error_of([&] { check_keys(node, "train", {"epochs", "batch_sise"}); }), "");
}

TEST(YamlKeys, ValuesOfTheWrongTypeShowWhatWasGiven) {
  const YAML::Node node = YAML::Load("out: lots\nkernel: [10, 4]\nseed: 7\nlow: 0\n");
  EXPECT_EQ(test_support::error_of([&] { read_int(node["out"], "model.layers[0].out", 1); }),
            "model.layers[0].out (line 1): expected an integer (got 'lots')");
  EXPECT_EQ(test_support::error_of([&] { read_scalar<int>(node["kernel"], "kernel", "an integer"); }),
            "kernel (line 2): expected an integer (got [10, 4])");
  EXPECT_EQ(read_int(node["seed"], "seed", 0), 7);
  EXPECT_EQ(test_support::error_of([&] { read_int(node["low"], "train.epochs", 1); }), "train.epochs (line 4): must be >= 1 (got 0)");
}

TEST(YamlKeys, KeysThatAreNotNamesAndSectionsThatAreNotMapsAreRefused) {
  const YAML::Node node = YAML::Load("{a: 1}: 2\n");
  EXPECT_EQ(test_support::error_of([&] { check_keys(node, "architecture", {"a"}); }),
            "architecture (line 1): a key must be a name (got a mapping)");
  EXPECT_EQ(test_support::error_of([&] { require_map(YAML::Load("data: [1, 2]")["data"], "data"); }),
            "data (line 1): expected a mapping of keys to values");
  EXPECT_EQ(join({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(to_text(YAML::Load("b: 1")), "b: 1\n");  // stored text ends in a newline
}

}  // namespace
}  // namespace nas::yaml
