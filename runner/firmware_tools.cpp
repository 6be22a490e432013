#include "runner/firmware_tools.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_bytes.h"

namespace nas::runner {

namespace fs = std::filesystem;

namespace {

constexpr const char* kToolchainPackages = "gcc-arm-none-eabi libnewlib-arm-none-eabi";

void require_program(const std::string& program, const std::string& package) {
  if (run_captured({program, "--version"}).exit_code == 127)
    throw Error(program, "not found: install it with apt-get install --no-install-recommends " + package +
                             " (scripts/setup.sh does)");
}

}  // namespace

TempFolder::TempFolder(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + ".XXXXXX")).string();
  if (!mkdtemp(pattern.data()))
    throw Error(prefix, "cannot create a temporary folder in " + fs::temp_directory_path().string(),
                Error::Kind::failure);
  path_ = pattern;
}

TempFolder::~TempFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Captured run_in(const fs::path& dir, const std::vector<std::string>& argv) {
  std::vector<std::string> shell = {"sh", "-c", "cd \"$0\" && exec \"$@\"", dir.string()};
  shell.insert(shell.end(), argv.begin(), argv.end());
  return run_captured(shell);
}

Captured run_tool(const fs::path& dir, const std::vector<std::string>& argv, const std::string& what) {
  Captured c = run_in(dir, argv);
  if (c.exit_code != 0) {
    std::string message = c.err.empty() ? c.out : c.err;
    if (message.size() > 600) message = "..." + message.substr(message.size() - 600);
    for (auto& ch : message)
      if (ch == '\n') ch = ' ';
    while (!message.empty() && message.back() == ' ') message.pop_back();
    throw Error(what, fmt::format("{} exited with status {}: {}", argv.front(), c.exit_code, message),
                Error::Kind::failure);
  }
  return c;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  write_file_atomically(path, text);
}

void copy_firmware_sources(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(deploy::firmware_source_dir())) {
    const auto ext = entry.path().extension();
    if (ext == ".c" && entry.path().filename() == "qemu_icount_plugin.c") continue;  // host code, not firmware
    if (ext == ".c" || ext == ".h" || ext == ".ld") write(to / entry.path().filename(), read_text(entry.path()));
  }
}

deploy::ImageSize build_image(const fs::path& root, const std::string& core, const deploy::FirmwareSources& sources,
                              const fs::path& elf, const std::vector<std::vector<std::string>>& after,
                              const std::string& what) {
  std::vector<std::string> kernels;
  for (const auto& entry : fs::directory_iterator(root / "model" / "kernels"))
    if (entry.path().extension() == ".c") kernels.push_back(entry.path().filename().string());
  std::vector<std::vector<std::string>> commands = {deploy::compile_command(core, sources, kernels, elf)};
  commands.insert(commands.end(), after.begin(), after.end());
  write(root / elf.parent_path() / "build.sh", deploy::script_text(commands));
  for (const auto& argv : commands) run_tool(root, argv, what);
  return deploy::parse_size_output(run_tool(root, {"arm-none-eabi-size", "-B", elf.string()}, what).out);
}

QemuRun run_in_qemu(const fs::path& root, const std::string& machine, const fs::path& elf, const fs::path& dir) {
  const fs::path console = dir / "console.txt", counts = dir / "instructions.txt";
  const std::vector<std::string> argv = {
      "timeout", "600", "qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
      "-chardev", "file,id=console,path=" + console.string(), "-semihosting-config",
      "enable=on,target=native,chardev=console", "-plugin",
      deploy::qemu_plugin_path().string() + ",out=" + counts.string(), "-kernel", elf.string()};
  write(root / dir / "run.sh", deploy::script_text({argv}));
  const Captured run = run_in(root, argv);
  if (run.exit_code == 127) throw Error("qemu-system-arm", "could not be started", Error::Kind::failure);
  if (run.exit_code == 124) throw Error("qemu-system-arm", "ran past 600 s; stopped", Error::Kind::failure);
  return {read_text(root / console), read_text(root / counts)};
}

void check_firmware_toolchain(bool qemu) {
  require_program("arm-none-eabi-gcc", kToolchainPackages);
  for (const char* tool : {"arm-none-eabi-objcopy", "arm-none-eabi-size"})
    require_program(tool, "binutils-arm-none-eabi");
  const auto specs = run_captured({"arm-none-eabi-gcc", "-print-file-name=nano.specs"});
  if (specs.out.find('/') == std::string::npos)
    throw Error("arm-none-eabi-gcc", "has no newlib (nano.specs not found): install it with apt-get install "
                                     "--no-install-recommends libnewlib-arm-none-eabi (scripts/setup.sh does)");
  if (qemu) {
    require_program("qemu-system-arm", "qemu-system-arm");
    if (!fs::exists(deploy::qemu_plugin_path()))
      throw Error("qemu-system-arm", "the instruction-counting plugin " + deploy::qemu_plugin_path().string() +
                                         " is missing: build it with cmake --build (target mcunas_qemu_icount)");
  }
}

}  // namespace nas::runner
