// The `nas` commands that fill and read Pareto fronts (sweep, sweep-job, merge, pareto) and that lower a run to
// int8 (eval, export), each a thin function over the libraries; main.cpp parses the arguments and calls them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/calibration.h"
#include "results/pareto.h"
#include "runner/firmware_deploy.h"
#include "runner/int8_deployment.h"
#include "search/finetune_driver.h"
#include "search/progress.h"
#include "search/teacher.h"
#include "sweep/sweep_plan.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace nas::cli {

struct SweepArgs {
  sweep::SweepSpec spec;
  std::string targets, max_ram, max_flash, max_latency, max_energy, max_macs, max_params;  // comma lists as typed
  int32_t jobs = 1;                        // local: processes at once; slurm: array tasks at once (0: no limit)
  std::string dir;                         // "" : <directory of --db>/sweeps/<name>
  std::vector<std::string> sbatch_args;
  bool wait = false;                       // slurm: follow the new sweep until it ends
  std::string status, follow, resume;      // --status NAME, --wait NAME, --resume NAME
};

int command_sweep(SweepArgs args, const std::string& db_path, bool json, const std::string& command_line);
int command_sweep_job(const std::string& dir, std::optional<int32_t> index);
int command_merge(const std::vector<std::string>& shards, const std::string& sweep, const std::string& db_path,
                  bool json);
int command_pareto(const results::ParetoQuery& query, const std::string& plot, bool all, const std::string& db_path,
                   bool json);

struct DeployArgs {
  int64_t run_id = 0;
  deploy::CalibrationSpec calibration;
  int32_t threads = 2;
  bool int8 = false;        // eval: also the int8 network
  std::string format = "c"; // export: c or arduino
  std::string name;         // export --format arduino: the library name ("": mcunas_run<RUN>)
  std::string out;          // export, deploy: directory
  std::string target;       // deploy: board (target YAML name or path)
  bool run_qemu = false;    // deploy: also check the network in QEMU
  int32_t images = 20;      // deploy --run-qemu: test images compared with the host
};

// The run's int8 network, with the cheap refusals first: the calibration options, the run itself, then whatever
// `ready` checks (export, deploy: tools and the output directory), before the seconds of calibration the progress
// line announces. A `nas import` run's model is read back as it was imported (no calibration).
runner::Int8Deployment int8_run(const results::ResultsDb& db, const DeployArgs& args, search::Progress& progress,
                                const std::function<void()>& ready = {});

int command_eval(const DeployArgs& args, const std::string& db_path, bool json);
int command_export(const DeployArgs& args, const std::string& db_path, bool json);
// What nas deploy and nas profile share: the target, the run quantised (tools and --out checked first), the
// firmware built and, with options.run_qemu, checked in QEMU. The records are not stored yet.
struct FirmwareCommand {
  FirmwareCommand(const DeployArgs& args, const std::string& db_path, bool json,
                  runner::FirmwareDeployOptions options);
  results::ResultsDb db;
  cost_models::Target target;
  std::unique_ptr<runner::Int8Deployment> d;
  runner::FirmwareDeployment result;
};

int command_deploy(const DeployArgs& args, const std::string& db_path, bool json);
// nas profile RUN --target T [--images N] [--out DIR]: per layer, estimate against QEMU.
int command_profile(const DeployArgs& args, const std::string& db_path, bool json);
// nas import FILE.tflite | FILE.onnx --as-seed [--name N] [--data DATASET|CONFIG]: the model checked against its
// data and stored as a run of kind "import" (results/imported_models.h); nothing is stored when anything is wrong.
struct ImportArgs {
  std::string file, name, data;
  bool as_seed = false;  // a float ONNX model, stored as a seed network to search from
};
int command_import(const ImportArgs& args, const std::string& db_path, bool json, const std::string& command_line);

// nas calibrate --target T [--out FILE]
int command_calibrate(const std::string& target, const std::string& out, bool json);

// --teacher, --alpha, --temperature (and nas search's --teacher-in-search) as typed; spec() is the distillation
// they ask for, none without --teacher (and refuses the others without it).
struct TeacherArgs {
  std::optional<int64_t> run;
  supernet::DistillationSettings settings;
  bool in_search = false;
  std::vector<CLI::Option*> needs_teacher;  // options that mean nothing without --teacher

  std::optional<search::TeacherSpec> spec() const;
};
void add_teacher_options(CLI::App* sub, TeacherArgs& args);

// nas finetune RUN [--teacher T ...] [--seed S] [--epochs N], or with resume_run > 0 `nas finetune --resume RUN`
// (`request` then only carries the command line).
int command_finetune(search::FinetuneRequest request, const std::string& db_path, bool json, int64_t resume_run);

// Reading commands must not create a database where there was none.
void require_existing(const std::string& db_path);

}  // namespace nas::cli
