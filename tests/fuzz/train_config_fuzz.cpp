// The experiment config of `nas train` (search/train_config.h), read from a file as the command does.
#include "common/error.h"
#include "search/train_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nas::search::load_train_config(nas::fuzz::write_file("train.yaml", data, size));
  } catch (const nas::Error&) {
  }
  return 0;
}
