// load_idx on tiny hand-written files (raw and gzipped) and on every way such a file can be broken, plus one
// check against the real Fashion-MNIST when the Debian package is installed.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "supernet/dataset.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;

using test_support::contains;
using test_support::error_of;

// Big-endian header words (magic, then one per dimension) followed by the payload.
Bytes idx_file(uint32_t magic, const std::vector<uint32_t>& dims, const Bytes& payload) {
  std::vector<uint32_t> words{magic};
  words.insert(words.end(), dims.begin(), dims.end());
  Bytes bytes;
  for (const uint32_t word : words) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(word >> shift));
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

class IdxTest : public test_support::TempDirTest {
 protected:
  fs::path write_raw(const std::string& name, const Bytes& bytes) { return write_bytes(name, bytes); }

  fs::path write_gz(const std::string& name, const Bytes& bytes) {
    const fs::path path = dir_ / name;
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    gzclose(file);
    return path;
  }

  // Three 2×3 images whose pixels are 0, 10, 20, ...; labels 0, 2, 1.
  Bytes images_ = idx_file(kImagesMagic, {3, 2, 3}, [] {
    Bytes pixels;
    for (int i = 0; i < 18; ++i) pixels.push_back(static_cast<uint8_t>(10 * i));
    return pixels;
  }());
  Bytes labels_ = idx_file(kLabelsMagic, {3}, {0, 2, 1});
};

TEST_F(IdxTest, ReadsRawFiles) {
  const Dataset data = load_idx(write_raw("images", images_), write_raw("labels", labels_));
  EXPECT_EQ(data.count, 3);
  EXPECT_EQ(data.height, 2);
  EXPECT_EQ(data.width, 3);
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.num_classes, 3);
  ASSERT_EQ(data.images.size(), 18u);
  for (int i = 0; i < 18; ++i) EXPECT_EQ(data.images[static_cast<size_t>(i)], static_cast<float>(10 * i) / 255.0f);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{0, 2, 1}));
}

TEST_F(IdxTest, GzippedFilesReadTheSameAsRaw) {
  const Dataset raw = load_idx(write_raw("images", images_), write_raw("labels", labels_));
  const Dataset gz = load_idx(write_gz("images.gz", images_), write_gz("labels.gz", labels_));
  EXPECT_EQ(gz.images, raw.images);
  EXPECT_EQ(gz.labels, raw.labels);
  EXPECT_EQ(gz.count, raw.count);
}

TEST_F(IdxTest, MissingFileNamesThePath) {
  const std::string message = error_of([&] { load_idx(dir_ / "nope.gz", write_raw("labels", labels_)); });
  EXPECT_TRUE(contains(message, "nope.gz")) << message;
  EXPECT_TRUE(contains(message, "not found")) << message;
}

TEST_F(IdxTest, WrongMagicShowsGotAndExpectedInHex) {
  // The classic mix-up: the label file passed as images.
  const fs::path labels = write_raw("labels", labels_);
  const std::string message = error_of([&] { load_idx(labels, labels); });
  EXPECT_TRUE(contains(message, labels.string())) << message;
  EXPECT_TRUE(contains(message, "wrong magic")) << message;
  EXPECT_TRUE(contains(message, "got 0x00000801, expected 0x00000803")) << message;
}

TEST_F(IdxTest, TruncatedImagesSayWhatTheHeaderPromised) {
  Bytes cut = images_;
  cut.resize(16 + 10);  // header (magic + 3 dims) and 10 of the 18 pixels
  const std::string message = error_of([&] { load_idx(write_raw("cut-images", cut), write_raw("labels", labels_)); });
  EXPECT_TRUE(contains(message, "cut-images")) << message;
  EXPECT_TRUE(contains(message, "truncated: header promises 3×2×3 = 18 pixel bytes, file has 10")) << message;
}

