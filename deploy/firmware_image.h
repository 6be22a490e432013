// The pieces of a Cortex-M firmware image that depend on the board and the model, as data: compiler flags per core,
// the linker script's MEMORY block from the target's `image:` layout, the generated data headers the fixed mains in
// firmware/ include (check_main.c: test images and the host's outputs; board_main.c: one sample), the compiler's
// command line, and parsers for what arm-none-eabi-size and our QEMU plugin print. Running the tools is the
// caller's job (runner/firmware_deploy.cpp): deploy stays free of processes and files outside its own.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "cost_models/core_timing.h"
#include "cost_models/target.h"

namespace nas::deploy {

// arm-none-eabi-gcc flags of a target YAML's core ("cortex-m4f", "cortex-m7", "cortex-m0plus"). Throws nas::Error
// (bad_input) for a core mcunas has no flags for.
std::vector<std::string> core_flags(const std::string& core);

// "MEMORY { FLASH ..., RAM ... }" for the layout, then INCLUDE of firmware/sections.ld.
std::string memory_script(const cost_models::ImageLayout& layout);

// check_data.h: MCUNAS_CHECK_IMAGES, mcunas_check_inputs[][MCUNAS_INPUT_SIZE],
// mcunas_check_expected[][MCUNAS_OUTPUT_SIZE], mcunas_check_labels[]. All images have the model's input size,
// all outputs its output size.
std::string check_data_header(const std::vector<std::vector<int8_t>>& inputs,
                              const std::vector<std::vector<int8_t>>& expected, std::span<const int32_t> labels);

// sample.h: mcunas_sample[MCUNAS_INPUT_SIZE] and MCUNAS_SAMPLE_LABEL.
std::string sample_header(std::span<const int8_t> sample, int32_t label);

// Paths as the compiler is to see them (nas deploy gives them relative to the output folder, so its build.sh
// scripts work wherever the folder is moved).
struct FirmwareSources {
  std::filesystem::path firmware_dir;  // a copy of deploy/firmware: start-up code, semihosting, sections.ld, mains
  std::filesystem::path model_dir;   // model.h, model.c, kernels/ (write_c_files)
  std::filesystem::path main;        // check_main.c or board_main.c
  std::filesystem::path data_dir;    // check_data.h or sample.h, and memory.ld
  std::filesystem::path linker_script;
  std::vector<std::string> defines;  // e.g. "MCUNAS_BOARD"
  bool with_model = true;            // false: model_dir holds only kernels/ (nas calibrate's benchmarks)
  bool stub_model = false;           // firmware/model_stub.c instead of model.c and the kernels (the model's share)
  std::filesystem::path link_map;    // where the linker writes its map ("" for none)
};

// The sources of a firmware in the layout nas deploy and nas calibrate use: firmware/ (the copy of deploy/firmware)
// and model/ under one working folder.
FirmwareSources firmware_sources(const std::filesystem::path& main, const std::filesystem::path& data_dir,
                                 const std::filesystem::path& linker_script, std::vector<std::string> defines = {});

// The arm-none-eabi-gcc command that compiles and links `elf` (-O2, sections garbage-collected, newlib-nano, our
// start-up code; layer markers on for QEMU builds, which define no MCUNAS_BOARD). `kernel_sources`: the .c files
// of model_dir/kernels, by name.
std::vector<std::string> compile_command(const std::string& core, const FirmwareSources& sources,
                                         const std::vector<std::string>& kernel_sources,
                                         const std::filesystem::path& elf);

// A shell script that runs argv in the folder above the script's own (quoting every argument).
std::string script_text(const std::vector<std::vector<std::string>>& commands);

// Sizes from `arm-none-eabi-size -B ELF` (Berkeley format): flash holds .text (code, constants, vectors) and the
// initial values of .data; RAM holds .data and .bss (the arena among it). Throws nas::Error (failure) on text it
// cannot read.
struct ImageSize {
  int64_t text = 0, data = 0, bss = 0;
  int64_t flash() const { return text + data; }
  int64_t ram() const { return data + bss; }
};
ImageSize parse_size_output(const std::string& text);

// Bytes each kernel family (cost_models::family_of) occupies in a linked image, from the linker's map: every kept
// .text/.rodata/.data input section of the object that defines the family's public function (the objects of a
// one-step compile and link have temporary names, so they are told apart by what they define). 0 for a family the
// image does not contain.
std::array<int64_t, cost_models::kKernelFamilyCount> kernel_family_bytes(const std::string& link_map);

// Instructions per layer of every inference from the plugin's file ("total N", "mark K COUNT CLASSES..." lines):
// with L layers there are L + 1 marks per inference. Throws nas::Error (failure) when the marks do not come out as
// `images` x (L + 1), or a mark has other than 0 or 9 class counts after its count.
struct InstructionCounts {
  int64_t total = 0;                            // the whole run, start-up included
  std::vector<std::vector<int64_t>> per_layer;  // [image][layer]
  // [image][layer] by timing class (cost_models/core_timing.h); empty when the marks carry no classes
  std::vector<std::vector<cost_models::InstructionMix>> per_layer_mix;
};
InstructionCounts parse_icount(const std::string& text, int32_t layers, int32_t images);

// deploy/firmware of common/source_tree.h's tree, and the QEMU plugin: deploy/ beside the running nas when it is
// there (a build tree, or a copy of one), else the one this nas's build made.
std::filesystem::path firmware_source_dir();
std::filesystem::path qemu_plugin_path();

}  // namespace nas::deploy
