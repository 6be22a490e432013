// Starting other programs without a shell: captured runs, and background jobs whose start can fail.
#include "common/subprocess.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/error.h"
#include "tests/common/test_support.h"

namespace nas {
namespace {

class SubprocessTest : public test_support::TempDirTest {};

TEST_F(SubprocessTest, RunCapturedReturnsTheStatusAndBothStreamsWithoutAShell) {
  // The argument reaches the program as it is: no shell re-parses the quotes or the semicolon.
  const Captured c = run_captured({"sh", "-c", "echo \"$0\"; echo err >&2; exit 3", "a 'b'; c"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.out, "a 'b'; c\n");
  EXPECT_EQ(c.err, "err\n");
}

TEST_F(SubprocessTest, AMissingProgramIsStatus127) {
  EXPECT_EQ(run_captured({"mcunas-no-such-program", "--version"}).exit_code, 127);
}

TEST_F(SubprocessTest, ABackgroundJobWritesItsLogAndAJobThatCannotStartSaysWhy) {
  const pid_t pid = start_process({"sh", "-c", "echo out; echo err >&2"}, dir_ / "job.log");
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream log(dir_ / "job.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "out\nerr\n");
  // A log in a folder that does not exist: the job cannot start, and the error names the program and the reason.
  try {
    start_process({"sh", "-c", "true"}, dir_ / "missing" / "job.log");
    FAIL() << "start_process did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "sh: cannot start: No such file or directory");
    EXPECT_EQ(e.kind(), Error::Kind::failure);
  }
}

}  // namespace
}  // namespace nas
