// load_npy on tiny .npy files written byte for byte as numpy.save would, and on each kind of file it must refuse.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "supernet/dataset.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

using test_support::contains;
using test_support::error_of;

// The little-endian bytes of each value, as numpy stores '<i8', '<f4' and friends.
template <typename T>
Bytes le_bytes(const std::vector<T>& values) {
  Bytes bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());  // the test hosts (x86-64, AArch64) are little-endian
  return bytes;
}

// A .npy file as numpy.save writes it: magic, version, header length, the dict padded with spaces to a multiple of
// 64 bytes and ending in '\n', then the data.
Bytes npy_file(const std::string& descr, const std::string& shape, const Bytes& data, int version = 1,
               const std::string& fortran = "False") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  const size_t preamble = version == 1 ? 10 : 12;
  header.append(63 - (preamble + header.size()) % 64, ' ');
  header += '\n';
  // Sized once and filled by index: GCC 12 at -O3 -march=native (AVX-512) reports a false stringop-overflow for
  // the push_back/insert version of this code.
  const size_t length = header.size();
  Bytes bytes(preamble + length + data.size());
  const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  std::memcpy(bytes.data(), magic, sizeof(magic));
  bytes[6] = static_cast<uint8_t>(version);
  bytes[7] = 0;
  for (size_t i = 0; i < preamble - 8; ++i) bytes[8 + i] = static_cast<uint8_t>(length >> (8 * i));
  std::memcpy(bytes.data() + preamble, header.data(), length);
  if (!data.empty()) std::memcpy(bytes.data() + preamble + length, data.data(), data.size());
  return bytes;
}

class NpyTest : public test_support::TempDirTest {
 protected:
  fs::path write(const std::string& name, const Bytes& bytes) { return write_bytes(name, bytes); }

  // Two items of labels 1 and 0 as int64, the dtype np.array([1, 0]) gets.
  fs::path labels() { return write("y.npy", npy_file("<i8", "(2,)", le_bytes<int64_t>({1, 0}))); }
  // Two 1×2 float32 images.
  fs::path images() { return write("x.npy", npy_file("<f4", "(2, 1, 2)", le_bytes<float>({0.5f, -1, 2, 3}))); }

  // The error load_npy gives for this images file and the two good labels.
  std::string image_error(const std::string& name, const Bytes& bytes) {
    return error_of([&] { load_npy(write(name, bytes), labels()); });
  }
  std::string label_error(const std::string& name, const Bytes& bytes) {
    return error_of([&] { load_npy(images(), write(name, bytes)); });
  }

};

TEST_F(NpyTest, ReadsUint8Nhwc) {
  Bytes pixels;
  for (int i = 0; i < 2 * 2 * 3 * 2; ++i) pixels.push_back(static_cast<uint8_t>(i * 10));
  const Dataset data = load_npy(write("x.npy", npy_file("|u1", "(2, 2, 3, 2)", pixels)), labels());
  EXPECT_EQ(data.count, 2);
  EXPECT_EQ(data.height, 2);
  EXPECT_EQ(data.width, 3);
  EXPECT_EQ(data.channels, 2);
  EXPECT_EQ(data.num_classes, 2);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{1, 0}));
  ASSERT_EQ(data.images.size(), pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) EXPECT_EQ(data.images[i], static_cast<float>(pixels[i]) / 255.0f);
}

TEST_F(NpyTest, ReadsFloat32NhwAsOneChannel) {
  const Dataset data = load_npy(images(), labels());
  EXPECT_EQ(data.count, 2);
  EXPECT_EQ(data.height, 1);
  EXPECT_EQ(data.width, 2);
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.images, (std::vector<float>{0.5f, -1, 2, 3}));  // float32 is kept as is, not rescaled
}

TEST_F(NpyTest, ReadsHeaderVersions2And3) {
  for (const int version : {2, 3}) {
    const fs::path x = write("x.npy", npy_file("<f4", "(2, 1, 2)", le_bytes<float>({1, 2, 3, 4}), version));
    const Dataset data = load_npy(x, labels());
    EXPECT_EQ(data.images, (std::vector<float>{1, 2, 3, 4})) << "version " << version;
  }
}

TEST_F(NpyTest, ReadsEveryLittleEndianIntegerLabelDtype) {
  const std::vector<std::pair<std::string, Bytes>> cases = {
      {"|i1", le_bytes<int8_t>({3, 0})},   {"|u1", le_bytes<uint8_t>({3, 0})},  {"<i2", le_bytes<int16_t>({3, 0})},
      {"<u2", le_bytes<uint16_t>({3, 0})}, {"<i4", le_bytes<int32_t>({3, 0})},  {"<u4", le_bytes<uint32_t>({3, 0})},
      {"<i8", le_bytes<int64_t>({3, 0})},  {"<u8", le_bytes<uint64_t>({3, 0})},
  };
  for (const auto& [descr, bytes] : cases) {
    const Dataset data = load_npy(images(), write("y.npy", npy_file(descr, "(2,)", bytes)));
    EXPECT_EQ(data.labels, (std::vector<int32_t>{3, 0})) << descr;
    EXPECT_EQ(data.num_classes, 4) << descr;
  }
}

