#include "sweep/sweep_slurm.h"

#include <sys/stat.h>

#include <fmt/core.h>

#include <sstream>

#include "common/error.h"
#include "common/subprocess.h"

namespace nas::sweep {

namespace {

// A word for /bin/sh, quoted so that nothing in it is expanded.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

// The array task's script: runs the job, and when the job dies without recording how it ended (a crash, a kill by
// the out-of-memory killer), records that it failed, so that nas sweep --status can say so.
std::string slurm_job_script(const SweepRecord& sweep, const std::string& nas_binary) {
  const std::string dir = quoted(sweep.dir.string());
  return fmt::format(
      "#!/bin/sh\n"
      "# Written by nas sweep for sweep {0}: runs job $SLURM_ARRAY_TASK_ID of {1}/sweep.json into its own shard.\n"
      "k=\"$SLURM_ARRAY_TASK_ID\"\n"
      "{2} sweep-job {1} \"$k\"\n"
      "rc=$?\n"
      "if [ ! -e {1}/job-\"$k\".json ]; then\n"
      "  printf '{{\"state\":\"failed\",\"exit_code\":%d,\"error\":\"the job exited with status %d without recording "
      "a result (see %s)\"}}\\n' \"$rc\" \"$rc\" {1}/job-\"$k\".log > {1}/job-\"$k\".json.tmp\n"
      "  mv {1}/job-\"$k\".json.tmp {1}/job-\"$k\".json\n"
      "fi\n"
      "exit \"$rc\"\n",
      sweep.name, dir, quoted(nas_binary));
}

namespace {

[[noreturn]] void no_slurm(const std::string& command) {
  throw Error("--executor slurm", command + " not found in PATH (install Slurm's client tools, start a test cluster "
                                            "with scripts/slurm_cluster.sh, or use --executor local)");
}

}  // namespace

std::string submit_to_slurm(const SweepRecord& sweep, const SweepPlan& plan, const SlurmOptions& options) {
  const auto script = sweep.dir / "job.sh";
  write_file_atomically(script, slurm_job_script(sweep, this_executable().string()));
  chmod(script.c_str(), 0755);
  std::string array = fmt::format("--array=0-{}", plan.jobs.size() - 1);
  if (options.parallel > 0) array += fmt::format("%{}", options.parallel);
  std::vector<std::string> argv = {"sbatch",
                                   "--parsable",
                                   "--job-name=nas-" + sweep.name,
                                   array,
                                   "--output=" + (sweep.dir / "job-%a.log").string(),
                                   "--chdir=" + sweep.dir.string(),
                                   fmt::format("--cpus-per-task={}", options.cpus_per_task),
                                   // A pre-empted task is requeued and its job resumes from its checkpoint
                                   // (sweep_job.cpp); its log is appended to, not truncated.
                                   "--requeue",
                                   "--open-mode=append"};
  argv.insert(argv.end(), options.sbatch_args.begin(), options.sbatch_args.end());
  argv.push_back(script.string());
  const Captured sbatch = run_captured(argv);
  if (sbatch.exit_code == 127) no_slurm("sbatch");
  std::string first_line = sbatch.err.substr(0, sbatch.err.find('\n'));
  if (sbatch.exit_code != 0)
    throw Error("sbatch", fmt::format("refused the sweep's job array (exit {}): {}", sbatch.exit_code, first_line));
  // --parsable prints "jobid" or "jobid;cluster".
  std::string id = sbatch.out.substr(0, sbatch.out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error("sbatch", "printed no job id (got '" + sbatch.out.substr(0, sbatch.out.find('\n')) +
                              "'; with --parsable it prints the id alone)", Error::Kind::failure);
  return id;
}

std::set<int32_t> slurm_queue(const std::string& job_id) {
  const Captured squeue = run_captured({"squeue", "-h", "-r", "-j", job_id, "-o", "%i"});
  if (squeue.exit_code == 127) no_slurm("squeue");
  if (squeue.exit_code != 0) {
    // A job that has left the queue for good is an "invalid job id" to squeue.
    if (squeue.err.find("Invalid job id") != std::string::npos) return {};
    throw Error("squeue", fmt::format("failed (exit {}): {}", squeue.exit_code,
                                      squeue.err.substr(0, squeue.err.find('\n'))),
                Error::Kind::failure);
  }
  return parse_squeue_tasks(squeue.out);
}

std::set<int32_t> parse_squeue_tasks(const std::string& output) {
  std::set<int32_t> tasks;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto underscore = line.find('_');
    if (underscore == std::string::npos) continue;  // a job that is no array
    std::string rest = line.substr(underscore + 1);
    if (!rest.empty() && rest.front() == '[') {
      rest = rest.substr(1, rest.find_first_of("]%") - 1);
      std::istringstream ranges(rest);
      std::string range;
      while (std::getline(ranges, range, ',')) {
        const auto dash = range.find('-');
        const int32_t first = std::stoi(range.substr(0, dash));
        const int32_t last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
        for (int32_t k = first; k <= last; ++k) tasks.insert(k);
      }
    } else {
      tasks.insert(std::stoi(rest));
    }
  }
  return tasks;
}

}  // namespace nas::sweep
