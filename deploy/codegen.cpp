#include "deploy/codegen.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "deploy/c_text.h"
#include "deploy/kernel_call.h"
#include "supernet/error.h"
#include "supernet/file_bytes.h"

namespace nas::deploy {

namespace {

std::string dims(const mcunas_dims& d) { return fmt::format("{{{}, {}, {}, {}}}", d.n, d.h, d.w, d.c); }

const char* kind_name(Int8OpKind kind) {
  switch (kind) {
    case Int8OpKind::conv: return "convolution";
    case Int8OpKind::depthwise: return "depthwise convolution";
    case Int8OpKind::fully_connected: return "fully connected (as a 1x1 convolution)";
    case Int8OpKind::max_pool: return "max pooling";
    case Int8OpKind::avg_pool: return "average pooling";
    case Int8OpKind::global_avg_pool: return "global average pooling";
    case Int8OpKind::add: return "add";
  }
  return "";
}

// The body of mcunas_invoke for one op: its arguments as static const initialisers, then the call.
void print_call(std::ostringstream& out, const Int8Model& model, const cost_models::ArenaPlan& plan, size_t j) {
  const Int8Op& op = model.ops[j];
  const KernelCall c = kernel_call(model, op);
  auto at = [&](int32_t tensor) { return fmt::format("arena + {}", plan.tensor_offset[static_cast<size_t>(tensor)]); };
  const std::string p = fmt::format("op{}_", j);
  const int64_t scratch = plan.scratch_offset[j];
  out << "  {  /* " << comment_text(op.name) << " */\n";
  switch (op.kind) {
    case Int8OpKind::conv:
    case Int8OpKind::depthwise:
    case Int8OpKind::fully_connected:
      out << fmt::format("    static const mcunas_conv_params params = {{{}, {}, {}, {}, {}, {}, {}, {}}};\n",
                         c.conv.stride_h, c.conv.stride_w, c.conv.pad_h, c.conv.pad_w, c.conv.input_offset,
                         c.conv.output_offset, c.conv.act_min, c.conv.act_max);
      out << "    static const mcunas_channel_quant quant = {" << p << "multiplier, " << p << "shift};\n";
      out << "    static const mcunas_dims input_dims = " << dims(c.input) << ", filter_dims = " << dims(c.filter)
          << ", output_dims = " << dims(c.output) << ";\n";
      out << "    " << (op.kind == Int8OpKind::depthwise ? "mcunas_depthwise_conv_s8" : "mcunas_conv_s8")
          << "(&params, &quant, &input_dims, " << at(op.inputs[0]) << ", &filter_dims, " << p << "weights, " << p
          << "bias, &output_dims, " << at(op.output)
          << (op.kind == Int8OpKind::depthwise ? ""
              : scratch >= 0 ? fmt::format(", arena + {}", scratch)
                             : std::string(", NULL"))
          << ");\n";
      break;
    case Int8OpKind::max_pool:
    case Int8OpKind::avg_pool:
      out << fmt::format("    static const mcunas_pool_params params = {{{}, {}, {}, {}, {}, {}, {}, {}}};\n",
                         c.pool.k_h, c.pool.k_w, c.pool.stride_h, c.pool.stride_w, c.pool.pad_h, c.pool.pad_w,
                         c.pool.act_min, c.pool.act_max);
      out << "    static const mcunas_dims input_dims = " << dims(c.input) << ", output_dims = " << dims(c.output)
          << ";\n";
      out << "    " << (op.kind == Int8OpKind::max_pool ? "mcunas_max_pool_s8" : "mcunas_avg_pool_s8")
          << "(&params, &input_dims, " << at(op.inputs[0]) << ", &output_dims, " << at(op.output) << ");\n";
      break;
    case Int8OpKind::global_avg_pool: {
      const auto& m = op.mean;
      out << fmt::format("    static const mcunas_mean_params params = {{{}, {}, {}, {}, {}, {}}};\n", m.input_offset,
                         m.output_offset, m.multiplier, m.shift, m.act_min, m.act_max);
      out << "    static const mcunas_dims input_dims = " << dims(c.input) << ";\n";
      out << "    mcunas_global_avg_pool_s8(&params, &input_dims, " << at(op.inputs[0]) << ", " << at(op.output)
          << ");\n";
      break;
    }
    case Int8OpKind::add: {
      const auto& a = op.add;
      out << fmt::format("    static const mcunas_add_params params = {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                         "{}}};\n",
                         a.input1_offset, a.input1_multiplier, a.input1_shift, a.input2_offset, a.input2_multiplier,
                         a.input2_shift, a.left_shift, a.output_offset, a.output_multiplier, a.output_shift,
                         a.act_min, a.act_max);
      out << "    mcunas_add_s8(&params, " << c.elements << ", " << at(op.inputs[0]) << ", " << at(op.inputs[1])
          << ", " << at(op.output) << ");\n";
      break;
    }
  }
  out << "  }\n";
}

}  // namespace

