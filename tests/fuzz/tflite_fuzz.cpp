// A .tflite file as nas reads it (deploy/tflite_import.h); what reads without error is written again
// (deploy/tflite_export.h), which must either succeed or refuse with nas::Error.
#include "common/error.h"
#include "deploy/tflite_export.h"
#include "deploy/tflite_import.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nas::deploy::Int8Model model = nas::deploy::read_tflite({data, size}, "fuzz.tflite");
    nas::deploy::tflite_model(model, "fuzz");
  } catch (const nas::Error&) {
  }
  return 0;
}
