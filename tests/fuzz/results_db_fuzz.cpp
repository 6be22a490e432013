// The results database opened from a damaged file: first read-only (what runs, show, pareto and eval do), listing
// and reading every run, then for writing (what a recording command does), which must refuse the file or take it.
#include "common/error.h"
#include "results/results_db.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void read_everything(const nas::results::ResultsDb& db) {
  for (const auto& run : db.list_runs()) db.get_run(run.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nas::fuzz::scratch_file("results.db");
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  nas::fuzz::write_file("results.db", data, size);
  try {
    read_everything(nas::results::ResultsDb(path, nas::results::ResultsDb::Access::read_only));
  } catch (const nas::Error&) {
  }
  try {
    nas::results::ResultsDb db(path);
    read_everything(db);
    db.begin_run({"train", "name: x\n", "x.yaml", "nas train", 1, 1});
  } catch (const nas::Error&) {
  }
  return 0;
}
