// An .onnx file as `nas import --as-seed` reads it (supernet/onnx_import.h); what reads without error has become a
// network with weights, which must then run one image.
#include "common/error.h"
#include "supernet/onnx_import.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nas::supernet::OnnxNetwork read = nas::supernet::read_onnx({data, size}, "fuzz.onnx");
    nas::supernet::Tensor image(read.input);
    read.net->forward(image, /*training=*/false);
  } catch (const nas::Error&) {
  }
  return 0;
}
