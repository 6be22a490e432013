// nas search --seed-run RUN: a search that starts from a network of the user's own (an ONNX model brought in by
// `nas import --as-seed`, or any finished run with a fixed architecture) instead of a search space of ours, as
// PLiNIO searches a PyTorch model's widths: each of the network's blocks becomes a searchable block with its own
// operator as the only candidate and its channels as the largest width (PIT masks then search the widths), the data
// is the run's, and the supernet starts from the run's weights (supernet::seed_supernet).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "results/results_db.h"
#include "search/search_config.h"
#include "supernet/network.h"
#include "supernet/search_space.h"

namespace nas::search {

// The `search_space:` of a fixed architecture: one block per block, its operator alone, its channels the most.
YAML::Node seed_run_space(const supernet::FixedArch& arch);

// `config` (read with `overrides`) with its search_space and data replaced by run `run_id`'s; errors name
// --seed-run: a run that does not exist, is not finished, or has no fixed architecture with weights (a `nas train`
// run's free-form model, a TFLite import).
SearchConfig seed_run_config(const results::ResultsDb& db, int64_t run_id, const SearchConfig& config,
                             const SearchOverrides& overrides);

// The run's fixed architecture and its network (for images of `input` in `classes` classes, the search's data, which
// seed_run_config made the run's) with the stored weights, for supernet::seed_supernet.
struct SeedNetwork {
  supernet::FixedArch arch;
  std::unique_ptr<supernet::Network> net;
};
SeedNetwork load_seed_network(const results::ResultsDb& db, int64_t run_id, supernet::Shape input, int32_t classes);

}  // namespace nas::search
