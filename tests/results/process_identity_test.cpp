#include "results/process_identity.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include "common/subprocess.h"

namespace nas::results {
namespace {

TEST(ProcessIdentity, ThisProcessIsAliveAndHasAStart) {
  const ProcessIdentity self = this_process();
  EXPECT_EQ(self.pid, getpid());
  EXPECT_EQ(self.host, host_name());
  ASSERT_FALSE(self.start.empty());  // Linux /proc
  EXPECT_NE(self.start.find('/'), std::string::npos);
  EXPECT_EQ(process_start(getpid()), self.start);  // stable over the process's life
  EXPECT_FALSE(process_gone(self));
}

TEST(ProcessIdentity, AnEndedProcessIsGone) {
  const pid_t child = fork();
  if (child == 0) {
    pause();  // until killed
    _exit(0);
  }
  ASSERT_GT(child, 0);
  const ProcessIdentity running{child, host_name(), process_start(child)};
  EXPECT_FALSE(running.start.empty());
  EXPECT_FALSE(process_gone(running));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(process_gone(running));
  EXPECT_EQ(process_start(child), "");
}

// Killed but not yet reaped (a zombie: its parent, here this test, has not waited for it): already gone, so its
// run can be resumed before the parent gets round to waiting.
TEST(ProcessIdentity, AKilledProcessNotYetReapedIsGone) {
  const pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  const ProcessIdentity running{child, host_name(), process_start(child)};
  kill(child, SIGKILL);
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT);  // dead, left unreaped
  EXPECT_TRUE(process_gone(running));
  waitpid(child, nullptr, 0);
}

TEST(ProcessIdentity, APidThatStartedAtAnotherTimeIsAnotherProcess) {
  ProcessIdentity reused = this_process();
  reused.start = "an-earlier-boot/42";
  EXPECT_TRUE(process_gone(reused));
}

TEST(ProcessIdentity, NothingIsKnownAboutAnotherHostOrAnUnrecordedProcess) {
  ProcessIdentity elsewhere = this_process();
  elsewhere.host = host_name() + "-not-this-one";
  elsewhere.start = "another/1";
  EXPECT_FALSE(process_gone(elsewhere));
  EXPECT_FALSE(process_gone(ProcessIdentity{}));  // pid 0, no host: a run recorded before version 7
}

}  // namespace
}  // namespace nas::results
