// Whole-file reads (plain and gzip) and atomic writes: what the data loaders, sweeps and exports stand on.
#include "common/file_bytes.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/common/test_support.h"

namespace nas {
namespace {

namespace fs = std::filesystem;
using test_support::error_of;

class FileBytesTest : public test_support::TempDirTest {
 protected:
  std::string message_of(const fs::path& path) {
    return error_of([&] { read_file_bytes(path, "an idx file"); });
  }
};

TEST_F(FileBytesTest, ReadsPlainAndGzipFilesToTheSameBytes) {
  std::string bytes(300000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919) % 251);
  write_text("data.bin", bytes);
  gzFile gz = gzopen((dir_ / "data.bin.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(gz);
  const std::vector<uint8_t> expected(bytes.begin(), bytes.end());
  EXPECT_EQ(read_file_bytes(dir_ / "data.bin", "an idx file"), expected);
  EXPECT_EQ(read_file_bytes(dir_ / "data.bin.gz", "an idx file"), expected);
}

TEST_F(FileBytesTest, NamesTheFileAndTheProblem) {
  EXPECT_EQ(message_of(dir_ / "missing.idx"), (dir_ / "missing.idx").string() + ": file not found");
  EXPECT_EQ(message_of(dir_), dir_.string() + ": is a directory, expected an idx file");
  write_text("plain.gz", "not compressed");
  EXPECT_EQ(message_of(dir_ / "plain.gz"),
            (dir_ / "plain.gz").string() + ": name ends in .gz but the file is not gzip-compressed");
  // A gzip stream cut in the middle.
  gzFile gz = gzopen((dir_ / "cut.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  const std::string text(100000, 'x');
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  const auto size = fs::file_size(dir_ / "cut.gz");
  fs::resize_file(dir_ / "cut.gz", size / 2);
  EXPECT_NE(message_of(dir_ / "cut.gz").find((dir_ / "cut.gz").string() + ": corrupt gzip data: "), std::string::npos)
      << message_of(dir_ / "cut.gz");
}

TEST_F(FileBytesTest, AtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  const fs::path path = dir_ / "plan.json";
  write_file_atomically(path, "old\n");
  write_file_atomically(path, "new\n");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "new\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
  // A folder in the way of the file: a failure naming the path, the folder left as it was, no temporary.
  fs::create_directories(dir_ / "in_the_way" / "child");
  try {
    write_file_atomically(dir_ / "in_the_way", "x");
    FAIL() << "wrote over a folder";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::failure);
    EXPECT_EQ(std::string(e.what()).rfind((dir_ / "in_the_way").string() + ": cannot rename ", 0), 0u) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(dir_ / "in_the_way" / "child"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

// Read-only folders and files (which root may write anyway) are checked as another user by
// tests/integration/results_db_test.sh; here, what does not depend on the user.
TEST_F(FileBytesTest, WritabilityIsDecidedByTheNearestExistingFolder) {
  write_text("a_file", "x");
  EXPECT_TRUE(can_create_in(dir_));
  EXPECT_FALSE(can_create_in(dir_ / "missing"));
  EXPECT_FALSE(can_create_in(dir_ / "a_file"));  // a file, not a folder
  EXPECT_TRUE(can_write_file(dir_ / "a_file"));
  EXPECT_TRUE(can_write_file(dir_ / "new.txt"));
  EXPECT_TRUE(can_write_file(dir_ / "new" / "folders" / "below.txt"));  // created on writing
  EXPECT_FALSE(can_write_file(dir_ / "a_file" / "below.txt"));          // nothing can be created below a file
}

}  // namespace
}  // namespace nas