GeneratedC generate_c(const Int8Model& model, const cost_models::ArenaPlan& plan, const std::string& origin) {
  validate(model);
  const Int8Tensor& in = model.tensors[static_cast<size_t>(model.input)];
  const Int8Tensor& out = model.tensors[static_cast<size_t>(model.output)];
  GeneratedC code;
  code.arena_bytes = plan.arena_bytes;
  for (const auto& op : model.ops) code.parameter_bytes += parameter_bytes(op);

  std::ostringstream h;
  h << "/* Generated by mcunas (nas export) from " << comment_text(origin) << ". Do not edit.\n"
    << " * An int8 network (TFLite int8 arithmetic) on the kernels in kernels/: no heap, one static arena. */\n"
    << "// Build: cc -std=c99 -I kernels model.c kernels/*.c your_main.c\n"
    << "#ifndef MCUNAS_MODEL_H\n#define MCUNAS_MODEL_H\n\n#include <stdint.h>\n\n"
    << "/* Input: one image, NHWC int8. Quantise a normalised value x as round(x / scale) + zero_point. */\n"
    << "#define MCUNAS_INPUT_H " << in.h << "\n#define MCUNAS_INPUT_W " << in.w << "\n#define MCUNAS_INPUT_C " << in.c
    << "\n#define MCUNAS_INPUT_SIZE " << in.bytes() << "\n#define MCUNAS_INPUT_SCALE " << float_literal(in.quant.scale)
    << "\n#define MCUNAS_INPUT_ZERO_POINT " << in.quant.zero_point << "\n\n"
    << "/* Output: int8 logits; real value = scale * (q - zero_point). */\n"
    << "#define MCUNAS_OUTPUT_SIZE " << out.bytes() << "\n#define MCUNAS_OUTPUT_SCALE "
    << float_literal(out.quant.scale) << "\n#define MCUNAS_OUTPUT_ZERO_POINT " << out.quant.zero_point << "\n\n"
    << "/* Bytes of the static arena (activations and kernel scratch) and of the const parameter arrays. */\n"
    << "#define MCUNAS_ARENA_BYTES " << plan.arena_bytes << "\n#define MCUNAS_PARAMETER_BYTES "
    << code.parameter_bytes << "\n\n";
  if (!model.input_mean.empty())
    h << "/* The normalisation the network was trained with: x = (pixel - mean[c]) / stddev[c], pixel in [0, 1]. */\n"
      << "extern const float mcunas_input_mean[MCUNAS_INPUT_C];\nextern const float mcunas_input_stddev[MCUNAS_INPUT_C];\n\n";
  h << "/* One inference: reads MCUNAS_INPUT_SIZE values, writes MCUNAS_OUTPUT_SIZE. Returns 0. Not reentrant (one\n"
    << " * static arena). */\nint mcunas_invoke(const int8_t *input, int8_t *output);\n\n#endif /* MCUNAS_MODEL_H */\n";
  code.header = h.str();

  std::ostringstream c;
  c << "/* Generated by mcunas (nas export) from " << comment_text(origin) << ". Do not edit. */\n"
    << "#include \"model.h\"\n\n#include <string.h>\n\n#include \"mcunas_kernels.h\"\n\n";
  if (!model.input_mean.empty()) {
    auto floats = [&](const std::vector<float>& v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + float_literal(v[i]);
      return s;
    };
    c << "const float mcunas_input_mean[MCUNAS_INPUT_C] = {" << floats(model.input_mean) << "};\n"
      << "const float mcunas_input_stddev[MCUNAS_INPUT_C] = {" << floats(model.input_stddev) << "};\n\n";
  }
  for (size_t j = 0; j < model.ops.size(); ++j) {
    const Int8Op& op = model.ops[j];
    if (op.weights.empty()) continue;
    const auto& ti = model.tensors[static_cast<size_t>(op.inputs[0])];
    const auto& to = model.tensors[static_cast<size_t>(op.output)];
    c << fmt::format("/* op {}: {}, {} ({}x{}x{} -> {}x{}x{}) */\n", j, comment_text(op.name), kind_name(op.kind), ti.h,
                     ti.w, ti.c, to.h, to.w, to.c);
    const std::string p = fmt::format("op{}_", j);
    print_array(c, "int8_t", p + "weights", std::span(op.weights));
    print_array(c, "int32_t", p + "bias", std::span(op.bias));
    print_array(c, "int32_t", p + "multiplier", std::span(op.multiplier));
    print_array(c, "int32_t", p + "shift", std::span(op.shift));
    c << "\n";
  }
  c << "/* The arena as int32 words: 4-byte aligned for the kernels' scratch buffers. Planned offsets (bytes):\n";
  for (size_t t = 0; t < model.tensors.size(); ++t)
    if (plan.tensor_offset[t] >= 0)
      c << fmt::format(" *   {:>8}  {} ({} bytes)\n", plan.tensor_offset[t], comment_text(model.tensors[t].name),
                       model.tensors[t].bytes());
  for (size_t j = 0; j < model.ops.size(); ++j)
    if (plan.scratch_offset[j] >= 0)
      c << fmt::format(" *   {:>8}  scratch of {}\n", plan.scratch_offset[j], comment_text(model.ops[j].name));
  c << " */\nstatic int32_t arena_words[(MCUNAS_ARENA_BYTES + 3) / 4];\n\n"
    << "/* Layer boundaries, for counting instructions per layer in QEMU (deploy/firmware/qemu_icount_plugin.c): a\n"
    << " * firmware build defines MCUNAS_QEMU_MARKERS to make each one the marker instruction. */\n"
    << "#ifndef MCUNAS_LAYER_MARK\n#ifdef MCUNAS_QEMU_MARKERS\n"
    << "#define MCUNAS_LAYER_MARK() __asm volatile(\"mov r11, r11\")\n#else\n"
    << "#define MCUNAS_LAYER_MARK() ((void)0)\n#endif\n#endif\n\n"
    << "int mcunas_invoke(const int8_t *input, int8_t *output) {\n"
    << "  int8_t *const arena = (int8_t *)arena_words;\n"
    << "  memcpy(arena + " << plan.tensor_offset[static_cast<size_t>(model.input)] << ", input, MCUNAS_INPUT_SIZE);\n";
  for (size_t j = 0; j < model.ops.size(); ++j) {
    c << "  MCUNAS_LAYER_MARK();\n";
    print_call(c, model, plan, j);
  }
  c << "  MCUNAS_LAYER_MARK();\n  memcpy(output, arena + " << plan.tensor_offset[static_cast<size_t>(model.output)]
    << ", MCUNAS_OUTPUT_SIZE);\n  return 0;\n}\n";
  code.source = c.str();
  return code;
}

