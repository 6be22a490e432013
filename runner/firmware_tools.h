// Running the firmware tools for nas deploy and nas calibrate: the cross compiler and binutils, and QEMU with our
// instruction-counting plugin. Every path the tools see is relative to one working folder, so the build.sh and
// run.sh scripts written beside the outputs work wherever the folder is moved.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "deploy/firmware_image.h"

namespace nas::runner {

// A new folder under the system's temporary directory (mkdtemp: unique, private), removed with everything in it
// on every way out: the working folder of nas calibrate, and of nas profile when it keeps nothing.
class TempFolder {
 public:
  explicit TempFolder(const std::string& prefix);  // <tmp>/<prefix>.XXXXXX; throws nas::Error (failure)
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Throws nas::Error (bad_input) with one line naming the missing program and the Debian package to install:
// arm-none-eabi-gcc, -objcopy, -size and newlib, and with `qemu` also qemu-system-arm and the plugin.
void check_firmware_toolchain(bool qemu);

std::string read_text(const std::filesystem::path& path);
// Creates the parent folders, then writes through a temporary file and a rename.
void write(const std::filesystem::path& path, const std::string& text);

// Runs argv in `dir`.
Captured run_in(const std::filesystem::path& dir, const std::vector<std::string>& argv);
// Runs a tool in `dir`; throws nas::Error (failure) with the end of its output when it fails.
Captured run_tool(const std::filesystem::path& dir, const std::vector<std::string>& argv, const std::string& what);

// Copies deploy/firmware's sources (not the host plugin) to `to`, so a folder rebuilds on its own.
void copy_firmware_sources(const std::filesystem::path& to);

// Compiles and links `elf` in `root`, after writing the commands (and `after`, e.g. objcopy) to <elf's folder>/
// build.sh; returns arm-none-eabi-size's figures. The linker's refusal to overflow a region is how an image that
// does not fit is caught.
deploy::ImageSize build_image(const std::filesystem::path& root, const std::string& core,
                              const deploy::FirmwareSources& sources, const std::filesystem::path& elf,
                              const std::vector<std::vector<std::string>>& after, const std::string& what);

// Runs `elf` (relative to root) on `machine` with the counting plugin, writing `dir`/console.txt,
// `dir`/instructions.txt and `dir`/run.sh; returns the console text and the plugin's counts.
struct QemuRun {
  std::string console, counts;
};
QemuRun run_in_qemu(const std::filesystem::path& root, const std::string& machine, const std::filesystem::path& elf,
                    const std::filesystem::path& dir);

}  // namespace nas::runner
