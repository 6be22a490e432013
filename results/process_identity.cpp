#include "results/process_identity.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/subprocess.h"

namespace nas::results {

namespace {

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

// Field 22 of /proc/PID/stat (starttime). The second field, the command name in parentheses, may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
std::string start_ticks(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return "";
  const auto close = line.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  for (int index = 3; index <= 22; ++index)  // the first field after ')' is field 3 (state)
    if (!(fields >> field)) return "";
  return field;
}

// Field 3 of /proc/PID/stat: 'Z' (zombie) or 'X' (dead) for a process that has ended but whose parent has not
// reaped it yet — a search killed under a shell script that has not waited for it.
bool ended_unreaped(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  return (fields >> state) && (state == "Z" || state == "X");
}

}  // namespace

std::string process_start(int64_t pid) {
  const std::string ticks = start_ticks(pid);
  const std::string boot = boot_id();
  return ticks.empty() || boot.empty() ? "" : boot + "/" + ticks;
}

ProcessIdentity this_process() {
  const int64_t pid = getpid();
  return {pid, host_name(), process_start(pid)};
}

bool process_gone(const ProcessIdentity& process) {
  if (process.pid <= 0 || process.host.empty() || process.host != host_name()) return false;
  if (kill(static_cast<pid_t>(process.pid), 0) != 0 && errno == ESRCH) return true;
  if (ended_unreaped(process.pid)) return true;
  // The pid exists: it is the same process only if it started at the recorded moment of the same boot.
  return !process.start.empty() && process_start(process.pid) != process.start;
}

}  // namespace nas::results
