#include "common/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/error.h"

extern char** environ;

namespace nas {

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// posix_spawn's file actions, released on every way out.
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

std::string read_all(int fd) {
  std::string out;
  std::array<char, 4096> buffer;
  ssize_t n;
  while ((n = read(fd, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buffer.data(), static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

std::filesystem::path this_executable() { return std::filesystem::read_symlink("/proc/self/exe"); }

pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa.actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa.actions, 1, 2);
  // Its own process group: Ctrl-C in the terminal reaches only the sweep, which passes one SIGTERM on (a second
  // signal would make the job exit without recording how it ended).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  auto args = c_argv(argv);
  const int rc = posix_spawnp(&pid, args[0], &fa.actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(argv[0], std::string("cannot start: ") + std::strerror(rc), Error::Kind::failure);
  return pid;
}

Captured run_captured(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) throw Error(argv[0], "cannot create a pipe", Error::Kind::failure);
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw Error(argv[0], "cannot create a pipe", Error::Kind::failure);
  }
  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa.actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa.actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&fa.actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&fa.actions, err_pipe[0]);
  pid_t pid = 0;
  auto args = c_argv(argv);
  const int rc = posix_spawnp(&pid, args[0], &fa.actions, nullptr, args.data(), environ);
  close(out_pipe[1]);
  close(err_pipe[1]);
  Captured result;
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.exit_code = rc == ENOENT ? 127 : 126;
    result.err = std::strerror(rc);
    return result;
  }
  // The outputs of sbatch and squeue are small; reading one pipe to the end before the other cannot dead-lock
  // unless the other fills its 64 KiB pipe buffer first, which these commands' stderr never does.
  result.out = read_all(out_pipe[0]);
  result.err = read_all(err_pipe[0]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace nas
