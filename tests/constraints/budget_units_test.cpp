#include "constraints/budget_units.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace nas::constraints {
namespace {

using test_support::contains;
using test_support::error_of;

TEST(BudgetUnits, SizesArePowersOf1024WhateverTheSpelling) {
  EXPECT_EQ(parse_bytes("256K", "--max-ram"), 262144);
  EXPECT_EQ(parse_bytes("256KB", "--max-ram"), 262144);
  EXPECT_EQ(parse_bytes("256kib", "--max-ram"), 262144);
  EXPECT_EQ(parse_bytes("1M", "--max-flash"), 1048576);
  EXPECT_EQ(parse_bytes("1.5MiB", "--max-flash"), 1572864);
  EXPECT_EQ(parse_bytes("983040", "--max-flash"), 983040);  // a bare size is bytes
  EXPECT_EQ(parse_bytes("512B", "--max-ram"), 512);
}

TEST(BudgetUnits, TimesAndEnergies) {
  EXPECT_DOUBLE_EQ(parse_seconds("50ms", "--max-latency"), 0.05);
  EXPECT_DOUBLE_EQ(parse_seconds("800us", "--max-latency"), 800e-6);
  EXPECT_DOUBLE_EQ(parse_seconds("1.5s", "--max-latency"), 1.5);
  EXPECT_DOUBLE_EQ(parse_joules("2mJ", "--max-energy"), 2e-3);
  EXPECT_DOUBLE_EQ(parse_joules("500uJ", "--max-energy"), 500e-6);
}

TEST(BudgetUnits, CountsArePowersOf1000) {
  EXPECT_DOUBLE_EQ(parse_count("2.5M", "--max-macs"), 2.5e6);
  EXPECT_DOUBLE_EQ(parse_count("50k", "--max-params"), 5e4);
  EXPECT_DOUBLE_EQ(parse_count("120000", "--max-macs"), 1.2e5);  // a bare count
  EXPECT_DOUBLE_EQ(parse_count("1G", "--max-macs"), 1e9);
  const std::string message = error_of([] { parse_count("2MB", "--max-macs"); });
  EXPECT_TRUE(contains(message, "--max-macs")) << message;
  EXPECT_TRUE(contains(message, "unknown unit 'MB'")) << message;
  EXPECT_EQ(format_count(812), "812");
  EXPECT_EQ(format_count(43200), "43.2 K");
  EXPECT_EQ(format_count(2.51e6), "2.51 M");
}

TEST(BudgetUnits, BadInputNamesTheFlagTheTextAndTheForms) {
  std::string message = error_of([] { parse_seconds("50", "--max-latency"); });
  EXPECT_TRUE(contains(message, "--max-latency")) << message;
  EXPECT_TRUE(contains(message, "needs a unit")) << message;
  EXPECT_TRUE(contains(message, "50ms")) << message;
  message = error_of([] { parse_bytes("256 GB", "--max-ram"); });
  EXPECT_TRUE(contains(message, "unknown unit 'GB'")) << message;
  message = error_of([] { parse_bytes("lots", "--max-ram"); });
  EXPECT_TRUE(contains(message, "not a number")) << message;
  message = error_of([] { parse_bytes("0K", "--max-ram"); });
  EXPECT_TRUE(contains(message, "must be positive")) << message;
  message = error_of([] { parse_bytes("1.5B", "--max-ram"); });
  EXPECT_TRUE(contains(message, "whole number of bytes")) << message;
  message = error_of([] { parse_seconds("5 fortnights", "--max-latency"); });
  EXPECT_TRUE(contains(message, "unknown unit 'fortnights'")) << message;
}

TEST(BudgetUnits, FormatsForReports) {
  EXPECT_EQ(format_bytes(262144), "256 KiB");
  EXPECT_EQ(format_bytes(1572864), "1.5 MiB");
  EXPECT_EQ(format_bytes(100), "100 B");
  EXPECT_EQ(format_seconds(0.05), "50 ms");
  EXPECT_EQ(format_seconds(800e-6), "800 us");
}

}  // namespace
}  // namespace nas::constraints
