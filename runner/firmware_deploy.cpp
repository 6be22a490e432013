#include "runner/firmware_deploy.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_bytes.h"
#include "common/subprocess.h"
#include "cost_models/costs.h"
#include "cost_models/memory_planner.h"
#include "deploy/codegen.h"
#include "deploy/int8_executor.h"
#include "runner/firmware_tools.h"

namespace nas::runner {

namespace fs = std::filesystem;

namespace {

// The console's last line, for a one-line message about a firmware that stopped early.
std::string console_end(const std::string& console) {
  const size_t end = console.find_last_not_of("\r\n");
  if (end == std::string::npos) return "it printed nothing";
  const size_t newline = console.find_last_of('\n', end);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  std::string last = console.substr(begin, end + 1 - begin);
  if (last.size() > 200) last = last.substr(0, 200) + "...";
  return "its console ended with: '" + last + "'";
}

// The staging folder: removed with everything in it unless publish() moved its contents into --out.
class Staging {
 public:
  explicit Staging(const fs::path& out) : out_(out), dir_(out / fmt::format(".nas-deploy-partial-{}", getpid())) {
    deploy::make_output_dir(out);  // names --out itself when it cannot be made
    deploy::make_output_dir(dir_);
  }
  ~Staging() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  const fs::path& dir() const { return dir_; }

  // Moves every top-level entry into --out, replacing what an earlier deploy left under the same names.
  void publish() {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const fs::path target = out_ / entry.path().filename();
      std::error_code ec;
      fs::remove_all(target, ec);
      fs::rename(entry.path(), target);
    }
  }

