#include "cost_models/core_timing.h"

namespace nas::cost_models {

InstructionMix& InstructionMix::operator+=(const InstructionMix& o) {
  instructions += o.instructions;
  loads += o.loads;
  loads_pipelined += o.loads_pipelined;
  stores += o.stores;
  multiple += o.multiple;
  registers += o.registers;
  multiplies += o.multiplies;
  divides += o.divides;
  branches += o.branches;
  taken += o.taken;
  return *this;
}

InstructionMix operator*(const InstructionMix& m, double factor) {
  return {m.instructions * factor, m.loads * factor,      m.loads_pipelined * factor, m.stores * factor,
          m.multiple * factor,     m.registers * factor,  m.multiplies * factor,      m.divides * factor,
          m.branches * factor,     m.taken * factor};
}

std::optional<double> trm_cycles(std::string_view core, const InstructionMix& m) {
  // Every instruction's first cycle is in m.instructions; below, what each class adds to it.
  if (core == "cortex-m4f") {
    constexpr double kRefill = 2;          // P, 1 to 3
    constexpr double kDivideExtra = 6;     // 7 of 2 to 12
    return m.instructions + (m.loads - m.loads_pipelined) + m.registers + kRefill * m.taken +
           kDivideExtra * m.divides;
  }
  if (core == "cortex-m0plus") return m.instructions + m.loads + m.stores + m.registers + m.taken;
  return std::nullopt;
}

}  // namespace nas::cost_models
