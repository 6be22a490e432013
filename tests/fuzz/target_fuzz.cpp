// A board's target YAML (cost_models/target.h), given as a path as `nas search --target FILE` takes it, with its
// calibration file beside it read too when the input holds one (after a line "---calibration---").
#include "common/error.h"
#include "cost_models/target.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = nas::fuzz::text_of(data, size);
  const std::string separator = "\n---calibration---\n";
  const auto split = text.find(separator);
  const std::string target = text.substr(0, split);
  const auto path = nas::fuzz::write_file("board.yaml", reinterpret_cast<const uint8_t*>(target.data()), target.size());
  const auto calibration = nas::fuzz::scratch_file("board.calibration.yaml");
  if (split == std::string::npos) {
    std::filesystem::remove(calibration);
  } else {
    const std::string rest = text.substr(split + separator.size());
    nas::fuzz::write_file("board.calibration.yaml", reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
  }
  try {
    nas::cost_models::load_target(path.string());
  } catch (const nas::Error&) {
  }
  return 0;
}
