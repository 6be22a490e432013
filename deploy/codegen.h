// An int8 model as plain C99: model.h declares `int mcunas_invoke(const int8_t *input, int8_t *output)` and the
// input / output quantisation; model.c holds the weights as const arrays (flash), one static arena of the planned
// size, and the kernel calls in order, each with its arguments as const initialisers (kernel_call.h, the very
// calls the host executor makes). No heap, no interpreter; the output depends only on the model, so the same run
// exports the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cost_models/arena_plan.h"
#include "deploy/int8_model.h"

namespace nas::deploy {

struct GeneratedC {
  std::string header;            // model.h
  std::string source;            // model.c
  int64_t parameter_bytes = 0;   // bytes of the const weight, bias, multiplier and shift arrays
                                 // (and reuse projections)
  int64_t arena_bytes = 0;
};

// `origin` is one line saying where the model came from (e.g. "run 12 of mcunas.db"), printed in both files.
GeneratedC generate_c(const Int8Model& model, const cost_models::ArenaPlan& plan, const std::string& origin);

// Writes model.h and model.c into `dir` (created if missing) and copies the kernel sources beside them into
// `dir`/kernels, so the folder builds on its own: cc -std=c99 -I DIR/kernels DIR/model.c DIR/kernels/*.c main.c.
// Each file is written through a temporary file and a rename. Throws nas::Error (bad_input) naming the path when
// the directory cannot be created or written.
void write_c_files(const GeneratedC& code, const std::filesystem::path& dir);

// Creates `dir` and checks a file can be written there; throws nas::Error (bad_input) naming the path when not.
// write_c_files and the Arduino and firmware outputs call it; nas export and deploy call it before any work too, so a
// bad --out is refused at once.
void make_output_dir(const std::filesystem::path& dir);

// Where the kernel sources live: deploy/kernels of common/source_tree.h's tree.
std::filesystem::path kernels_source_dir();

// One file of the kernels: its name (no directory) and text.
struct SourceFile {
  std::string name;
  std::string text;
};

// Every *.c and *.h of kernels_source_dir(), sorted by name so that whatever copies them does so in the same order
// on every machine. Throws nas::Error (failure) naming a file it cannot read.
std::vector<SourceFile> kernel_sources();

}  // namespace nas::deploy
