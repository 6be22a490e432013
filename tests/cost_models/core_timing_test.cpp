// Cycles from instructions by timing class: each class adds what its core's manual says, and a core without a
// published table gives none.
#include "cost_models/core_timing.h"

#include <gtest/gtest.h>

namespace nas::cost_models {
namespace {

TEST(CoreTiming, EachClassAddsWhatTheCortexM4ManualSays) {
  InstructionMix m;
  m.instructions = 100;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 100.0);  // one cycle each
  m.loads = 10;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 110.0);  // a load takes 2
  m.loads_pipelined = 4;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 106.0);  // 1 right after another load
  m.stores = 7;
  m.multiplies = 30;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 106.0);  // stores and multiply-accumulates: 1
  m.multiple = 2;
  m.registers = 9;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 115.0);  // 1 + N
  m.branches = 20;
  m.taken = 5;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 125.0);  // not taken 1, taken 1 + P with P = 2
  m.divides = 1;
  EXPECT_EQ(trm_cycles("cortex-m4f", m), 131.0);  // 7, the middle of 2 to 12
}

TEST(CoreTiming, CortexM0PlusHasNoPipelinedLoadsAndTwoCycleStores) {
  InstructionMix m;
  m.instructions = 100;
  m.loads = 10;
  m.loads_pipelined = 4;
  m.stores = 7;
  m.multiple = 2;
  m.registers = 9;
  m.multiplies = 30;
  m.taken = 5;
  EXPECT_EQ(trm_cycles("cortex-m0plus", m), 100.0 + 10 + 7 + 9 + 5);
}

TEST(CoreTiming, CoresWithoutATimingTableGiveNone) {
  InstructionMix m;
  m.instructions = 100;
  EXPECT_FALSE(trm_cycles("cortex-m7", m).has_value());
  EXPECT_FALSE(trm_cycles("risc-v", m).has_value());
}

TEST(CoreTiming, MixesAddAndScale) {
  InstructionMix a, b;
  a.instructions = 10;
  a.taken = 2;
  b.instructions = 4;
  b.loads = 3;
  a += b;
  EXPECT_EQ(a.instructions, 14);
  EXPECT_EQ(a.loads, 3);
  const InstructionMix half = a * 0.5;
  EXPECT_EQ(half.instructions, 7);
  EXPECT_EQ(half.taken, 1);
}

}  // namespace
}  // namespace nas::cost_models
