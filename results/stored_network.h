// A finished run's network rebuilt from the results database for deployment: the fixed architecture of a search
// (or the model of a training run), its stored weights and BatchNorm statistics, and the run's data with the
// normalisation and hold-out it was trained with. `nas eval` and `nas export` start here.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "results/results_db.h"
#include "supernet/data_spec.h"
#include "supernet/network.h"

namespace nas::results {

struct StoredNetwork {
  RunSummary run;
  std::unique_ptr<supernet::Network> net;
  supernet::DataSplits data;
};

// Copies stored values into a network's parameters or state; a count that differs is one nas::Error line naming
// `where` ("run 3") and `what` ("weights").
void restore_values(const std::vector<float>& stored, std::span<float> into, const std::string& where,
                    const char* what);

// Throws nas::Error (bad_input, one line naming the run and what to do) for a run that does not exist, is not
// finished ("running", "interrupted"), failed, or has no fixed architecture or weights.
// A `nas import` run is refused here with one line: it has no float network.
StoredNetwork load_stored_network(const ResultsDb& db, int64_t run_id);

// The same checks, the run and its data splits, but no network (`net` stays null): what an imported int8 model
// (results/imported_models.h) is evaluated and checked on.
StoredNetwork load_stored_data(const ResultsDb& db, int64_t run_id);

}  // namespace nas::results
