#include "cost_models/target.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "cost_models/costs.h"
#include "cost_models/kernel_work.h"
#include "tests/common/test_support.h"

namespace nas::cost_models {
namespace {

using test_support::contains;
using test_support::error_of;

TEST(Target, ShipsTheFourBoards) {
  EXPECT_EQ(known_targets(), (std::vector<std::string>{"f746", "l4r5", "nano33", "rp2040"}));
  for (const auto& name : known_targets()) {
    const Target t = load_target(name);
    EXPECT_EQ(t.name, name);
    EXPECT_GT(t.ram_available(), 0) << name;
    EXPECT_GT(t.flash_available(), 0) << name;
    EXPECT_GT(t.active_power_w, 0) << name;
    for (size_t p = 0; p < kKernelPathCount; ++p) EXPECT_GT(t.latency[p].per_call, 0) << name << " " << p;
  }
}

TEST(Target, LimitsMatchTheDatasheets) {
  const Target nano = load_target("nano33");
  EXPECT_EQ(nano.core, "cortex-m4f");
  EXPECT_EQ(nano.clock_hz, 64e6);
  EXPECT_EQ(nano.sram_bytes, 256 * 1024);
  EXPECT_EQ(nano.flash_bytes, 1024 * 1024);
  EXPECT_TRUE(nano.dsp);
  EXPECT_LE(nano.flash_available(), 983040);  // what the bootloader leaves to the sketch
  EXPECT_LT(nano.ram_available(), nano.sram_bytes);
  EXPECT_EQ(nano.qemu_machine, "mps2-an386");

  const Target f746 = load_target("f746");
  EXPECT_EQ(f746.core, "cortex-m7");
  EXPECT_EQ(f746.clock_hz, 216e6);
  EXPECT_EQ(f746.sram_bytes, 320 * 1024);
  EXPECT_EQ(f746.flash_bytes, 1024 * 1024);
  EXPECT_EQ(f746.qemu_machine, "mps2-an500");

  const Target l4r5 = load_target("l4r5");
  EXPECT_EQ(l4r5.clock_hz, 120e6);
  EXPECT_EQ(l4r5.sram_bytes, 640 * 1024);
  EXPECT_EQ(l4r5.flash_bytes, 2 * 1024 * 1024);

  const Target rp = load_target("rp2040");
  EXPECT_EQ(rp.core, "cortex-m0plus");
  EXPECT_EQ(rp.clock_hz, 133e6);
  EXPECT_EQ(rp.sram_bytes, 264 * 1024);
  EXPECT_EQ(rp.flash_bytes, 2 * 1024 * 1024);
  EXPECT_FALSE(rp.dsp);
  EXPECT_EQ(rp.qemu_machine, "mps2-an385");
}

// The reference layer of bench/kernels_m4 (int8 conv 3×3, 16×16×16 -> 16, pad 1: 589,824 MACs) priced by a target.
double bench_layer_cycles(const Target& t) {
  OpInfo<double> conv;
  conv.path = KernelPath::conv;
  set_kernel_work(conv, 16.0, 16.0, {16, 16, 16, 16, 3, 1, 1});
  return op_cycles(conv, t);
}

// The project's calibration point: the calibrated Nano 33 model prices the reference layer at about the 1.44
// instructions per MAC bench/kernels_m4 counts in QEMU (within 10 %), times the Cortex-M4's 1.1 cycles per
// instruction, so a 50 ms budget buys about 2.0 M MACs of 3×3 conv.
TEST(Target, Nano33PricesTheBenchConvAsCounted) {
  const Target nano = load_target("nano33");
  EXPECT_FALSE(nano.calibration.empty());
  const double instructions_per_mac = bench_layer_cycles(nano) / nano.cycles_per_instruction / 589824.0;
  EXPECT_NEAR(instructions_per_mac, 1.44, 0.144);
  // Faster cores cost fewer cycles for the same layer; the core without DSP costs more.
  EXPECT_LT(bench_layer_cycles(load_target("f746")), bench_layer_cycles(nano));
  EXPECT_GT(bench_layer_cycles(load_target("rp2040")), 2 * bench_layer_cycles(nano));
}

TEST(Target, UnknownNameListsTheKnownOnes) {
  const auto message = error_of([] { load_target("nano34"); });
  EXPECT_TRUE(contains(message, "unknown target 'nano34'")) << message;
  EXPECT_TRUE(contains(message, "known: f746, l4r5, nano33, rp2040")) << message;
  EXPECT_TRUE(contains(message, "path to a target YAML")) << message;
}

class TargetFileTest : public test_support::TempDirTest {
 protected:
  static std::string shipped() {
    std::ifstream in(targets_dir() + "/nano33.yaml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // nano33.yaml with the first occurrence of `from` replaced by `to`; the error of loading it.
  std::string error_with(const std::string& from, const std::string& to) const {
    std::string text = shipped();
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    const auto path = write_text("board.yaml", text);
    const auto message = error_of([&] { load_target(path.string()); });
    EXPECT_TRUE(contains(message, path.string())) << message;
    return message;
  }
};

TEST_F(TargetFileTest, LoadsByPath) {
  const auto path = write_text("copy.yaml", shipped());
  EXPECT_EQ(load_target(path.string()).clock_hz, 64e6);
  EXPECT_EQ(load_target(path.string()).source_path, path.string());
}

TEST_F(TargetFileTest, MissingKeyIsNamed) {
  const auto message = error_with("clock_hz: 64000000", "");
  EXPECT_TRUE(contains(message, "missing key 'clock_hz'")) << message;
}

TEST_F(TargetFileTest, WrongTypeIsNamed) {
  const auto message = error_with("clock_hz: 64000000", "clock_hz: fast");
  EXPECT_TRUE(contains(message, "clock_hz")) << message;
  EXPECT_TRUE(contains(message, "expected a number")) << message;
}

TEST_F(TargetFileTest, NegativeNumberIsNamed) {
  const auto message = error_with("sram_bytes: 262144", "sram_bytes: -5");
  EXPECT_TRUE(contains(message, "sram_bytes")) << message;
  EXPECT_TRUE(contains(message, ">= 0")) << message;
  const auto coefficient = error_with("per_mac: 2.4", "per_mac: -2.4");
  EXPECT_TRUE(contains(coefficient, "latency.conv.per_mac")) << coefficient;
}

TEST_F(TargetFileTest, UnknownKeyIsNamed) {
  const auto message = error_with("dsp: true", "dsp: true\ncolour: red");
  EXPECT_TRUE(contains(message, "unknown key 'colour'")) << message;
  const auto nested = error_with("  conv:\n", "  convolution:\n");
  EXPECT_TRUE(contains(nested, "unknown key 'convolution'")) << nested;
}

TEST_F(TargetFileTest, MissingKernelPathIsNamed) {
  const auto message = error_with("  add:\n    per_mac: 0", "  unused:\n    per_mac: 0");
  EXPECT_TRUE(contains(message, "latency")) << message;
}

TEST_F(TargetFileTest, ReservedMustLeaveRoom) {
  const auto message = error_with("ram_reserved_bytes: 65536", "ram_reserved_bytes: 300000");
  EXPECT_TRUE(contains(message, "ram_reserved_bytes")) << message;
}

TEST_F(TargetFileTest, BrokenYamlIsNamed) {
  const auto path = write_text("broken.yaml", "name: [unclosed\n");
  const auto message = error_of([&] { load_target(path.string()); });
  EXPECT_TRUE(contains(message, path.string())) << message;
  EXPECT_TRUE(contains(message, "not valid YAML")) << message;
}

TEST_F(TargetFileTest, EnvironmentChoosesTheDirectory) {
  write_text("myboard.yaml", shipped());
  ASSERT_EQ(setenv("MCUNAS_TARGETS_DIR", dir_.c_str(), 1), 0);
  const auto names = known_targets();
  const auto clock = load_target("myboard").clock_hz;
  unsetenv("MCUNAS_TARGETS_DIR");
  EXPECT_EQ(names, std::vector<std::string>{"myboard"});
  EXPECT_EQ(clock, 64e6);
}

}  // namespace
}  // namespace nas::cost_models
