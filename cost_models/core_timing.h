// Cycles of executed code from its instructions by timing class, as deploy/firmware/qemu_icount_plugin.c counts them
// in QEMU, and the per-instruction timings of each core's Technical Reference Manual (zero wait states). Instructions
// alone are a lower bound on cycles: a load or a taken branch takes two or more on a Cortex-M4, so a kernel that
// saves instructions by adding loads shows it here and not in the instruction count.
#pragma once

#include <optional>
#include <string_view>

namespace nas::cost_models {

// One layer's (or one inference's) executed instructions, in total and by the plugin's classes.
struct InstructionMix {
  double instructions = 0;
  double loads = 0;            // single loads (LDR, LDRB, LDRH, LDRSB, LDRSH, LDR PC, TBB/TBH)
  double loads_pipelined = 0;  // of them, right after another single load in the same translation block
  double stores = 0;           // single stores
  double multiple = 0;         // LDM, STM, PUSH, POP, LDRD, STRD
  double registers = 0;        // the registers those transfer
  double multiplies = 0;       // MUL, MLA, SMLAD, SMMULR, SMULL, ...
  double divides = 0;          // SDIV, UDIV
  double branches = 0;         // branches and writes to PC
  double taken = 0;            // of them, those that changed the flow

  InstructionMix& operator+=(const InstructionMix& o);
};
InstructionMix operator*(const InstructionMix& m, double factor);

// Cycles on `core` (a target's `core:`) from its manual's timing table; nullopt for a core whose manual publishes
// none (cortex-m7, a dual-issue core: its manual describes the pipeline, not per-instruction cycles).
//   cortex-m4f (Cortex-M4 TRM r0p1, 3.3 "Instruction set summary" and "Load/store timings"): 1 cycle each, loads 2
//     (1 right after another load, which the M4 pipelines), stores 1 (the write buffer), LDM/STM/PUSH/POP/LDRD/
//     STRD 1 + N, multiplies and multiply-accumulates 1, divides 2 to 12 (7 taken, the middle: our kernels divide
//     only in per-call set-up), taken branches 1 + P with the pipeline refill P of 1 to 3 (2 taken).
//   cortex-m0plus (Cortex-M0+ TRM r0p1, 3.3 "Instruction set summary"): 1 cycle each, loads and stores 2, LDM/STM/
//     PUSH/POP 1 + N, MULS 1 (the single-cycle multiplier the RP2040 has), taken branches 2.
std::optional<double> trm_cycles(std::string_view core, const InstructionMix& mix);

}  // namespace nas::cost_models
