#include "search/target_listing.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace nas::search {
namespace {

using test_support::contains;

class TargetListingTest : public test_support::TempDirTest {};

TEST_F(TargetListingTest, SourcesAreTheCommentsOnOrAboveEachKey) {
  const auto path = write_text("board.yaml", R"(# a board
name: board
clock_hz: 64000000          # datasheet p. 3
# the firmware's share:
# two lines of reasoning
ram_reserved_bytes: 1024

latency:
  conv:
    per_mac: 2.4            # measured
    per_call: 400
)");
  const auto sources = value_sources(path.string());
  EXPECT_EQ(sources.at("clock_hz"), "datasheet p. 3");
  EXPECT_EQ(sources.at("ram_reserved_bytes"), "the firmware's share: two lines of reasoning");
  EXPECT_EQ(sources.at("latency.conv.per_mac"), "measured");
  EXPECT_EQ(sources.count("latency.conv.per_call"), 0u);
  EXPECT_EQ(sources.at("name"), "a board");  // a comment block right above a key belongs to it
}

TEST_F(TargetListingTest, EveryShippedBoardIsListedWithItsSources) {
  std::vector<cost_models::Target> targets;
  for (const auto& name : cost_models::known_targets()) targets.push_back(cost_models::load_target(name));
  ASSERT_GE(targets.size(), 4u);
  const std::string text = format_targets(targets);
  for (const auto& t : targets) EXPECT_TRUE(contains(text, t.name + ": ")) << t.name;
  EXPECT_TRUE(contains(text, "nRF52840"));
  EXPECT_FALSE(contains(text, "(no source given)")) << text;
  const auto json = targets_json(targets);
  EXPECT_EQ(json["targets"].size(), targets.size());
  EXPECT_FALSE(json["targets"][0]["sources"].empty());
}

}  // namespace
}  // namespace nas::search
