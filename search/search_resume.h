// `nas search --resume RUN`: what a search's checkpoints keep of its request (the board, the budgets as typed, the
// seed-network flag, the teacher) and the request rebuilt from them and from the run's stored config, so a search
// killed at any point continues from its last complete epoch with nothing given again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "search/results_db.h"
#include "search/search_driver.h"

namespace nas::search {

// The YAML every checkpoint of the search carries as its `request`.
std::string search_request_yaml(const SearchRequest& request);

// The request that continues run `run_id`: its stored config, what it was asked, and its checkpoint. Throws
// nas::Error (bad input, one line naming the run and what to do) for a run that is missing, not a search, done, or
// without a checkpoint (stopped before its first epoch ended).
SearchRequest resume_request(const ResultsDb& db, int64_t run_id, std::string command_line);

// The newest run of `db` that `--resume` could continue (a search not done, its process gone, with a checkpoint):
// what a sweep job rerun after a kill or a Slurm requeue continues in its shard instead of starting over.
std::optional<int64_t> resumable_run(const ResultsDb& db);

}  // namespace nas::search