TEST_F(IdxTest, TruncatedHeaderAndLabelsAreCaught) {
  const fs::path images = write_raw("images", images_);
  const std::string short_header = error_of([&] { load_idx(write_raw("tiny", {0, 0, 8}), images); });
  EXPECT_TRUE(contains(short_header, "tiny")) << short_header;
  EXPECT_TRUE(contains(short_header, "truncated")) << short_header;
  Bytes cut = labels_;
  cut.pop_back();
  const std::string short_labels = error_of([&] { load_idx(images, write_raw("cut-labels", cut)); });
  EXPECT_TRUE(contains(short_labels, "cut-labels")) << short_labels;
  EXPECT_TRUE(contains(short_labels, "truncated")) << short_labels;
}

TEST_F(IdxTest, TrailingBytesAreAnError) {
  Bytes longer = labels_;
  longer.push_back(0);
  const std::string message = error_of([&] { load_idx(write_raw("images", images_), write_raw("long", longer)); });
  EXPECT_TRUE(contains(message, "long")) << message;
  EXPECT_TRUE(contains(message, "trailing data")) << message;
}

TEST_F(IdxTest, CountMismatchNamesBothCounts) {
  const Bytes two_labels = idx_file(kLabelsMagic, {2}, {0, 1});
  const std::string message =
      error_of([&] { load_idx(write_raw("images", images_), write_raw("two-labels", two_labels)); });
  EXPECT_TRUE(contains(message, "two-labels")) << message;
  EXPECT_TRUE(contains(message, "count mismatch: 2 labels")) << message;
  EXPECT_TRUE(contains(message, "3 images")) << message;
}

TEST_F(IdxTest, EmptyHeaderIsAnError) {
  const Bytes empty = idx_file(kImagesMagic, {0, 28, 28}, {});
  // (Named so that the path cannot satisfy the check on its own.)
  const std::string message =
      error_of([&] { load_idx(write_raw("zero-images", empty), write_raw("labels", labels_)); });
  EXPECT_TRUE(contains(message, "empty: header declares shape 0×28×28")) << message;
}

TEST_F(IdxTest, CorruptGzipIsReported) {
  const fs::path good = write_gz("images.gz", images_);
  std::ifstream in(good, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Flipping bytes of the deflate stream breaks either the stream or its CRC-32 check.
  Bytes flipped = bytes;
  for (size_t i = 12; i < flipped.size() - 8; ++i) flipped[i] ^= 0x5A;
  const fs::path labels = write_raw("labels", labels_);
  const std::string bad_stream = error_of([&] { load_idx(write_raw("flipped.gz", flipped), labels); });
  EXPECT_TRUE(contains(bad_stream, "flipped.gz")) << bad_stream;
  EXPECT_TRUE(contains(bad_stream, "corrupt gzip")) << bad_stream;
  // A download cut off mid-stream.
  Bytes cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  const std::string cut_stream = error_of([&] { load_idx(write_raw("cut.gz", cut), labels); });
  EXPECT_TRUE(contains(cut_stream, "cut.gz")) << cut_stream;
  EXPECT_TRUE(contains(cut_stream, "corrupt gzip")) << cut_stream;
}

TEST_F(IdxTest, GzNameOnAnUncompressedFileIsAnError) {
  const std::string message = error_of([&] { load_idx(write_raw("plain.gz", images_), write_raw("labels", labels_)); });
  EXPECT_TRUE(contains(message, "plain.gz")) << message;
  EXPECT_TRUE(contains(message, "not gzip-compressed")) << message;
}

TEST(FashionMnist, LoadsTheInstalledDataset) {
  const fs::path dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is missing (scripts/setup.sh installs it)";
  const Dataset train = load_idx(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz");
  const Dataset test = load_idx(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  for (const Dataset* data : {&train, &test}) {
    EXPECT_EQ(data->height, 28);
    EXPECT_EQ(data->width, 28);
    EXPECT_EQ(data->channels, 1);
    EXPECT_EQ(data->num_classes, 10);
  }
}

}  // namespace
}  // namespace nas::supernet