 private:
  fs::path out_, dir_;
};

results::DeploymentRecord base_record(const Int8Deployment& d, const cost_models::Target& target,
                                      const cost_models::Costs<double>& estimate, const std::string& kind,
                                      const std::string& machine, const deploy::ImageSize& size, const fs::path& out) {
  results::DeploymentRecord r;
  r.run_id = d.stored.run.id;
  r.target = target.name;
  r.kind = kind;
  r.machine = machine;
  r.core = target.core;
  r.flash_bytes = size.flash();
  r.ram_bytes = size.ram();
  r.estimated_flash_bytes = static_cast<int64_t>(std::llround(estimate.model_flash_bytes));
  r.estimated_ram_bytes = static_cast<int64_t>(std::llround(estimate.arena_bytes));
  r.out_dir = fs::absolute(out).lexically_normal().string();
  return r;
}

// The first `count` test images, quantised, with the host executor's outputs and the labels.
struct CheckImages {
  std::vector<std::vector<int8_t>> inputs, expected;
  std::vector<int32_t> labels;
};
CheckImages check_images(const Int8Deployment& d, int32_t count) {
  deploy::Int8Executor executor(d.model);
  CheckImages c;
  for (int32_t i = 0; i < count; ++i) {
    auto run = deploy::run_on_host(executor, d.stored.data.test, i);
    c.inputs.push_back(std::move(run.input));
    c.expected.push_back(std::move(run.output));
    c.labels.push_back(run.label);
  }
  return c;
}

// The board image: sample.h, memory.ld from the target's layout, the .elf and its .hex and .bin.
results::DeploymentRecord build_board_image(const Int8Deployment& d, const cost_models::Target& target,
                                            const cost_models::Costs<double>& estimate, const fs::path& root,
                                            const fs::path& out, std::vector<std::string>& files) {
  const fs::path board = "board";
  const auto sample = check_images(d, 1);
  write(root / board / "sample.h", deploy::sample_header(sample.inputs[0], sample.labels[0]));
  write(root / board / "memory.ld", deploy::memory_script(*target.image));
  const deploy::FirmwareSources sources =
      deploy::firmware_sources("firmware/board_main.c", board, board / "memory.ld", {"MCUNAS_BOARD"});
  const fs::path elf = board / (target.name + ".elf");
  const std::vector<std::vector<std::string>> images = {
      {"arm-none-eabi-objcopy", "-O", "ihex", elf.string(), (board / (target.name + ".hex")).string()},
      {"arm-none-eabi-objcopy", "-O", "binary", elf.string(), (board / (target.name + ".bin")).string()}};
  const auto size = build_image(root, target.core, sources, elf, images, target.name + " image");
  for (const char* ext : {".elf", ".hex", ".bin"}) files.push_back("board/" + target.name + ext);
  files.push_back("board/build.sh");
  return base_record(d, target, estimate, "board", target.name, size, out / "board");
}

// The check firmware: N test images and the host's outputs, run in QEMU, compared byte for byte, counted per layer.
results::DeploymentRecord run_check(const Int8Deployment& d, const cost_models::Target& target,
                                    const cost_models::OpGraph<double>& graph,
                                    const cost_models::Costs<double>& estimate, const fs::path& root,
                                    const FirmwareDeployOptions& options,
                                    const std::function<void(const std::string&)>& step, FirmwareDeployment& result) {
  const int32_t images = std::min(options.images, d.stored.data.test.count);
  step(fmt::format("building the check firmware for QEMU {} with {} test images", target.qemu_machine, images));
  const fs::path qemu = "qemu";
  const auto check = check_images(d, images);
  write(root / qemu / "check_data.h", deploy::check_data_header(check.inputs, check.expected, check.labels));
  const deploy::FirmwareSources sources =
      deploy::firmware_sources("firmware/check_main.c", qemu, "firmware/mps2.ld");
  const fs::path elf = qemu / (target.name + "-check.elf");
  const auto size = build_image(root, target.core, sources, elf, {}, "check firmware");
  // The same firmware with a stub in place of the model: the difference is the model's flash.
  auto stub = sources;
  stub.stub_model = true;
  const auto without_model =
      build_image(root, target.core, stub, qemu / "stub" / "without-model.elf", {}, "check firmware");
  step(fmt::format("running {} inferences in qemu-system-arm -M {}", images, target.qemu_machine));
  const QemuRun run = run_in_qemu(root, target.qemu_machine, elf, qemu);
  if (run.console.find("differing images:") == std::string::npos)
    throw Error("QEMU check", "the firmware stopped before the end; " + console_end(run.console),
                Error::Kind::failure);
  int32_t differing = 0;
  for (size_t at = run.console.find("DIFFERS"); at != std::string::npos; at = run.console.find("DIFFERS", at + 1))
    ++differing;
  const auto measured = deploy::parse_icount(run.counts, static_cast<int32_t>(d.model.ops.size()), images);

  results::DeploymentRecord r =
      base_record(d, target, estimate, "qemu", target.qemu_machine, size, options.out / "qemu");
  r.images = images;
  r.differing_images = differing;
  r.model_flash_bytes = size.flash() - without_model.flash();
  const auto live = cost_models::liveness(graph);
  double total = 0, cycles = 0;
  for (size_t j = 0; j < d.model.ops.size(); ++j) {
    double sum = 0;
    for (const auto& image : measured.per_layer) sum += static_cast<double>(image[j]);
    const auto& op = graph.ops[j];
    const double estimated = cost_models::op_cycles(op, target);
    r.layers.push_back({static_cast<int32_t>(j), d.model.ops[j].name, std::string(cost_models::name_of(op.path)),
                        static_cast<int64_t>(std::llround(op.macs)), sum / images, estimated,
                        deploy::parameter_bytes(d.model.ops[j]), static_cast<int64_t>(live.live_bytes[j])});
    total += sum / images;
    cycles += estimated;
  }
  for (size_t j = 0; j < d.model.ops.size() && !measured.per_layer_mix.empty(); ++j) {
    cost_models::InstructionMix mean;
    for (const auto& image : measured.per_layer_mix) mean += image[j];
    result.qemu_layer_mix.push_back(mean * (1.0 / images));
  }
  r.instructions_per_inference = total;
  r.estimated_cycles_per_inference = cycles;
  r.cycles_per_instruction = target.cycles_per_instruction;
  r.measured_latency_s = total * target.cycles_per_instruction / target.clock_hz;
  r.estimated_latency_s = cycles / target.clock_hz;
  r.measured_energy_j = *r.measured_latency_s * target.active_power_w;
  r.estimated_energy_j = *r.estimated_latency_s * target.active_power_w;
  if (const size_t at = run.console.find("stack bytes: "); at != std::string::npos)
    r.stack_bytes = std::stoll(run.console.substr(at + 13));
  for (const char* f : {"-check.elf", "console.txt", "instructions.txt", "build.sh", "run.sh"})
    result.files.push_back(std::string("qemu/") + (f[0] == '-' ? target.name + f : f));
  return r;
}

}  // namespace

void check_firmware_tools(const cost_models::Target& target, const FirmwareDeployOptions& options) {
  if ((!target.image || !options.board) && !options.run_qemu)
    throw Error("--target", "target " + target.name + " has no image: layout in " + target.source_path +
                                ", so mcunas cannot link a board image for it; add --run-qemu to check it on its "
                                "QEMU stand-in (" + target.qemu_machine + ")");
  (void)deploy::core_flags(target.core);
  if (options.images < 1) throw Error("--images", "must be at least 1");
  check_firmware_toolchain(options.run_qemu);
}

FirmwareDeployment deploy_firmware(const Int8Deployment& d, const cost_models::Target& target,
                                   const FirmwareDeployOptions& options,
                                   const std::function<void(const std::string&)>& step) {
  const auto graph = deploy::op_graph(d.model);
  const auto estimate = cost_models::estimate(graph, target);
  Staging staging(options.out);
  const fs::path root = staging.dir();
  FirmwareDeployment result;
  deploy::write_c_files(deploy::generate_c(d.model, d.plan, options.origin), root / "model");
  copy_firmware_sources(root / "firmware");
  result.files = {"model/", "firmware/"};
  if (target.image && options.board) {
    step(fmt::format("building the {} image with arm-none-eabi-gcc", target.name));
    result.board = build_board_image(d, target, estimate, root, options.out, result.files);
  }
  if (options.run_qemu) result.qemu = run_check(d, target, graph, estimate, root, options, step, result);
  staging.publish();
  return result;
}

}  // namespace nas::runner
