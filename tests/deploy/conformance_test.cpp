// Every case of ../shared/conformance/int8 (outputs of CMSIS-NN, i.e. TFLite int8 arithmetic with its default
// double rounding) through mcunas' C99 kernels: each output must match `expected` exactly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mcunas_kernels.h"
#include "requantize.h"

namespace {

using nlohmann::json;

std::filesystem::path conformance_dir() {
  return std::filesystem::path(MCUNAS_SOURCE_DIR) / ".." / "shared" / "conformance" / "int8";
}

// Every case of one file; the test fails (not skips) when the file is missing: CI has ../shared beside the clone.
std::vector<json> cases(const std::string& file) {
  const auto path = conformance_dir() / file;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " not found (the conformance cases live in ../shared beside the repository)";
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

template <typename T>
std::vector<T> values(const json& c, const char* key) {
  return c.at(key).get<std::vector<T>>();
}

int32_t get(const json& c, const char* key) { return c.at(key).get<int32_t>(); }

// Compares and reports the first mismatch with its index, so a failing case says where.
void expect_same(const std::vector<int8_t>& got, const json& c) {
  const auto expected = values<int32_t>(c, "expected");
  ASSERT_EQ(got.size(), expected.size()) << c.at("id");
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != expected[i] && mismatches++ == 0) first = i;
  EXPECT_EQ(mismatches, 0u) << c.at("id") << ": first at " << first << " got " << int{got[first]} << " expected "
                            << expected[first];
}

mcunas_conv_params conv_params(const json& c) {
  return {get(c, "stride_h"), get(c, "stride_w"), get(c, "pad_h"),   get(c, "pad_w"),
          get(c, "input_offset"), get(c, "output_offset"), get(c, "act_min"), get(c, "act_max")};
}

TEST(Int8Conformance, Requantize) {
  const auto all = cases("requant.jsonl");
  ASSERT_FALSE(all.empty());
  size_t checked = 0;
  for (const auto& c : all) {
    const auto acc = values<int32_t>(c, "acc"), mult = values<int32_t>(c, "multiplier"),
               shift = values<int32_t>(c, "shift"), expected = values<int32_t>(c, "expected");
    for (size_t i = 0; i < acc.size(); ++i, ++checked)
      ASSERT_EQ(mcunas_requantize(acc[i], mult[i], shift[i]), expected[i])
          << c.at("id") << " [" << i << "] acc " << acc[i] << " m " << mult[i] << " s " << shift[i];
  }
  EXPECT_EQ(checked, 1600u);
}

// Conv and depthwise cases share their fields; depthwise weights are 1 x k_h x k_w x c.
void conv_cases(const char* file, bool depthwise) {
  const auto all = cases(file);
  ASSERT_EQ(all.size(), 30u);
  for (const auto& c : all) {
    ASSERT_EQ(get(c, "dilation_h"), 1);
    if (depthwise) {
      ASSERT_EQ(get(c, "ch_mult"), 1);
    }
    const auto p = conv_params(c);
    const auto mult = values<int32_t>(c, "multiplier"), shift = values<int32_t>(c, "shift");
    const mcunas_channel_quant q{mult.data(), shift.data()};
    const mcunas_dims in{get(c, "n"), get(c, "in_h"), get(c, "in_w"), get(c, "in_c")};
    const mcunas_dims f{depthwise ? 1 : get(c, "out_c"), get(c, "k_h"), get(c, "k_w"), get(c, "in_c")};
    const mcunas_dims out{get(c, "n"), get(c, "out_h"), get(c, "out_w"), get(c, "out_c")};
    const auto input = values<int8_t>(c, "input"), weights = values<int8_t>(c, "weights");
    const auto bias = values<int32_t>(c, "bias");
    std::vector<int8_t> output(static_cast<size_t>(out.n) * out.h * out.w * out.c);
    if (depthwise)
      mcunas_depthwise_conv_s8(&p, &q, &in, input.data(), &f, weights.data(), bias.data(), &out, output.data(),
                               nullptr);
    else
      mcunas_conv_s8(&p, &q, &in, input.data(), &f, weights.data(), bias.data(), &out, output.data(), nullptr);
    expect_same(output, c);
  }
}

TEST(Int8Conformance, Conv) { conv_cases("conv_s8.jsonl", false); }
TEST(Int8Conformance, DepthwiseConv) { conv_cases("dwconv_s8.jsonl", true); }

TEST(Int8Conformance, FullyConnected) {
  const auto all = cases("fc_s8.jsonl");
  ASSERT_EQ(all.size(), 30u);
  for (const auto& c : all) {
    ASSERT_EQ(get(c, "filter_offset"), 0);  // symmetric weights
    const mcunas_fc_params p{get(c, "input_offset"), get(c, "output_offset"), get(c, "multiplier"),
                             get(c, "shift"),        get(c, "act_min"),       get(c, "act_max")};
    const auto input = values<int8_t>(c, "input"), weights = values<int8_t>(c, "weights");
    const auto bias = values<int32_t>(c, "bias");
    std::vector<int8_t> output(static_cast<size_t>(get(c, "n")) * get(c, "out_features"));
    mcunas_fully_connected_s8(&p, get(c, "n"), get(c, "in_features"), input.data(), get(c, "out_features"),
                              weights.data(), bias.data(), output.data());
    expect_same(output, c);
  }
}

void pool_cases(const char* file, bool max) {
  const auto all = cases(file);
  ASSERT_EQ(all.size(), 30u);
  for (const auto& c : all) {
    const mcunas_pool_params p{get(c, "k_h"),   get(c, "k_w"),   get(c, "stride_h"), get(c, "stride_w"),
                               get(c, "pad_h"), get(c, "pad_w"), get(c, "act_min"),  get(c, "act_max")};
    const mcunas_dims in{get(c, "n"), get(c, "in_h"), get(c, "in_w"), get(c, "c")};
    const mcunas_dims out{get(c, "n"), get(c, "out_h"), get(c, "out_w"), get(c, "c")};
    const auto input = values<int8_t>(c, "input");
    std::vector<int8_t> output(static_cast<size_t>(out.n) * out.h * out.w * out.c);
    (max ? mcunas_max_pool_s8 : mcunas_avg_pool_s8)(&p, &in, input.data(), &out, output.data());
    expect_same(output, c);
  }
}

TEST(Int8Conformance, MaxPool) { pool_cases("maxpool_s8.jsonl", true); }
TEST(Int8Conformance, AvgPool) { pool_cases("avgpool_s8.jsonl", false); }

TEST(Int8Conformance, Add) {
  const auto all = cases("add_s8.jsonl");
  ASSERT_EQ(all.size(), 30u);
  for (const auto& c : all) {
    const mcunas_add_params p{get(c, "input1_offset"),     get(c, "input1_multiplier"), get(c, "input1_shift"),
                              get(c, "input2_offset"),     get(c, "input2_multiplier"), get(c, "input2_shift"),
                              get(c, "left_shift"),        get(c, "output_offset"),     get(c, "output_multiplier"),
                              get(c, "output_shift"),      get(c, "act_min"),           get(c, "act_max")};
    const auto a = values<int8_t>(c, "input1"), b = values<int8_t>(c, "input2");
    std::vector<int8_t> output(static_cast<size_t>(get(c, "size")));
    mcunas_add_s8(&p, get(c, "size"), a.data(), b.data(), output.data(), nullptr);
    expect_same(output, c);
  }
}

}  // namespace
