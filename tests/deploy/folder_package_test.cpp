// A folder and its zip (deploy/folder_package.h): both hold exactly the given files, the zip under <name>/ with
// every directory; an export replaces an earlier one; a failure leaves neither a half folder nor temporaries and
// puts an earlier folder back; a bad output directory is bad input naming its path.
#include "deploy/folder_package.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "deploy/codegen.h"
#include "tests/common/test_support.h"
#include "tests/deploy/zip_reading.h"

namespace nas::deploy {
namespace {

namespace fs = std::filesystem;
using test_support::contains;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::vector<PackageFile> kFiles = {
    {"examples/Net/Net.ino", "void setup() {}\nvoid loop() {}\n"},
    {"library.properties", "name=Net\n"},
    {"src/Net.h", "#include \"model.h\"\n"},
    {"src/model.c", std::string(5000, 'x')},
};

// Every file and directory under `dir`, relative, directories with a trailing '/'.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    names.insert(fs::relative(entry.path(), dir).generic_string() + (entry.is_directory() ? "/" : ""));
  return names;
}

class FolderPackage : public test_support::TempDirTest {};

TEST_F(FolderPackage, WritesTheFolderAndAZipOfItUnderItsName) {
  const fs::path out = dir_ / "lib";
  const auto written = write_folder_and_zip(kFiles, "Net", out);
  EXPECT_EQ(written, (std::vector<std::string>{"Net/examples/Net/Net.ino", "Net/library.properties", "Net/src/Net.h",
                                               "Net/src/model.c", "Net.zip"}));
  EXPECT_EQ(tree(out), (std::set<std::string>{"Net/", "Net/examples/", "Net/examples/Net/", "Net/examples/Net/Net.ino",
                                              "Net/library.properties", "Net/src/", "Net/src/Net.h",
                                              "Net/src/model.c", "Net.zip"}));  // no temporaries left
  for (const auto& file : kFiles) EXPECT_EQ(read_text(out / "Net" / file.path), file.text) << file.path;

  const auto items = testing::read_zip(read_text(out / "Net.zip"));
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Net/", "Net/examples/", "Net/examples/Net/", "Net/examples/Net/Net.ino",
                                             "Net/library.properties", "Net/src/", "Net/src/Net.h",
                                             "Net/src/model.c"}));
  for (const auto& file : kFiles) {
    bool found = false;
    for (const auto& item : items) found |= item.name == "Net/" + file.path && item.contents == file.text;
    EXPECT_TRUE(found) << file.path << " is not in the zip with its contents";
  }
}

TEST_F(FolderPackage, ReplacesAnEarlierExport) {
  const fs::path out = dir_ / "lib";
  write_folder_and_zip({{"src/old.c", "old"}, {"library.properties", "name=Net\n"}}, "Net", out);
  write_folder_and_zip(kFiles, "Net", out);
  EXPECT_FALSE(fs::exists(out / "Net" / "src" / "old.c"));  // a stale file would be compiled by Arduino
  EXPECT_EQ(read_text(out / "Net" / "src" / "model.c"), kFiles[3].text);
  EXPECT_EQ(testing::read_zip(read_text(out / "Net.zip")).size(), 8u);
  EXPECT_EQ(std::set<std::string>({"Net", "Net.zip"}), [&] {
    std::set<std::string> top;
    for (const auto& entry : fs::directory_iterator(out)) top.insert(entry.path().filename().string());
    return top;
  }());
}

// A directory where the zip should go makes the last rename fail (for root too): the new folder must go again and the
// earlier export come back as it was, so nothing half-new looks finished.
TEST_F(FolderPackage, FailureLeavesTheEarlierExportAndNoTemporaries) {
  const fs::path out = dir_ / "lib";
  write_folder_and_zip({{"library.properties", "name=Net\n"}}, "Net", out);
  fs::remove(out / "Net.zip");
  fs::create_directories(out / "Net.zip" / "occupied");
  try {
    write_folder_and_zip(kFiles, "Net", out);
    FAIL() << "no error with a directory in the way of the zip";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
    EXPECT_EQ(std::string(e.what()), (out / "Net.zip").string() + ": cannot write it (moving .Net.zip.partial there "
                                                                "failed: Is a directory); pass --out a writable directory");
  }
  EXPECT_EQ(tree(out), (std::set<std::string>{"Net/", "Net/library.properties", "Net.zip/", "Net.zip/occupied/"}));
  EXPECT_EQ(read_text(out / "Net" / "library.properties"), "name=Net\n");
}

TEST_F(FolderPackage, FailureWithoutAnEarlierExportLeavesNoFolder) {
  const fs::path out = dir_ / "lib";
  fs::create_directories(out / "Net.zip" / "occupied");
  EXPECT_NE(test_support::error_of([&] { write_folder_and_zip(kFiles, "Net", out); }), "");
  EXPECT_EQ(tree(out), (std::set<std::string>{"Net.zip/", "Net.zip/occupied/"}));
}

// A parent that is a regular file cannot become a directory, whoever runs the test (root included).
TEST_F(FolderPackage, OutputUnderARegularFileIsBadInputNamingThePath) {
  const fs::path out = write_text("plain", "x") / "lib";
  for (const auto& call : {std::function<void()>([&] { make_output_dir(out); }),
                           std::function<void()>([&] { write_folder_and_zip(kFiles, "Net", out); })}) {
    try {
      call();
      ADD_FAILURE() << "no error for " << out;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::bad_input);
      EXPECT_TRUE(contains(e.what(), out.string())) << e.what();
    }
  }
}

}  // namespace
}  // namespace nas::deploy
