// `nas merge`: folds the finished runs of a shard (a results database one sweep job wrote on its own, since SQLite
// on a network file system is not safe for concurrent writers) into the main results database.
//
// One transaction per shard: a merge killed midway leaves the main database exactly as before that shard, and the
// next merge does it whole. Runs are matched by their uid, so merging a shard twice adds nothing. Only runs that
// ended "done" are merged: a failed or interrupted job leaves nothing in the main database (nas sweep --status
// reports it from the job's own files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "results/results_db.h"

namespace nas::results {

// Which sweep job a shard belongs to; recorded in the merged runs' sweep and sweep_job columns.
struct SweepTag {
  std::string sweep;
  int32_t job = 0;
};

struct MergeResult {
  int32_t added = 0;           // runs copied into the main database
  int32_t already = 0;         // runs the main database already had (an earlier merge)
  int32_t not_done = 0;        // running, failed or interrupted runs left out
};

// Called after each table is copied, inside the transaction ("runs", "epochs", ...). Tests use it to kill the
// process midway; it has no other use.
using MergeStepHook = std::function<void(const std::string& table)>;

// Throws nas::Error (bad input) naming the shard when it is missing or not an mcunas results database.
MergeResult merge_shard(ResultsDb& main, const std::filesystem::path& shard, const std::optional<SweepTag>& tag = {},
                        const MergeStepHook& after_table = {});

}  // namespace nas::results
