// idx reader (the MNIST / Fashion-MNIST file format): a big-endian header of a magic word and one uint32 per
// dimension, then the uint8 payload. Each file is read whole into memory (47 MB for Fashion-MNIST's training
// images) and parsed from there, so the checks work on one byte vector whether the file was gzipped or not.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_bytes.h"
#include "supernet/dataset.h"

namespace nas::supernet {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // type 0x08 (uint8), 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // type 0x08 (uint8), 1 dimension

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", static_cast<unsigned>(value));
  return text;
}


uint32_t read_be32(const std::vector<uint8_t>& bytes, size_t offset) {
  return uint32_t{bytes[offset]} << 24 | uint32_t{bytes[offset + 1]} << 16 | uint32_t{bytes[offset + 2]} << 8 |
         uint32_t{bytes[offset + 3]};
}

// A parsed header: dims[0] is the item count, the rest the item shape.
struct IdxHeader {
  std::vector<uint32_t> dims;
  size_t payload_offset = 0;
};

IdxHeader parse_header(const std::vector<uint8_t>& bytes, const std::filesystem::path& path, uint32_t magic,
                       const char* kind) {
  const std::string where = path.string();
  if (bytes.size() < 4) {
    throw Error(where, "truncated: " + std::to_string(bytes.size()) + " bytes, too short for an idx header");
  }
  const uint32_t got = read_be32(bytes, 0);
  if (got != magic) {
    std::string hint;
    if (got == kImagesMagic) hint = "; this looks like an idx image file";
    if (got == kLabelsMagic) hint = "; this looks like an idx label file";
    throw Error(where, std::string("wrong magic for ") + kind + " (got " + hex32(got) + ", expected " + hex32(magic) +
                           ")" + hint);
  }
  IdxHeader header;
  const uint32_t rank = magic & 0xFF;
  header.payload_offset = 4 + 4 * size_t{rank};
  if (bytes.size() < header.payload_offset) {
    throw Error(where, "truncated: " + std::to_string(bytes.size()) + " bytes, the idx header needs " +
                           std::to_string(header.payload_offset));
  }
  for (uint32_t d = 0; d < rank; ++d) header.dims.push_back(read_be32(bytes, 4 + 4 * size_t{d}));
  return header;
}

std::string join_dims(const std::vector<uint32_t>& dims) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? "×" : "") + std::to_string(dims[i]);
  return text;
}

// The payload must be exactly what the header promises: fewer bytes is a cut-off download, more is a header that
// does not describe the file.
void check_payload(const std::vector<uint8_t>& bytes, const IdxHeader& header, const std::filesystem::path& path,
                   const char* unit) {
  // Saturates instead of wrapping: a corrupt header can multiply out past 2^64, and must still read as truncated.
  uint64_t promised = 1;
  for (const uint32_t d : header.dims) promised = promised > UINT64_MAX / d ? UINT64_MAX : promised * d;
  const uint64_t present = bytes.size() - header.payload_offset;
  const std::string expr = header.dims.size() > 1 ? join_dims(header.dims) + " = " : "";
  if (present < promised) {
    throw Error(path.string(), "truncated: header promises " + expr + std::to_string(promised) + " " + unit +
                                   " bytes, file has " + std::to_string(present));
  }
  if (present > promised) {
    throw Error(path.string(), "trailing data: header promises " + expr + std::to_string(promised) + " " + unit +
                                   " bytes, file has " + std::to_string(present));
  }
}

void check_dims_nonzero(const IdxHeader& header, const std::filesystem::path& path) {
  for (const uint32_t d : header.dims) {
    if (d == 0) throw Error(path.string(), "empty: header declares shape " + join_dims(header.dims));
    if (d > INT32_MAX) throw Error(path.string(), "dimension too large: header declares " + join_dims(header.dims));
  }
}

}  // namespace

Dataset load_idx(const std::filesystem::path& images, const std::filesystem::path& labels) {
  const std::vector<uint8_t> image_bytes = read_file_bytes(images, "an idx file");
  const IdxHeader image_header = parse_header(image_bytes, images, kImagesMagic, "images");
  check_dims_nonzero(image_header, images);
  check_payload(image_bytes, image_header, images, "pixel");

  const std::vector<uint8_t> label_bytes = read_file_bytes(labels, "an idx file");
  const IdxHeader label_header = parse_header(label_bytes, labels, kLabelsMagic, "labels");
  check_dims_nonzero(label_header, labels);
  check_payload(label_bytes, label_header, labels, "label");

  if (image_header.dims[0] != label_header.dims[0]) {
    throw Error(labels.string(), "count mismatch: " + std::to_string(label_header.dims[0]) + " labels but " +
                                     images.string() + " has " + std::to_string(image_header.dims[0]) + " images");
  }

  Dataset data;
  data.count = static_cast<int32_t>(image_header.dims[0]);
  data.height = static_cast<int32_t>(image_header.dims[1]);
  data.width = static_cast<int32_t>(image_header.dims[2]);
  data.channels = 1;
  const uint8_t* pixels = image_bytes.data() + image_header.payload_offset;
  data.images.resize(static_cast<size_t>(data.count) * static_cast<size_t>(data.item_size()));
  // A table keeps p / 255 exact (p * (1/255) can differ in the last bit) at the cost of a lookup.
  float scale[256];
  for (int p = 0; p < 256; ++p) scale[p] = static_cast<float>(p) / 255.0f;
  std::transform(pixels, pixels + data.images.size(), data.images.begin(), [&](uint8_t p) { return scale[p]; });
  const uint8_t* label_values = label_bytes.data() + label_header.payload_offset;
  data.labels.assign(label_values, label_values + data.count);
  data.num_classes = *std::max_element(data.labels.begin(), data.labels.end()) + 1;
  return data;
}

}  // namespace nas::supernet
