// Starting other programs without a shell (arguments are passed as they are, nothing is re-parsed): the sweep's
// local jobs (this binary, `nas sweep-job`) and Slurm's client commands (sbatch, squeue).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nas {

// This machine's name (gethostname): where a local job runs, so a sweep can tell whether it may look at its pid.
std::string host_name();

// The running nas binary (/proc/self/exe), so jobs run the same build as the sweep that starts them.
std::filesystem::path this_executable();

// Starts argv[0] (searched in PATH when it has no slash) with stdout and stderr appended to `log` and stdin from
// /dev/null, in a process group of its own; returns its pid. Throws nas::Error when it cannot be started.
pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& log);

struct Captured {
  int exit_code = 0;                       // 127 when the program is not found
  std::string out, err;
};
// Runs argv to completion and returns its exit code and output.
Captured run_captured(const std::vector<std::string>& argv);

}  // namespace nas
