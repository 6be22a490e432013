// The idx and .npy loaders (supernet/dataset.h). The input is one byte choosing the format (even: idx, odd: npy),
// two bytes giving the length of the images file (little-endian, at most what is left), the images file, then the
// labels file.
#include "common/error.h"
#include "supernet/dataset.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const bool npy = (data[0] & 1) != 0;
  size_t images_size = static_cast<size_t>(data[1]) | static_cast<size_t>(data[2]) << 8;
  data += 3;
  size -= 3;
  if (images_size > size) images_size = size;
  const auto images = nas::fuzz::write_file(npy ? "images.npy" : "images.idx", data, images_size);
  const auto labels = nas::fuzz::write_file(npy ? "labels.npy" : "labels.idx", data + images_size, size - images_size);
  try {
    if (npy)
      nas::supernet::load_npy(images, labels);
    else
      nas::supernet::load_idx(images, labels);
  } catch (const nas::Error&) {
  }
  return 0;
}
