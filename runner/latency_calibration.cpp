#include "runner/latency_calibration.h"

#include <fmt/format.h>

#include <ctime>

#include "common/error.h"
#include "common/file_bytes.h"
#include "common/source_tree.h"
#include "cost_models/arena_plan.h"
#include "deploy/codegen.h"
#include "deploy/kernel_benchmark.h"
#include "runner/firmware_tools.h"

namespace nas::runner {

namespace fs = std::filesystem;

namespace {

// The commit of the source tree whose kernels were counted, "+dirty" when it has uncommitted changes.
std::string source_commit() {
  const fs::path root = source_tree();
  const auto head = run_captured({"git", "-C", root.string(), "rev-parse", "--short=12", "HEAD"});
  if (head.exit_code != 0 || head.out.empty()) return "unknown";
  std::string commit = head.out.substr(0, head.out.find('\n'));
  const auto status = run_captured({"git", "-C", root.string(), "status", "--porcelain", "--", "deploy/kernels"});
  if (status.exit_code == 0 && !status.out.empty()) commit += "+dirty";
  return commit;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

// Flash one generated layer adds beyond its parameters and the kernels: (model's share of a firmware image −
// parameters − kernel code) / layers, on deploy::layer_code_probe(). Also the linked size of the kernel families
// the probe uses, as a deployed network links them (`family`: updated where the probe has them).
int64_t per_layer_code_bytes(const fs::path& root, const std::string& core,
                             std::array<int64_t, cost_models::kKernelFamilyCount>& family) {
  const deploy::Int8Model model = deploy::layer_code_probe();
  const auto plan = cost_models::plan_arena(deploy::op_graph(model));
  deploy::write_c_files(deploy::generate_c(model, plan, "nas calibrate's layer-code probe"), root / "model");
  const std::vector<int8_t> sample(static_cast<size_t>(model.tensors[static_cast<size_t>(model.input)].bytes()), 0);
  write(root / "probe" / "sample.h", deploy::sample_header(sample, 0));
  auto sources = deploy::firmware_sources("firmware/board_main.c", "probe", "firmware/mps2.ld", {"MCUNAS_BOARD"});
  sources.link_map = "probe/model.map";
  const auto with_model = build_image(root, core, sources, "probe/model.elf", {}, "layer-code probe");
  sources.stub_model = true;
  sources.link_map.clear();
  const auto without = build_image(root, core, sources, "probe/stub.elf", {}, "layer-code probe");
  const auto linked = deploy::kernel_family_bytes(read_text(root / "probe" / "model.map"));
  int64_t share = with_model.flash() - without.flash(), parameters = 0;
  for (const auto& op : model.ops) parameters += deploy::parameter_bytes(op);
  for (size_t f = 0; f < linked.size(); ++f) {
    share -= linked[f];
    if (linked[f] > 0) family[f] = linked[f];
  }
  return std::max<int64_t>(0, (share - parameters) / static_cast<int64_t>(model.ops.size()));
}

}  // namespace

CalibrationOutcome calibrate_target(const cost_models::Target& target, const fs::path& out,
                                    const std::function<void(const std::string&)>& step) {
  (void)deploy::core_flags(target.core);
  const fs::path file = fs::absolute(out.empty() ? cost_models::calibration_path(target.source_path) : out);
  // Refused now, not after minutes of building and counting (missing folders are created; the file is replaced
  // through a temporary beside it).
  if (!can_write_file(file))
    throw Error(file.string(), "cannot write the calibration there; pass --out a writable file");
  check_firmware_toolchain(/*qemu=*/true);
  const TempFolder work("mcunas-calibrate");
  const fs::path root = work.path();
  copy_firmware_sources(root / "firmware");
  for (const auto& kernel : deploy::kernel_sources()) write(root / "model" / "kernels" / kernel.name, kernel.text);
  const auto cases = deploy::benchmark_grid();
  write(root / "bench" / "benchmark_cases.h", deploy::benchmark_source(cases));

  step(fmt::format("building {} kernel calls for {} ({})", cases.size(), target.name, target.core));
  auto sources = deploy::firmware_sources("firmware/benchmark_main.c", "bench", "firmware/mps2.ld");
  sources.with_model = false;
  sources.link_map = "bench/benchmark.map";
  const fs::path elf = fs::path("bench") / "benchmark.elf";
  build_image(root, target.core, sources, elf, {}, "calibration firmware");
  step(fmt::format("counting them in qemu-system-arm -M {}", target.qemu_machine));
  const QemuRun run = run_in_qemu(root, target.qemu_machine, elf, "bench");
  // One mark before each call and one after the last: "layers" of one "inference".
  const auto counts = deploy::parse_icount(run.counts, static_cast<int32_t>(cases.size()), 1).per_layer.at(0);

  CalibrationOutcome outcome;
  auto& c = outcome.calibration;
  c.target = target.name;
  c.core = target.core;
  c.qemu_machine = target.qemu_machine;
  c.commit = source_commit();
  c.date = today();
  outcome.calls = static_cast<int64_t>(cases.size());
  for (size_t p = 0; p < cost_models::kKernelPathCount; ++p) {
    std::vector<cost_models::FitSample> samples;
    for (size_t i = 0; i < cases.size(); ++i)
      if (static_cast<size_t>(cases[i].path) == p)
        samples.push_back({cost_models::latency_quantities(deploy::benchmark_work(cases[i])),
                           static_cast<double>(counts[i])});
    c.fit[p] = cost_models::fit_latency(samples);
    c.instructions[p] = c.fit[p].coefficients;
  }
  // Flash: every kernel family's linked size from the benchmark's map, then one layer's call from a small
  // generated network built twice, with the model and with a stub in its place.
  auto family = deploy::kernel_family_bytes(read_text(root / "bench" / "benchmark.map"));
  step("measuring the flash of one generated layer");
  c.per_layer_code_bytes = per_layer_code_bytes(root, target.core, family);
  for (size_t p = 0; p < cost_models::kKernelPathCount; ++p)
    c.code_bytes[p] = family[cost_models::family_of(static_cast<cost_models::KernelPath>(p))];
  try {
    write(file, cost_models::calibration_yaml(c));
  } catch (const Error&) {
    throw Error(file.string(), "cannot write the calibration there; pass --out a writable file");
  }
  outcome.written = file;
  return outcome;
}

}  // namespace nas::runner
