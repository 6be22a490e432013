#include "cost_models/arch_view.h"

#include <string>

#include "common/error.h"

namespace nas::cost_models {

ArchView<double> fixed_view(const supernet::SearchSpace& space, const supernet::FixedArch& arch) {
  if (arch.blocks.size() != space.blocks.size())
    throw Error("fixed architecture", "has " + std::to_string(arch.blocks.size()) + " blocks, the search space " +
                                          std::to_string(space.blocks.size()) + " (use an architecture of this space)");
  ArchView<double> view;
  // The first block's: the image's channels, when the space or the architecture knows them.
  int32_t in_channels = space.input_channels > 0  ? space.input_channels
                        : arch.input_channels > 0 ? arch.input_channels
                                                  : -1;
  for (size_t b = 0; b < space.blocks.size(); ++b) {
    const auto& block = space.blocks[b];
    const auto& fixed = arch.blocks[b];
    const std::string where = "fixed architecture block " + std::to_string(b) + " ('" + fixed.name + "')";
    if (fixed.name != block.name)
      throw Error(where, "name differs from the search space's block '" + block.name + "'");
    if (fixed.stride != block.stride)
      throw Error(where, "stride " + std::to_string(fixed.stride) + " differs from the space's " +
                             std::to_string(block.stride));
    BlockView<double> bv;
    bool found = false;
    std::string candidates;
    for (const auto& op : block.ops) {
      bv.op_prob.push_back(op == fixed.op ? 1.0 : 0.0);
      found = found || op == fixed.op;
      candidates += (candidates.empty() ? "" : ", ") + op.name();
    }
    if (!found)
      throw Error(where, "operator '" + fixed.op.name() + "' is not a candidate (candidates: " + candidates + ")");
    if (fixed.op.keeps_input_channels()) {
      if (in_channels >= 0 && fixed.out_channels != in_channels)
        throw Error(where, fixed.op.name() + " keeps its input's " + std::to_string(in_channels) +
                               " channels (got out " + std::to_string(fixed.out_channels) + ")");
    } else if (fixed.out_channels < 1 || fixed.out_channels > block.out_channels) {
      throw Error(where, "out channels must be 1.." + std::to_string(block.out_channels) + " (got " +
                             std::to_string(fixed.out_channels) + ")");
    }
    bv.out_channels = fixed.out_channels;
    in_channels = fixed.out_channels;
    view.blocks.push_back(std::move(bv));
  }
  return view;
}

}  // namespace nas::cost_models
