// Code generation (deploy/codegen.h): the exact text of a hand-built model against checked-in golden files, the
// same bytes on every call, generated C that compiles with a strict C99 compiler and computes bit for bit what the
// host executor computes on real Fashion-MNIST images, and the errors of write_c_files.
#include "deploy/codegen.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cost_models/arena_plan.h"
#include "deploy/int8_executor.h"
#include "deploy/post_training.h"
#include "deploy/quantize_multiplier.h"
#include "supernet/dataset.h"
#include "supernet/network_builder.h"
#include "supernet/search_space.h"
#include "tests/common/test_support.h"

namespace nas::deploy {
namespace {

namespace fs = std::filesystem;
using test_support::contains;

const fs::path kGoldenDir = fs::path(MCUNAS_SOURCE_DIR) / "tests" / "deploy" / "golden";
const fs::path kFashionMnist = "/usr/share/datasets/fashion-mnist";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_binary(const fs::path& path, const std::vector<int8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Values that look like real parameters but come from integer arithmetic only, so the golden model (and with it the
// golden files) is the same on every machine and compiler.
int32_t pattern(size_t i, int32_t seed, int32_t modulus) {
  return static_cast<int32_t>((static_cast<int64_t>(i) * 7919 + seed * 104729 + 13) % modulus);
}
std::vector<int8_t> int8_values(size_t n, int32_t seed) {
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(pattern(i, seed, 255) - 127);  // [-127, 127]
  return v;
}
std::vector<int32_t> bias_values(size_t n, int32_t seed) {
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pattern(i, seed, 4001) - 2000;
  return v;
}
// Q31 multipliers in [2^30, 2^31) and right shifts around `shift`, as quantize_multiplier produces them.
void set_requantization(Int8Op& op, size_t channels, int32_t seed, int32_t shift) {
  for (size_t c = 0; c < channels; ++c) {
    op.multiplier.push_back((1 << 30) + pattern(c, seed, 1 << 30));
    op.shift.push_back(shift - static_cast<int32_t>(c % 2));
  }
}

// input 6x6x2 → conv 3x3 stride 2 pad 1 + ReLU (3x3x4) → depthwise 3x3 pad 1 + ReLU → conv 1x1 → add with the
// first conv's output (a residual join, so the planner takes its greedy layout) → global average pool → fully
// connected to 3 classes. Every op kind code generation prints except max pooling, and both array element types.
Int8Model golden_model() {
  Int8Model m;
  m.tensors = {
      {"input", 6, 6, 2, {1.0 / 64, -3}},   {"b1.conv", 3, 3, 4, {1.0 / 32, -100}},
      {"b2.dw", 3, 3, 4, {1.0 / 16, -128}}, {"b2.pw", 3, 3, 4, {0.05, 5}},
      {"join", 3, 3, 4, {0.1, -2}},         {"head.pool", 1, 1, 4, {0.02, -128}},
      {"head.fc", 1, 1, 3, {0.125, 7}},
  };
  m.input = 0;
  m.output = 6;
  m.input_mean = {0.25f, 0.5f};
  m.input_stddev = {0.125f, 2.0f};  // a whole number must still print as a C float literal ("2.0f", not "2f")

  Int8Op conv;
  conv.kind = Int8OpKind::conv;
  conv.name = "b1.conv";
  conv.inputs = {0};
  conv.output = 1;
  conv.kernel_h = conv.kernel_w = 3;
  conv.stride_h = conv.stride_w = 2;
  conv.pad_h = conv.pad_w = 1;
  conv.act_min = -100;  // fused ReLU: the output zero point
  conv.weights = int8_values(4 * 3 * 3 * 2, 1);
  conv.bias = bias_values(4, 2);
  set_requantization(conv, 4, 3, -9);
  m.ops.push_back(conv);

  Int8Op dw;
  dw.kind = Int8OpKind::depthwise;
  dw.name = "b2.dw";
  dw.inputs = {1};
  dw.output = 2;
  dw.kernel_h = dw.kernel_w = 3;
  dw.pad_h = dw.pad_w = 1;
  dw.act_min = -128;
  dw.weights = int8_values(3 * 3 * 4, 4);
  dw.bias = bias_values(4, 5);
  set_requantization(dw, 4, 6, -6);
  m.ops.push_back(dw);

  Int8Op pw;
  pw.kind = Int8OpKind::conv;
  pw.name = "b2.pw";
  pw.inputs = {2};
  pw.output = 3;
  pw.weights = int8_values(4 * 4, 7);
  pw.bias = bias_values(4, 8);
  set_requantization(pw, 4, 9, -5);
  m.ops.push_back(pw);

  // TFLite's ADD for scales 0.05 (b2.pw) + 1/32 (b1.conv) → 0.1, worked out by hand: twice the larger input scale
  // is 0.1, so input 1 is scaled by 0.5 (2^30, shift 0), input 2 by 0.3125 (0.625 · 2^31, shift −1) and the sum
  // by 0.1 / (2^20 · 0.1) = 2^−20 (2^30, shift −19). The test AddScalesOfTheGoldenModel checks this.
  Int8Op add;
  add.kind = Int8OpKind::add;
  add.name = "join";
  add.inputs = {3, 1};
  add.output = 4;
  add.add = {-5, 1 << 30, 0, 100, 1342177280, -1, 20, -2, 1 << 30, -19, -128, 127};
  m.ops.push_back(add);

  Int8Op pool;
  pool.kind = Int8OpKind::global_avg_pool;  // the mean requantised to its own scale, as fold_batchnorm lowers it
  pool.name = "head.pool";
  pool.inputs = {4};
  pool.output = 5;
  pool.kernel_h = pool.kernel_w = 3;
  const FixedPointScale mean_scale = quantize_multiplier(0.1 / (0.02 * 9));  // s_in / (s_out · h · w)
  pool.mean = {2, -128, mean_scale.multiplier, mean_scale.shift, -128, 127};
  m.ops.push_back(pool);

  Int8Op fc;
  fc.kind = Int8OpKind::fully_connected;
  fc.name = "head.fc";
  fc.inputs = {5};
  fc.output = 6;
  fc.weights = int8_values(3 * 4, 10);
  fc.bias = bias_values(3, 11);
  set_requantization(fc, 3, 12, -5);
  m.ops.push_back(fc);
  return m;
}

GeneratedC generate_golden() {
  const Int8Model model = golden_model();
  return generate_c(model, cost_models::plan_arena(op_graph(model)), "golden test");
}

TEST(Codegen, AddScalesOfTheGoldenModel) {
  const AddScales s = add_scales(0.05, 1.0 / 32, 0.1);
  const Int8Model model = golden_model();  // kept: a reference into the temporary would dangle
  const mcunas_add_params& p = model.ops[3].add;
  EXPECT_EQ(s.input1.multiplier, p.input1_multiplier);
  EXPECT_EQ(s.input1.shift, p.input1_shift);
  EXPECT_EQ(s.input2.multiplier, p.input2_multiplier);
  EXPECT_EQ(s.input2.shift, p.input2_shift);
  EXPECT_EQ(s.left_shift, p.left_shift);
  EXPECT_EQ(s.output.multiplier, p.output_multiplier);
  EXPECT_EQ(s.output.shift, p.output_shift);
}

// The golden files pin the exact text of model.h and model.c, so any change to the generated C shows up in review.
// After an intended change, regenerate them and review the diff before committing:
//   MCUNAS_UPDATE_GOLDEN=1 ./tests/deploy_codegen_test --gtest_filter=Codegen.MatchesGoldenFiles
// With MCUNAS_UPDATE_GOLDEN=1 the test writes tests/deploy/golden/model.{h,c} of the source tree instead of
// comparing, and reports itself skipped so that a run with the variable set can never pass as a comparison.
TEST(Codegen, MatchesGoldenFiles) {
  const Int8Model model = golden_model();
  const auto plan = cost_models::plan_arena(op_graph(model));
  ASSERT_EQ(cost_models::plan_violation(op_graph(model), plan), "");
  EXPECT_EQ(plan.layout, "greedy by size");  // the residual join keeps b1.conv alive across b2
  const GeneratedC code = generate_c(model, plan, "golden test");
  EXPECT_EQ(code.arena_bytes, plan.arena_bytes);
  // conv 72 + 4·12, depthwise 36 + 4·12, 1×1 conv 16 + 4·12, fully connected 12 + 3·12.
  EXPECT_EQ(code.parameter_bytes, 120 + 84 + 64 + 48);

  const fs::path header = kGoldenDir / "model.h", source = kGoldenDir / "model.c";
  const char* update = std::getenv("MCUNAS_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    fs::create_directories(kGoldenDir);
    std::ofstream(header, std::ios::binary) << code.header;
    std::ofstream(source, std::ios::binary) << code.source;
    std::printf("MCUNAS_UPDATE_GOLDEN=1: wrote %s and %s\n", header.c_str(), source.c_str());
    GTEST_SKIP() << "golden files rewritten, not compared: review the diff and commit it";
  }
  const std::string how = "\nIf the change is intended, regenerate with MCUNAS_UPDATE_GOLDEN=1 (see the comment "
                          "above this test) and review the diff.";
  ASSERT_TRUE(fs::is_regular_file(header) && fs::is_regular_file(source))
      << "golden files missing in " << kGoldenDir << how;
  EXPECT_EQ(code.header, read_text(header)) << "model.h differs from " << header << how;
  EXPECT_EQ(code.source, read_text(source)) << "model.c differs from " << source << how;
}

// The same model must export the same bytes: on a second call, and from a copy (nothing may depend on addresses,
// on hash order or on state left by an earlier call).
TEST(Codegen, IsDeterministic) {
  const Int8Model model = golden_model();
  const auto plan = cost_models::plan_arena(op_graph(model));
  const GeneratedC first = generate_c(model, plan, "determinism");
  const GeneratedC second = generate_c(model, plan, "determinism");
  const Int8Model copy = model;
  const GeneratedC from_copy = generate_c(copy, cost_models::plan_arena(op_graph(copy)), "determinism");
  for (const GeneratedC* other : {&second, &from_copy}) {
    EXPECT_EQ(first.header, other->header);
    EXPECT_EQ(first.source, other->source);
    EXPECT_EQ(first.parameter_bytes, other->parameter_bytes);
    EXPECT_EQ(first.arena_bytes, other->arena_bytes);
  }
}

// Reads int8 images (MCUNAS_INPUT_SIZE bytes each) from argv[1] until the end, writes the int8 logits of each to
// argv[2]. Exit codes say which step failed.
constexpr const char* kMain = R"(#include <stdio.h>

#include "model.h"

int main(int argc, char **argv) {
  static int8_t image[MCUNAS_INPUT_SIZE];
  static int8_t logits[MCUNAS_OUTPUT_SIZE];
  FILE *in, *out;
  if (argc != 3) return 2;
  in = fopen(argv[1], "rb");
  out = fopen(argv[2], "wb");
  if (in == NULL || out == NULL) return 3;
  while (fread(image, 1, sizeof image, in) == sizeof image) {
    if (mcunas_invoke(image, logits) != 0) return 4;
    if (fwrite(logits, 1, sizeof logits, out) != sizeof logits) return 5;
  }
  if (ferror(in)) return 6;
  fclose(in);
  return fclose(out) == 0 ? 0 : 7;
}
)";

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

int exit_status(int system_result) { return WIFEXITED(system_result) ? WEXITSTATUS(system_result) : -1; }

class CodegenRun : public test_support::TempDirTest {
 protected:
  // Writes `code` with write_c_files and a main that runs it, compiles the folder as a firmware build would (strict
  // C99, warnings as errors, only the files write_c_files put there) and runs it on `inputs` (whole images back to
  // back). The logits of every image land in `outputs`.
  void compile_and_run(const GeneratedC& code, const std::vector<int8_t>& inputs, std::vector<int8_t>& outputs) {
    const fs::path out = dir_ / "export";
    write_c_files(code, out);
    std::ofstream(out / "main.c") << kMain;
    write_binary(dir_ / "inputs.bin", inputs);

    const int found = exit_status(std::system("command -v cc >/dev/null 2>&1"));
    ASSERT_EQ(found, 0) << "no C compiler: `cc` is not on PATH (CI installs gcc); the generated C cannot be checked";
    const fs::path log = dir_ / "cc.log", binary = dir_ / "model_run";
    const std::string compile = "cc -std=c99 -pedantic -Wall -Wextra -Werror -O1 -I " + quoted(out / "kernels") +
                                " -o " + quoted(binary) + " " + quoted(out / "main.c") + " " +
                                quoted(out / "model.c") + " " + quoted(out / "kernels") + "/*.c > " + quoted(log) +
                                " 2>&1";
    ASSERT_EQ(exit_status(std::system(compile.c_str())), 0) << compile << "\n" << read_text(log);
    const std::string run = quoted(binary) + " " + quoted(dir_ / "inputs.bin") + " " + quoted(dir_ / "outputs.bin");
    ASSERT_EQ(exit_status(std::system(run.c_str())), 0) << run;
    const std::string bytes = read_text(dir_ / "outputs.bin");
    outputs.assign(bytes.begin(), bytes.end());
  }

  // What the host executor computes for the same images, one after the other in one executor (as the compiled
  // program runs them in one static arena).
  static std::vector<int8_t> executor_outputs(const Int8Model& model, const std::vector<int8_t>& inputs) {
    Int8Executor executor(model);
    const size_t in_size = executor.input().size();
    std::vector<int8_t> outputs;
    for (size_t at = 0; at + in_size <= inputs.size(); at += in_size) {
      std::copy(inputs.begin() + static_cast<std::ptrdiff_t>(at),
                inputs.begin() + static_cast<std::ptrdiff_t>(at + in_size), executor.input().begin());
      executor.invoke();
      outputs.insert(outputs.end(), executor.output().begin(), executor.output().end());
    }
    return outputs;
  }

  // Image by image, so a failure names the first image that differs instead of printing thousands of bytes.
  static void expect_same_outputs(const std::vector<int8_t>& compiled, const std::vector<int8_t>& host,
                                  size_t per_image) {
    ASSERT_EQ(compiled.size(), host.size()) << "the compiled program wrote " << compiled.size() << " bytes";
    for (size_t image = 0; image * per_image < host.size(); ++image) {
      const auto begin = static_cast<std::ptrdiff_t>(image * per_image);
      const auto end = static_cast<std::ptrdiff_t>((image + 1) * per_image);
      ASSERT_EQ(std::vector<int8_t>(compiled.begin() + begin, compiled.begin() + end),
                std::vector<int8_t>(host.begin() + begin, host.begin() + end))
          << "image " << image;
    }
  }

  // The firmware has no heap: the generated files must not allocate (the kernels are checked by their own tests).
  static void expect_no_heap(const GeneratedC& code) {
    for (const char* word : {"malloc", "calloc", "realloc", "free(", "new "}) {
      EXPECT_FALSE(contains(code.header, word)) << "model.h contains '" << word << "'";
      EXPECT_FALSE(contains(code.source, word)) << "model.c contains '" << word << "'";
    }
  }
};

// The golden model, whose residual join makes the greedy layout and the add kernel part of the generated C, on
// every int8 value pattern: extremes, zero points and seeded noise.
TEST_F(CodegenRun, GoldenModelRunsAsOnTheHost) {
  const Int8Model model = golden_model();
  const GeneratedC code = generate_c(model, cost_models::plan_arena(op_graph(model)), "golden test");
  expect_no_heap(code);
  constexpr size_t kImage = 6 * 6 * 2;
  std::vector<int8_t> inputs;
  for (const int v : {-128, 127, -3, 0}) inputs.insert(inputs.end(), kImage, static_cast<int8_t>(v));
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> value(-128, 127);
  for (int image = 0; image < 60; ++image)
    for (size_t i = 0; i < kImage; ++i) inputs.push_back(static_cast<int8_t>(value(rng)));
  std::vector<int8_t> compiled;
  ASSERT_NO_FATAL_FAILURE(compile_and_run(code, inputs, compiled));
  const auto host = executor_outputs(model, inputs);
  expect_same_outputs(compiled, host, 3);
  // The comparison means something only if the logits vary with the input.
  std::set<std::vector<int8_t>> distinct;
  for (size_t at = 0; at < host.size(); at += 3)
    distinct.insert(std::vector<int8_t>(host.begin() + static_cast<std::ptrdiff_t>(at),
                                        host.begin() + static_cast<std::ptrdiff_t>(at + 3)));
  EXPECT_GT(distinct.size(), 20u);
}

// The first `n` items of `data` (or all of them).
supernet::Dataset first_items(const supernet::Dataset& data, int32_t n) {
  supernet::Dataset out = data;
  out.count = std::min(n, data.count);
  out.images.resize(static_cast<size_t>(out.count * data.item_size()));
  out.labels.resize(static_cast<size_t>(out.count));
  return out;
}

// Random BatchNorm statistics, so folding has real scales and shifts to fold (a fresh network's are 1, 0, 0, 1).
void randomize_batchnorm(supernet::Network& net, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> gamma(0.5f, 1.5f), beta(-0.3f, 0.3f), mean(-0.2f, 0.2f), var(0.3f, 2.0f);
  int32_t folded = 0;
  for (int32_t node = 0; node < net.size(); ++node) {
    if (net.layer(node).type().rfind("batchnorm", 0) != 0) continue;
    const int32_t slot = net.first_param_slot(node);
    for (auto& v : net.params().value(slot)) v = gamma(rng);
    for (auto& v : net.params().value(slot + 1)) v = beta(rng);
    for (auto& v : net.params().value(slot + 2)) v = mean(rng);
    for (auto& v : net.params().value(slot + 3)) v = var(rng);
    ++folded;
  }
  ASSERT_GT(folded, 0) << "the network has no BatchNorm layer";
}

// A network of the search space's shape (conv, depthwise separable, skip, conv 1×1, then the head), quantised on
// real Fashion-MNIST training images, exported, compiled and run on the first 100 test images: the compiled
// program must produce exactly the executor's logits for every image.
TEST_F(CodegenRun, ExportedNetworkMatchesTheExecutorOnFashionMnist) {
  const fs::path files[] = {kFashionMnist / "train-images-idx3-ubyte.gz", kFashionMnist / "train-labels-idx1-ubyte.gz",
                            kFashionMnist / "t10k-images-idx3-ubyte.gz", kFashionMnist / "t10k-labels-idx1-ubyte.gz"};
  for (const auto& file : files) {
    ASSERT_TRUE(fs::is_regular_file(file)) << file << " is missing: this test needs the real Fashion-MNIST "
                                           << "(Debian package dataset-fashion-mnist, installed by scripts/setup.sh)";
  }
  supernet::DataSplits data;
  data.train = first_items(supernet::load_idx(files[0], files[1]), 512);
  data.test = first_items(supernet::load_idx(files[2], files[3]), 100);
  ASSERT_EQ(data.train.count, 512);
  ASSERT_EQ(data.test.count, 100);
  data.norm = supernet::compute_normalization(data.train);
  supernet::normalize(data.train, data.norm);
  supernet::normalize(data.test, data.norm);

  using supernet::OpKind;
  supernet::FixedArch arch;
  arch.blocks = {{"b1", {OpKind::conv, 3}, 8, 1},
                 {"b2", {OpKind::dwsep, 3}, 12, 2},
                 {"b3", {OpKind::skip, 0}, 12, 1},
                 {"b4", {OpKind::conv, 5}, 10, 2},
                 {"b5", {OpKind::dwsep, 5}, 16, 1},
                 {"b6", {OpKind::conv, 1}, 8, 1}};
  const supernet::Shape input{1, data.train.height, data.train.width, data.train.channels};
  supernet::Network net = supernet::build_network(supernet::fixed_model_yaml(arch), input, 10, 7);
  ASSERT_NO_FATAL_FAILURE(randomize_batchnorm(net, 8));
  const Int8Model model = quantize_network(net, data, CalibrationSpec{});

  const GeneratedC code = generate_c(model, cost_models::plan_arena(op_graph(model)), "codegen_test");
  expect_no_heap(code);

  const size_t image_bytes = static_cast<size_t>(data.test.item_size());
  std::vector<int8_t> inputs(image_bytes * static_cast<size_t>(data.test.count));
  for (int32_t i = 0; i < data.test.count; ++i)
    quantize_input(model, {data.test.images.data() + i * image_bytes, image_bytes},
                   {inputs.data() + i * image_bytes, image_bytes});

  std::vector<int8_t> compiled;
  ASSERT_NO_FATAL_FAILURE(compile_and_run(code, inputs, compiled));
  const auto host = executor_outputs(model, inputs);
  expect_same_outputs(compiled, host, 10);
  // Logits that vary with the image: a network saturated to one answer would make the comparison vacuous.
  std::set<std::vector<int8_t>> distinct;
  for (size_t at = 0; at < host.size(); at += 10)
    distinct.insert(std::vector<int8_t>(host.begin() + static_cast<std::ptrdiff_t>(at),
                                        host.begin() + static_cast<std::ptrdiff_t>(at + 10)));
  EXPECT_GT(distinct.size(), 50u);
}

class CodegenFiles : public test_support::TempDirTest {};

// A parent that is a regular file cannot become a directory, whoever runs the test (root included).
TEST_F(CodegenFiles, OutputUnderARegularFileIsBadInputNamingThePath) {
  const fs::path file = write_text("not_a_directory", "x");
  const fs::path out = file / "export";
  try {
    write_c_files(generate_golden(), out);
    FAIL() << "write_c_files into " << out << " did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
    EXPECT_TRUE(contains(e.what(), out.string())) << e.what();
  }
}

// A directory where model.h should go: the rename into place fails (for root too), and the error names model.h.
TEST_F(CodegenFiles, DirectoryInTheWayOfModelHIsBadInputNamingThePath) {
  const fs::path out = dir_ / "export";
  fs::create_directories(out / "model.h" / "occupied");
  try {
    write_c_files(generate_golden(), out);
    FAIL() << "write_c_files did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input);
    // The file, the reason (the directory in its way) and the fix.
    const std::string what = e.what();
    EXPECT_EQ(what.rfind((out / "model.h").string() + ": cannot write it (cannot rename ", 0), 0u) << what;
    EXPECT_TRUE(contains(what, "into place: Is a directory); pass --out a writable directory")) << what;
  }
}

// Writing into an existing export replaces the files and copies every kernel source beside them.
TEST_F(CodegenFiles, WritesModelAndKernels) {
  const GeneratedC code = generate_golden();
  const fs::path out = dir_ / "export";
  write_c_files(code, out);
  write_c_files(code, out);  // a second export into the same folder
  EXPECT_EQ(read_text(out / "model.h"), code.header);
  EXPECT_EQ(read_text(out / "model.c"), code.source);
  std::set<std::string> names;  // nothing else, in particular no temporary file left behind
  for (const auto& entry : fs::directory_iterator(out)) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"kernels", "model.c", "model.h"}));
  for (const auto& entry : fs::directory_iterator(kernels_source_dir())) {
    if (entry.path().extension() != ".c" && entry.path().extension() != ".h") continue;
    EXPECT_EQ(read_text(out / "kernels" / entry.path().filename()), read_text(entry.path())) << entry.path();
  }
}

}  // namespace
}  // namespace nas::deploy
