// The experiment config of `nas search` (search/search_config.h), from the text a user writes or a run stored.
#include "common/error.h"
#include "search/search_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nas::search::search_config_from_text(nas::fuzz::text_of(data, size), nas::fuzz::scratch_file("config.yaml"));
  } catch (const nas::Error&) {
  }
  return 0;
}
