// Which process a record belongs to, so a later process can tell whether it still runs. A pid alone is not
// enough: after a reboot or a long time pids are reused, and a run killed with SIGKILL leaves its record saying
// "running" forever. The identity adds the host and the process's start (boot id + start time in clock ticks since
// boot, proc(5) /proc/PID/stat field 22), which no other process on that host shares.
#pragma once

#include <cstdint>
#include <string>

namespace nas::results {

struct ProcessIdentity {
  int64_t pid = 0;
  std::string host;
  std::string start;  // "<boot id>/<start ticks>"; "" where /proc cannot tell (then only the pid is checked)
};

ProcessIdentity this_process();

// The start string of process `pid` on this host now, "" if there is no such process.
std::string process_start(int64_t pid);

// True only when the process is known to have ended: it ran on this host and its pid is gone, is a zombie (killed,
// not yet reaped by its parent), or now names a process that started at another time (pid reused, or the host
// rebooted). A process on another host is never
// called gone: from here nothing can be known about it.
bool process_gone(const ProcessIdentity& process);

}  // namespace nas::results
