#include "deploy/kernel_benchmark.h"

#include <algorithm>
#include <array>
#include <sstream>

#include "common/error.h"
#include "cost_models/kernel_scratch.h"
#include "deploy/int8_ops.h"
#include "deploy/kernel_call.h"
#include "deploy/reuse_rate.h"

namespace nas::deploy {

namespace {

using cost_models::KernelPath;

int32_t out_size(int32_t in, int32_t kernel, int32_t stride, int32_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

// The int8 operator a path's cases run as, in KernelPath order (kernel_path.h): benchmark_model checks that the
// operator's row does put the case on that path, so an entry out of order fails there.
constexpr std::array<Int8OpKind, cost_models::kKernelPathCount> kBenchmarkKind = {
    Int8OpKind::conv,     Int8OpKind::conv,     Int8OpKind::depthwise,       Int8OpKind::fully_connected,
    Int8OpKind::max_pool, Int8OpKind::avg_pool, Int8OpKind::global_avg_pool, Int8OpKind::add,
    Int8OpKind::conv,     Int8OpKind::depthwise,       Int8OpKind::reuse_conv};

// The calibration firmware's generator (firmware/benchmark_main.c, fill()): a linear congruential sequence's top
// bytes.
std::vector<int8_t> lcg_bytes(int64_t bytes, uint32_t state) {
  std::vector<int8_t> v(static_cast<size_t>(bytes));
  for (auto& x : v) x = static_cast<int8_t>((state = state * 1664525u + 1013904223u) >> 24);
  return v;
}

}  // namespace

std::vector<int8_t> benchmark_input(int64_t bytes) { return lcg_bytes(bytes, 2026u); }

std::vector<BenchmarkCase> benchmark_grid(double max_macs) {
  std::vector<BenchmarkCase> grid;
  const int32_t maps[] = {4, 7, 8, 14, 16, 28};
  // Channel counts that are not multiples of 4 (5, 7, 10, 14, 20) too: the search keeps any width, and a general
  // convolution copies such inputs value by value, a regime 6 alone left the fit to extrapolate (issue 19).
  const int32_t channels[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64};
  const int32_t outs[] = {4, 8, 10, 16, 32, 64};
  for (const int32_t k : {3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : maps)
        for (const int32_t cin : channels)
          for (const int32_t cout : outs)
            grid.push_back({cin <= cost_models::kConvPlanarMaxInputs ? KernelPath::conv_planar : KernelPath::conv, hw,
                            hw, cin, cout, k, stride, k / 2});
  // First layers on the images of MLPerf Tiny's networks and larger (32 to 96 columns): the planes' per-row work
  // weighs differently there (MobileNetV1's 96×96×3 stem was priced 13 % low from the grid above alone).
  for (const int32_t k : {3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : {32, 48, 64, 96})
        for (const int32_t cin : {1, 2, 3})
          for (const int32_t cout : {4, 8, 16})
            grid.push_back({KernelPath::conv_planar, hw, hw, cin, cout, k, stride, k / 2});
  for (const int32_t hw : maps)
    for (const int32_t cin : channels)
      for (const int32_t cout : outs) grid.push_back({KernelPath::conv1x1, hw, hw, cin, cout, 1, 1, 0});
  // Depthwise in channel groups (maps of 3 to 16 columns) and on the planes (wider maps, up to MobileNetV1's 48,
  // and fewer than 4 channels): the kernel's rule decides each case's path.
  for (const int32_t k : {3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : {3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 36, 48})
        for (const int32_t c : channels) {
          const int32_t out = out_size(hw, k, stride, k / 2);
          const bool groups = cost_models::depthwise_runs_in_groups(c, {hw, hw, out, out, k, stride, k / 2});
          grid.push_back(
              {groups ? KernelPath::depthwise_groups : KernelPath::depthwise, hw, hw, c, c, k, stride, k / 2});
        }
  // Input counts that are not multiples of 8 too (12 .. 83): the four-row loop leaves their last values to C.
  for (const int32_t cin : {8, 12, 16, 20, 32, 36, 48, 64, 83, 128, 256, 512})
    for (const int32_t cout : {2, 10, 32, 100}) grid.push_back({KernelPath::fully_connected, 1, 1, cin, cout});
  // Reuse convolutions: sub-vector lengths and hash bits as the search offers them, over maps, channels and
  // kernels; a fixed stride through the combinations keeps about one in seven.
  int32_t reuse_index = 0;
  for (const int32_t k : {1, 3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : {4, 8, 14, 28})
        for (const int32_t cin : {1, 3, 8, 16, 32})
          for (const int32_t cout : {8, 16, 32})
            for (const int32_t len : {4, 9, 16})
              for (const int32_t bits : {2, 4, 6, 8})
                if (reuse_index++ % 7 == 0)
                  grid.push_back({KernelPath::reuse_conv, hw, hw, cin, cout, k, stride, k / 2, len, bits});
  for (const int32_t hw : maps)
    for (const int32_t c : {4, 8, 16, 32, 64}) {
      grid.push_back({KernelPath::global_avg_pool, hw, hw, c, c, hw, 1, 0});
      grid.push_back({KernelPath::max_pool, hw, hw, c, c, 2, 2, 0});
      grid.push_back({KernelPath::avg_pool, hw, hw, c, c, 3, 2, 1});
      grid.push_back({KernelPath::add, hw, hw, c, c});
    }
  // Every other shape of the big grids: the fit needs the spread, not every combination.
  std::vector<BenchmarkCase> kept;
  for (size_t i = 0; i < grid.size(); ++i) {
    const bool big = grid[i].path == KernelPath::conv || grid[i].path == KernelPath::conv_planar ||
                     grid[i].path == KernelPath::conv1x1;
    if ((!big || i % 2 == 0) && benchmark_work(grid[i]).macs <= max_macs) kept.push_back(grid[i]);
  }
  return kept;
}

Int8Model benchmark_model(const BenchmarkCase& c) {
  const Int8OpKind kind = kBenchmarkKind[cost_models::index_of(c.path)];
  const Int8OpRow& row = op_row(kind);
  Int8Model m;
  // Zero points -3 and -5: input offset 3, output offset -5, as every case has always used. A fully connected
  // case has a 1×1 input, a global pooling case a window of the whole map: both give 1×1 outputs.
  m.tensors = {{"input", c.in_h, c.in_w, c.in_c, {0.02, -3}},
               {"output", out_size(c.in_h, c.kernel, c.stride, c.pad), out_size(c.in_w, c.kernel, c.stride, c.pad),
                c.out_c, {0.05, -5}}};
  m.input = 0;
  m.output = 1;
  Int8Op op;
  op.kind = kind;
  op.name = std::string(cost_models::name_of(c.path));
  op.inputs = {0};
  op.output = 1;
  op.kernel_h = op.kernel_w = c.kernel;
  op.stride_h = op.stride_w = c.stride;
  op.pad_h = op.pad_w = c.pad;
  if (row.weighted) {
    // Values do not matter here: the firmware's calls read its own arrays (benchmark_main.c).
    op.weights.assign(row.weight_count(m.tensors[0], m.tensors[1], op), 0);
    op.bias.assign(static_cast<size_t>(c.out_c), 0);
    op.multiplier.assign(static_cast<size_t>(c.out_c), 1 << 30);
    op.shift.assign(static_cast<size_t>(c.out_c), -9);
  }
  op.mean = {3, -5, 1518500250, -9, -128, 127};
  // As TFLite's ADD quantises a residual join: the input with the larger scale rescaled by exactly 0.5 (multiplier
  // 2^30, shift 0), the other by less.
  op.add = {3, 1073741824, 0, -7, 1518500250, -2, 20, -5, 1518500250, -18, -128, 127};
  for (int32_t extra = 1; extra < row.inputs; ++extra) {
    m.tensors.push_back({"input" + std::to_string(extra + 1), c.in_h, c.in_w, c.in_c, {0.03, 7}});
    op.inputs.push_back(static_cast<int32_t>(m.tensors.size()) - 1);
  }
  if (kind == Int8OpKind::reuse_conv) {
    op.sub_len = c.sub_len;
    op.hash_bits = c.hash_bits;
    const std::vector<int8_t> p = lcg_bytes(int64_t{c.sub_len} * c.hash_bits, 7u + static_cast<uint32_t>(c.sub_len));
    op.projections = p;
  }
  m.ops.push_back(op);
  if (kind == Int8OpKind::reuse_conv)
    m.ops[0].reuse_rate = reuse_rate_on(m, m.ops[0], benchmark_input(m.tensors[0].bytes()).data());
  if (kernel_path(m, m.ops[0]) != c.path)
    throw Error("kernel benchmark", "a " + std::string(cost_models::name_of(c.path)) + " case runs on the " +
                                        std::string(cost_models::name_of(kernel_path(m, m.ops[0]))) + " path",
                Error::Kind::failure);
  return m;
}

cost_models::OpInfo<double> benchmark_work(const BenchmarkCase& c) { return op_graph(benchmark_model(c)).ops.at(0); }

Int8Model layer_code_probe() {
  Int8Model m;
  m.tensors = {{"input", 8, 8, 4, {0.02, -3}},  {"conv", 8, 8, 8, {0.05, 4}}, {"dw", 4, 4, 8, {0.04, -2}},
               {"pw", 4, 4, 8, {0.06, 1}},      {"pool", 1, 1, 8, {0.03, 0}}, {"fc", 1, 1, 4, {0.1, 5}}};
  m.input = 0;
  m.output = 5;
  auto op = [&](Int8OpKind kind, const char* name, int32_t in, int32_t k, int32_t stride, size_t weights,
                int32_t channels) {
    Int8Op o;
    o.kind = kind;
    o.name = name;
    o.inputs = {in};
    o.output = in + 1;
    o.kernel_h = o.kernel_w = k;
    o.stride_h = o.stride_w = stride;
    o.pad_h = o.pad_w = k / 2;
    for (size_t i = 0; i < weights; ++i) o.weights.push_back(static_cast<int8_t>(i * 37 % 255 - 127));
    o.bias.assign(static_cast<size_t>(channels), 100);
    o.multiplier.assign(static_cast<size_t>(channels), 1 << 30);
    o.shift.assign(static_cast<size_t>(channels), -4);
    m.ops.push_back(o);
  };
  op(Int8OpKind::conv, "conv", 0, 3, 1, 8 * 9 * 4, 8);
  op(Int8OpKind::depthwise, "dw", 1, 3, 2, 9 * 8, 8);
  op(Int8OpKind::conv, "pw", 2, 1, 1, 8 * 8, 8);
  op(Int8OpKind::global_avg_pool, "pool", 3, 1, 1, 0, 0);
  m.ops.back().mean = {-1, 0, 1 << 30, -3, -128, 127};
  op(Int8OpKind::fully_connected, "fc", 4, 1, 1, 8 * 4, 4);
  return m;
}

std::string benchmark_source(const std::vector<BenchmarkCase>& cases) {
  int64_t max_input = 1, max_output = 1, max_weights = 1, max_scratch = 1, max_channels = 1;
  std::ostringstream calls;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Int8Model m = benchmark_model(cases[i]);
    const Int8Op& op = m.ops[0];
    max_input = std::max(max_input, m.tensors[0].bytes());
    max_output = std::max(max_output, m.tensors[1].bytes());
    max_weights = std::max<int64_t>(max_weights, static_cast<int64_t>(op.weights.size()));
    max_channels = std::max<int64_t>(max_channels, static_cast<int64_t>(op.bias.size()));
    const int32_t scratch = scratch_bytes(m, op);
    max_scratch = std::max<int64_t>(max_scratch, scratch);
    // The operands as generated C passes them (the row's own emission), from the firmware's shared buffers; the
    // scratch at an odd address, as the arena may place it.
    const CallSite site{"input", "input2", "output", scratch > 0 ? "scratch + 1" : "NULL", "bench_"};
    calls << "static void mcunas_bench_case_" << i << "(void) {\n  MARK();\n";
    op_row(op.kind).emit(calls, op, kernel_call(m, op), site);
    calls << "}\n";
  }
  std::ostringstream h;
  h << "/* Generated by mcunas (nas calibrate) from the int8 operator rows: the kernel calls to count, each as\n"
    << " * generated C makes it (deploy/kernel_benchmark.cpp, deploy/int8_ops.cpp). Included by\n"
    << " * firmware/benchmark_main.c twice: for the sizes, then (MCUNAS_BENCH_CALLS) for the calls. */\n"
    << "#ifndef MCUNAS_BENCH_CASES\n#define MCUNAS_BENCH_CASES " << cases.size()
    << "\n#define MCUNAS_BENCH_MAX_INPUT " << max_input << "\n#define MCUNAS_BENCH_MAX_OUTPUT " << max_output
    << "\n#define MCUNAS_BENCH_MAX_WEIGHTS " << max_weights << "\n#define MCUNAS_BENCH_MAX_SCRATCH " << max_scratch
    << "\n#define MCUNAS_BENCH_MAX_CHANNELS " << max_channels << "\n#endif\n\n"
    << "#if defined(MCUNAS_BENCH_CALLS) && !defined(MCUNAS_BENCH_CALLS_DONE)\n#define MCUNAS_BENCH_CALLS_DONE\n"
    << calls.str() << "\nstatic void (*const mcunas_bench_cases[])(void) = {\n";
  for (size_t i = 0; i < cases.size(); ++i) h << "    mcunas_bench_case_" << i << ",\n";
  h << "};\n#endif\n";
  return h.str();
}

}  // namespace nas::deploy
