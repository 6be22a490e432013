#include "search/latency_calibration.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "deploy/codegen.h"
#include "deploy/kernel_benchmark.h"
#include "search/firmware_tools.h"
#include "supernet/error.h"

namespace nas::search {

namespace fs = std::filesystem;

namespace {

// The commit of the source tree whose kernels were counted, "+dirty" when it has uncommitted changes.
std::string source_commit() {
  const fs::path root = deploy::kernels_source_dir().parent_path().parent_path();
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

// A scratch folder removed on every way out.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mcunas-calibrate.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error("nas calibrate", "cannot create a temporary folder", Error::Kind::failure);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

CalibrationOutcome calibrate_target(const cost_models::Target& target, const fs::path& out,
                                    const std::function<void(const std::string&)>& step) {
  (void)deploy::core_flags(target.core);
  check_firmware_toolchain(/*qemu=*/true);
  const fs::path file = fs::absolute(out.empty() ? cost_models::calibration_path(target.source_path) : out);
  const TempDir work;
  const fs::path root = work.path;
  copy_firmware_sources(root / "firmware");
  for (const auto& kernel : deploy::kernel_sources()) write(root / "model" / "kernels" / kernel.name, kernel.text);
  const auto cases = deploy::benchmark_grid();
  write(root / "bench" / "benchmark_cases.h", deploy::benchmark_header(cases));

  step(fmt::format("building {} kernel calls for {} ({})", cases.size(), target.name, target.core));
  deploy::FirmwareSources sources{"firmware", "model", "firmware/benchmark_main.c", "bench", "firmware/mps2.ld", {}};
  sources.with_model = false;
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
  try {
    write(file, cost_models::calibration_yaml(c));
  } catch (const Error&) {
    throw Error(file.string(), "cannot write the calibration there; pass --out a writable file");
  }
  outcome.written = file;
  return outcome;
}

}  // namespace nas::search
