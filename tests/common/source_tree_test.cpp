// Where nas reads kernels, firmware and targets from: the tree it was built from, or $MCUNAS_SOURCE_DIR's.
#include "common/source_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/common/test_support.h"

namespace nas {
namespace {

namespace fs = std::filesystem;
using test_support::contains;
using test_support::error_of;

class SourceTreeTest : public test_support::TempDirTest {
 protected:
  void TearDown() override {
    unsetenv("MCUNAS_SOURCE_DIR");
    TempDirTest::TearDown();
  }
};

TEST_F(SourceTreeTest, IsTheBuiltTreeUnlessTheVariableNamesAnother) {
  unsetenv("MCUNAS_SOURCE_DIR");
  EXPECT_EQ(fs::weakly_canonical(source_tree()), fs::weakly_canonical(MCUNAS_SOURCE_DIR));
  setenv("MCUNAS_SOURCE_DIR", "", 1);  // empty counts as unset, as for MCUNAS_TARGETS_DIR
  EXPECT_EQ(fs::weakly_canonical(source_tree()), fs::weakly_canonical(MCUNAS_SOURCE_DIR));

  fs::create_directories(dir_ / "deploy" / "kernels");
  setenv("MCUNAS_SOURCE_DIR", dir_.c_str(), 1);
  EXPECT_EQ(source_tree(), dir_);
}

TEST_F(SourceTreeTest, AFolderWithoutKernelsIsRefusedByName) {
  setenv("MCUNAS_SOURCE_DIR", dir_.c_str(), 1);
  const std::string message = error_of([] { source_tree(); });
  EXPECT_TRUE(contains(message, "MCUNAS_SOURCE_DIR")) << message;
  EXPECT_TRUE(contains(message, dir_.string())) << message;
  EXPECT_TRUE(contains(message, "no deploy/kernels")) << message;
}

}  // namespace
}  // namespace nas