std::filesystem::path kernels_source_dir() { return MCUNAS_KERNELS_SOURCE_DIR; }

std::vector<SourceFile> kernel_sources() {
  std::vector<SourceFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(kernels_source_dir())) {
    const auto ext = entry.path().extension();
    if (ext != ".c" && ext != ".h") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw Error(entry.path().string(), "cannot read the kernel source", Error::Kind::failure);
    files.push_back({entry.path().filename().string(), text.str()});
  }
  std::sort(files.begin(), files.end(), [](const SourceFile& a, const SourceFile& b) { return a.name < b.name; });
  return files;
}

void make_output_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error(dir.string(), "cannot create the output directory (" +
                                  (ec ? ec.message() : std::string("a file is in the way")) +
                                  "); pass --out a writable directory");
  const std::filesystem::path probe = dir / ".mcunas-write-probe";  // an existing but read-only directory
  if (!std::ofstream(probe))
    throw Error(dir.string(), "cannot write into the output directory; pass --out a writable directory");
  std::filesystem::remove(probe, ec);
}

void write_c_files(const GeneratedC& code, const std::filesystem::path& dir) {
  const std::filesystem::path kernels = dir / "kernels";
  make_output_dir(kernels);
  auto write = [&](const std::filesystem::path& path, const std::string& text) {
    try {
      supernet::write_file_atomically(path, text);
    } catch (const Error&) {
      throw Error(path.string(), "cannot write it (directory not writable or disk full); pass --out a writable "
                                 "directory");
    }
  };
  for (const auto& file : kernel_sources()) write(kernels / file.name, file.text);
  write(dir / "model.h", code.header);
  write(dir / "model.c", code.source);
}

}  // namespace nas::deploy
