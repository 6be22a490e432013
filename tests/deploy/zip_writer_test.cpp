// The zip writer (deploy/zip_writer.h): archives read back entry for entry by our own reader (zip_reading.h),
// deflate where it pays and stored where it does not, the same bytes on every call, refused names, and, where
// the unzip program is installed, a second opinion from it.
#include "deploy/zip_writer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/common/test_support.h"
#include "tests/deploy/zip_reading.h"

namespace nas::deploy {
namespace {

using testing::read_zip;

// A generated-C-like file: long runs of similar lines, which deflate shrinks several times over.
std::string repetitive_text() {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "    " + std::to_string(i % 17 - 8) + ", -12, 7, 100, -128, 127,\n";
  return text;
}

std::vector<ZipEntry> sample_entries() {
  std::mt19937 rng(5);  // noise, which deflate cannot shrink; with zeros and high bytes
  std::string binary(300, '\0');
  for (size_t i = 10; i < binary.size(); ++i) binary[i] = static_cast<char>(rng() & 0xff);
  return {{"lib/", ""},
          {"lib/empty.txt", ""},
          {"lib/short.h", "#pragma once\n"},
          {"lib/src/", ""},
          {"lib/src/model.c", repetitive_text()},
          {"lib/src/weights.bin", binary}};
}

TEST(ZipWriter, ReadsBackEveryEntryInOrder) {
  const auto entries = sample_entries();
  const auto items = read_zip(zip_archive(entries));
  ASSERT_EQ(items.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(items[i].name, entries[i].name);
    EXPECT_EQ(items[i].contents, entries[i].contents) << entries[i].name;
    const bool directory = entries[i].name.back() == '/';
    EXPECT_EQ(items[i].external_attributes >> 16, directory ? 040755u : 0100644u) << entries[i].name;
  }
}

TEST(ZipWriter, DeflatesOnlyWhereItIsSmaller) {
  const auto items = read_zip(zip_archive(sample_entries()));
  for (const auto& item : items) {
    // Deflate adds a few bytes to 13 bytes of text and to nothing at all; the repetitive source shrinks.
    const uint16_t expected = item.name == "lib/src/model.c" ? 8 : 0;
    EXPECT_EQ(item.method, expected) << item.name;
  }
  const std::string text = repetitive_text();
  EXPECT_LT(zip_archive({{"model.c", text}}).size(), text.size() / 4);
}

TEST(ZipWriter, SameEntriesGiveTheSameBytes) {
  EXPECT_EQ(zip_archive(sample_entries()), zip_archive(sample_entries()));
  EXPECT_EQ(read_zip(zip_archive({})).size(), 0u);  // an empty archive is just the end record
}

TEST(ZipWriter, RefusesNamesAReaderCouldNotPlaceSafely) {
  for (const std::string name : {"", "/etc/passwd", "lib/../../outside", "..", "lib\\src\\model.c"}) {
    try {
      zip_archive({{name, "x"}});
      ADD_FAILURE() << "'" << name << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::failure) << e.what();
    }
  }
  EXPECT_NE(test_support::error_of([] { zip_archive({{"lib/", "contents"}}); }), "");
  EXPECT_EQ(test_support::error_of([] { zip_archive({{"lib/..hidden", "x"}}); }), "");  // a name, not a parent
}

class ZipWriterUnzip : public test_support::TempDirTest {};

// Our reader and writer come from one reading of the format; unzip is an independent one. Not installed on every
// machine (CI has no need of it), so the check is skipped, saying so, where it is missing.
TEST_F(ZipWriterUnzip, UnzipTestsTheArchiveClean) {
  if (std::system("command -v unzip > /dev/null 2>&1") != 0) GTEST_SKIP() << "unzip is not installed";
  const auto path = dir_ / "sample.zip";
  const std::string archive = zip_archive(sample_entries());
  std::ofstream(path, std::ios::binary).write(archive.data(), static_cast<std::streamsize>(archive.size()));
  const std::string command = "unzip -tq '" + path.string() + "' > '" + (dir_ / "unzip.log").string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log(dir_ / "unzip.log");
  const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
}

}  // namespace
}  // namespace nas::deploy
