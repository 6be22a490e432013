// Scales to fixed point: round trips, edge cases, and the ADD parameters of every ../shared/conformance/int8 case
// rebuilt from its float scales (they were derived with TFLite's QuantizeMultiplier).
#include "deploy/quantize_multiplier.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "tests/common/test_support.h"

namespace nas::deploy {
namespace {

TEST(QuantizeMultiplier, RepresentsTheScaleToQ31Precision) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-30, 8);
  for (int i = 0; i < 10000; ++i) {
    const double scale = std::pow(2.0, exponent(rng));
    const auto q = quantize_multiplier(scale);
    ASSERT_GE(q.multiplier, 1 << 30);
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    ASSERT_LE(std::fabs(back - scale), std::ldexp(1.0, q.shift - 32)) << scale;  // half a unit of the last place
  }
}

TEST(QuantizeMultiplier, EdgeCases) {
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  const auto near_one = quantize_multiplier(std::nextafter(1.0, 0.0));  // mantissa rounds up to 2^31
  EXPECT_EQ(near_one.multiplier, 1 << 30);
  EXPECT_EQ(near_one.shift, 1);
  EXPECT_EQ(quantize_multiplier(0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(1e-12).multiplier, 0);  // below 2^-31
  EXPECT_TRUE(test_support::contains(test_support::error_of([] { quantize_multiplier(-1); }), "non-negative"));
  EXPECT_FALSE(test_support::error_of([] { quantize_multiplier(NAN); }).empty());
}

TEST(QuantizeMultiplier, RebuildsTheConformanceAddParameters) {
  const auto path =
      std::filesystem::path(MCUNAS_SOURCE_DIR) / ".." / "shared" / "conformance" / "int8" / "add_s8.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const auto s = add_scales(c["input1_scale"], c["input2_scale"], c["output_scale"]);
    EXPECT_EQ(s.left_shift, c["left_shift"].get<int32_t>());
    EXPECT_EQ(s.input1.multiplier, c["input1_multiplier"].get<int32_t>()) << c["id"];
    EXPECT_EQ(s.input1.shift, c["input1_shift"].get<int32_t>()) << c["id"];
    EXPECT_EQ(s.input2.multiplier, c["input2_multiplier"].get<int32_t>()) << c["id"];
    EXPECT_EQ(s.input2.shift, c["input2_shift"].get<int32_t>()) << c["id"];
    EXPECT_EQ(s.output.multiplier, c["output_multiplier"].get<int32_t>()) << c["id"];
    EXPECT_EQ(s.output.shift, c["output_shift"].get<int32_t>()) << c["id"];
    ++cases;
  }
  EXPECT_EQ(cases, 30);
}

}  // namespace
}  // namespace nas::deploy
