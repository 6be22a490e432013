// The firmware pieces that are data (deploy/firmware_image.h): compiler flags per core, the linker script's MEMORY
// block, the generated headers and the parsers of arm-none-eabi-size's and the QEMU plugin's output. The tools
// themselves run in tests/integration/deploy_firmware_test.sh.
#include "deploy/firmware_image.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

#include <algorithm>

#include "common/error.h"

namespace nas::deploy {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(FirmwareImage, FlagsFollowTheCore) {
  EXPECT_TRUE(has(core_flags("cortex-m4f"), "-mfpu=fpv4-sp-d16"));
  EXPECT_TRUE(has(core_flags("cortex-m4f"), "-mfloat-abi=hard"));
  EXPECT_TRUE(has(core_flags("cortex-m7"), "-mcpu=cortex-m7"));
  EXPECT_TRUE(has(core_flags("cortex-m0plus"), "-mcpu=cortex-m0plus"));
  EXPECT_FALSE(has(core_flags("cortex-m0plus"), "-mfloat-abi=hard"));  // no FPU
  EXPECT_TRUE(test_support::contains(test_support::error_of([] { core_flags("cortex-a53"); }),
                                     "core: no compiler flags for core 'cortex-a53' (known: cortex-m4f, cortex-m7"));
}

TEST(FirmwareImage, MemoryBlockOfTheNano33Layout) {
  const std::string ld = memory_script({65536, 983040, 0x20000000, 262144});
  EXPECT_NE(ld.find("FLASH (rx) : ORIGIN = 0x10000, LENGTH = 983040"), std::string::npos) << ld;
  EXPECT_NE(ld.find("RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 262144"), std::string::npos) << ld;
  EXPECT_NE(ld.find("INCLUDE sections.ld"), std::string::npos);
}

TEST(FirmwareImage, BoardBuildsHaveNoMarkersNorSemihosting) {
  const FirmwareSources board =
      firmware_sources("firmware/board_main.c", "board", "board/memory.ld", {"MCUNAS_BOARD"});
  const auto b = compile_command("cortex-m4f", board, {"conv_s8.c", "add_s8.c"}, "board/nano33.elf");
  EXPECT_TRUE(has(b, "-DMCUNAS_BOARD"));
  EXPECT_FALSE(has(b, "-DMCUNAS_QEMU_MARKERS"));
  EXPECT_FALSE(has(b, "firmware/semihosting.c"));
  // Kernels in name order whatever order they were listed in.
  const auto add = std::find(b.begin(), b.end(), "model/kernels/add_s8.c");
  const auto conv = std::find(b.begin(), b.end(), "model/kernels/conv_s8.c");
  ASSERT_NE(add, b.end());
  EXPECT_LT(add, conv);
  EXPECT_EQ(b.back(), "board/nano33.elf");
  const FirmwareSources check = firmware_sources("firmware/check_main.c", "qemu", "firmware/mps2.ld");
  const auto q = compile_command("cortex-m4f", check, {}, "qemu/x.elf");
  EXPECT_TRUE(has(q, "-DMCUNAS_QEMU_MARKERS"));
  EXPECT_TRUE(has(q, "firmware/semihosting.c"));
}

TEST(FirmwareImage, ScriptQuotesEveryArgument) {
  const std::string s = script_text({{"echo", "it's", "a b"}});
  EXPECT_NE(s.find("'echo' 'it'\\''s' 'a b'"), std::string::npos) << s;
  EXPECT_NE(s.find("cd \"$(dirname \"$0\")/..\""), std::string::npos);
}

TEST(FirmwareImage, ParsesArmNoneEabiSize) {
  const auto size = parse_size_output("   text\t   data\t    bss\t    dec\t    hex\tfilename\n"
                                      "  24908\t      4\t  31948\t  56860\t   de1c\tboard/nano33.elf\n");
  EXPECT_EQ(size.text, 24908);
  EXPECT_EQ(size.flash(), 24912);
  EXPECT_EQ(size.ram(), 31952);
  EXPECT_THROW(parse_size_output("arm-none-eabi-size: 'x.elf': No such file\n"), Error);
}

TEST(FirmwareImage, InstructionsPerLayerFromTheMarks) {
  // Two inferences of two layers: three marks each.
  const auto c = parse_icount("total 1000\nmark 0 100\nmark 1 150\nmark 2 400\nmark 3 500\nmark 4 560\nmark 5 800\n",
                              2, 2);
  EXPECT_EQ(c.total, 1000);
  ASSERT_EQ(c.per_layer.size(), 2u);
  EXPECT_EQ(c.per_layer[0], (std::vector<int64_t>{50, 250}));
  EXPECT_EQ(c.per_layer[1], (std::vector<int64_t>{60, 240}));
  EXPECT_THROW(parse_icount("total 10\nmark 0 1\nmark 1 2\n", 2, 1), Error);  // a mark missing
  EXPECT_THROW(parse_icount("total 10\nbogus 1\n", 0, 0), Error);
}

TEST(FirmwareImage, TimingClassesPerLayerFromTheMarks) {
  // One inference of one layer: the count, then load, load_pipelined, store, multiple, registers, multiply, divide,
  // branch, taken, each running.
  const auto c = parse_icount("total 900\nmark 0 100 10 2 5 1 3 7 0 9 6\nmark 1 400 60 12 25 3 11 57 1 19 14\n", 1, 1);
  ASSERT_EQ(c.per_layer_mix.size(), 1u);
  ASSERT_EQ(c.per_layer_mix[0].size(), 1u);
  const auto& m = c.per_layer_mix[0][0];
  EXPECT_EQ(c.per_layer[0][0], 300);
  EXPECT_EQ(m.instructions, 300);
  EXPECT_EQ(m.loads, 50);
  EXPECT_EQ(m.loads_pipelined, 10);
  EXPECT_EQ(m.stores, 20);
  EXPECT_EQ(m.multiple, 2);
  EXPECT_EQ(m.registers, 8);
  EXPECT_EQ(m.multiplies, 50);
  EXPECT_EQ(m.divides, 1);
  EXPECT_EQ(m.branches, 10);
  EXPECT_EQ(m.taken, 8);
  // Without classes (an older plugin) there is no mix; a mark with a partial set of classes is refused.
  EXPECT_TRUE(parse_icount("total 10\nmark 0 1\nmark 1 2\n", 1, 1).per_layer_mix.empty());
  EXPECT_THROW(parse_icount("total 10\nmark 0 1 2 3\nmark 1 2 3 4\n", 1, 1), Error);
}

TEST(FirmwareImage, CheckDataHoldsEveryImageAndRefusesMismatchedCounts) {
  const std::vector<std::vector<int8_t>> inputs = {{1, -2}, {3, 4}}, expected = {{-128}, {127}};
  const std::vector<int32_t> labels = {7, 9};
  const std::string h = check_data_header(inputs, expected, labels);
  EXPECT_NE(h.find("#define MCUNAS_CHECK_IMAGES 2"), std::string::npos);
  EXPECT_NE(h.find("1, -2,"), std::string::npos) << h;
  EXPECT_NE(h.find("-128,"), std::string::npos);
  EXPECT_NE(h.find("mcunas_check_labels[2]"), std::string::npos);
  EXPECT_THROW(check_data_header(inputs, {{1}}, labels), Error);
  EXPECT_THROW(check_data_header({}, {}, {}), Error);
  const std::vector<int8_t> sample = {5, -6};
  const std::string s = sample_header(sample, 3);
  EXPECT_NE(s.find("#define MCUNAS_SAMPLE_LABEL 3"), std::string::npos);
  EXPECT_NE(s.find("mcunas_sample[2]"), std::string::npos);
}

}  // namespace
}  // namespace nas::deploy