TEST_F(NpyTest, RejectsFortranOrder) {
  const std::string message = image_error("fortran.npy", npy_file("<f4", "(2, 1, 2)", Bytes(16), 1, "True"));
  EXPECT_TRUE(contains(message, "fortran.npy")) << message;
  EXPECT_TRUE(contains(message, "fortran_order")) << message;
}

TEST_F(NpyTest, RejectsBigEndian) {
  const std::string images = image_error("big.npy", npy_file(">f4", "(2, 1, 2)", Bytes(16)));
  EXPECT_TRUE(contains(images, "big.npy")) << images;
  EXPECT_TRUE(contains(images, "little-endian")) << images;
  const std::string labels = label_error("big-labels.npy", npy_file(">i8", "(2,)", Bytes(16)));
  EXPECT_TRUE(contains(labels, "big-labels.npy")) << labels;
  EXPECT_TRUE(contains(labels, "little-endian")) << labels;
}

TEST_F(NpyTest, RejectsOtherDtypesWithAHint) {
  const std::string float64 = image_error("f8.npy", npy_file("<f8", "(2, 1, 2)", Bytes(32)));
  EXPECT_TRUE(contains(float64, "f8.npy")) << float64;
  EXPECT_TRUE(contains(float64, "unsupported image dtype '<f8'")) << float64;
  EXPECT_TRUE(contains(float64, "astype(np.float32)")) << float64;
  const std::string float_labels = label_error("float-labels.npy", npy_file("<f4", "(2,)", Bytes(8)));
  EXPECT_TRUE(contains(float_labels, "float-labels.npy")) << float_labels;
  EXPECT_TRUE(contains(float_labels, "unsupported label dtype")) << float_labels;
}

TEST_F(NpyTest, RejectsWrongShapes) {
  const std::string flat = image_error("flat.npy", npy_file("<f4", "(2, 2)", Bytes(16)));
  EXPECT_TRUE(contains(flat, "flat.npy")) << flat;
  EXPECT_TRUE(contains(flat, "expected (N, H, W, C) or (N, H, W)")) << flat;
  const std::string two_d = label_error("onehot.npy", npy_file("<i8", "(2, 3)", Bytes(48)));
  EXPECT_TRUE(contains(two_d, "onehot.npy")) << two_d;
  EXPECT_TRUE(contains(two_d, "expected (N,)")) << two_d;
  const std::string three = label_error("three.npy", npy_file("<i8", "(3,)", le_bytes<int64_t>({0, 1, 2})));
  EXPECT_TRUE(contains(three, "three.npy")) << three;
  EXPECT_TRUE(contains(three, "count mismatch: 3 labels")) << three;
}

TEST_F(NpyTest, RejectsTruncationAndTrailingData) {
  const std::string cut = image_error("cut.npy", npy_file("<f4", "(2, 1, 2)", Bytes(15)));
  EXPECT_TRUE(contains(cut, "cut.npy")) << cut;
  EXPECT_TRUE(contains(cut, "truncated: shape (2, 1, 2) of '<f4' needs 16 data bytes, file has 15")) << cut;
  const std::string longer = label_error("long.npy", npy_file("<i8", "(2,)", Bytes(17)));
  EXPECT_TRUE(contains(longer, "trailing data")) << longer;
  Bytes header_cut = npy_file("<f4", "(2, 1, 2)", Bytes(16));
  header_cut.resize(30);
  const std::string inside_header = image_error("header-cut.npy", header_cut);
  EXPECT_TRUE(contains(inside_header, "truncated")) << inside_header;
}

TEST_F(NpyTest, RejectsNegativeLabels) {
  const std::string message = label_error("neg.npy", npy_file("<i8", "(2,)", le_bytes<int64_t>({0, -1})));
  EXPECT_TRUE(contains(message, "neg.npy")) << message;
  EXPECT_TRUE(contains(message, "negative label -1 at index 1")) << message;
}

TEST_F(NpyTest, RejectsNonFinitePixels) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::string message = image_error("nan.npy", npy_file("<f4", "(2, 1, 2)", le_bytes<float>({0, 0, nan, 0})));
  EXPECT_TRUE(contains(message, "nan.npy")) << message;
  EXPECT_TRUE(contains(message, "non-finite pixel value in item 1")) << message;
}

TEST_F(NpyTest, RejectsFilesThatAreNotNpy) {
  const std::string text = image_error("x.csv", Bytes{'1', ',', '2', '\n', '3', ',', '4', '\n', '5', '\n'});
  EXPECT_TRUE(contains(text, "x.csv")) << text;
  EXPECT_TRUE(contains(text, "not a .npy file")) << text;
  Bytes garbled = npy_file("<f4", "(2, 1, 2)", Bytes(16));
  garbled[10] = '[';  // the dict's opening brace
  const std::string header = image_error("garbled.npy", garbled);
  EXPECT_TRUE(contains(header, "malformed .npy header")) << header;
  const std::string missing = error_of([&] { load_npy(dir_ / "absent.npy", labels()); });
  EXPECT_TRUE(contains(missing, "absent.npy")) << missing;
  EXPECT_TRUE(contains(missing, "not found")) << missing;
}

}  // namespace
}  // namespace nas::supernet
