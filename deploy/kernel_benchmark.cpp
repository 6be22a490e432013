#include "deploy/kernel_benchmark.h"

#include <algorithm>
#include <sstream>

#include "cost_models/kernel_scratch.h"
#include "cost_models/kernel_work.h"

namespace nas::deploy {

namespace {

using cost_models::KernelPath;

int32_t out_size(int32_t in, int32_t kernel, int32_t stride, int32_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace

std::vector<BenchmarkCase> benchmark_grid(double max_macs) {
  std::vector<BenchmarkCase> grid;
  const int32_t maps[] = {4, 7, 8, 14, 16, 28};
  const int32_t channels[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
  const int32_t outs[] = {4, 8, 10, 16, 32, 64};
  for (const int32_t k : {3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : maps)
        for (const int32_t cin : channels)
          for (const int32_t cout : outs)
            grid.push_back({cin <= cost_models::kConvPlanarMaxInputs ? KernelPath::conv_planar : KernelPath::conv, hw,
                            hw, cin, cout, k, stride, k / 2});
  for (const int32_t hw : maps)
    for (const int32_t cin : channels)
      for (const int32_t cout : outs) grid.push_back({KernelPath::conv1x1, hw, hw, cin, cout, 1, 1, 0});
  for (const int32_t k : {3, 5})
    for (const int32_t stride : {1, 2})
      for (const int32_t hw : maps)
        for (const int32_t c : channels) grid.push_back({KernelPath::depthwise, hw, hw, c, c, k, stride, k / 2});
  for (const int32_t cin : {8, 16, 32, 48, 64, 128, 256, 512})
    for (const int32_t cout : {2, 10, 32, 100}) grid.push_back({KernelPath::fully_connected, 1, 1, cin, cout});
  for (const int32_t hw : maps)
    for (const int32_t c : {4, 8, 16, 32, 64}) {
      grid.push_back({KernelPath::global_avg_pool, hw, hw, c, c});
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

cost_models::OpInfo<double> benchmark_work(const BenchmarkCase& c) {
  cost_models::OpInfo<double> op;
  op.path = c.path;
  cost_models::CallShape shape{c.in_h, c.in_w, 1, 1, c.kernel, c.stride, c.pad};
  switch (c.path) {
    case KernelPath::global_avg_pool:
      shape.kernel = c.in_h;
      break;
    case KernelPath::fully_connected:
      break;
    default:
      shape.out_h = out_size(c.in_h, c.kernel, c.stride, c.pad);
      shape.out_w = out_size(c.in_w, c.kernel, c.stride, c.pad);
  }
  cost_models::set_kernel_work(op, static_cast<double>(c.in_c), static_cast<double>(c.out_c), shape);
  return op;
}

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

std::string benchmark_header(const std::vector<BenchmarkCase>& cases) {
  int64_t max_input = 1, max_output = 1, max_weights = 1, max_scratch = 1, max_channels = 1;
  for (const auto& c : cases) {
    const auto op = benchmark_work(c);
    max_input = std::max<int64_t>(max_input, int64_t{c.in_h} * c.in_w * c.in_c);
    max_output = std::max<int64_t>(max_output, static_cast<int64_t>(op.outputs));
    max_weights = std::max<int64_t>(max_weights, int64_t{c.out_c} * c.kernel * c.kernel * c.in_c);
    // The firmware passes scratch to the convolutions and depthwise only (benchmark_main.c); the others take none.
    if (c.path == KernelPath::depthwise || c.path == KernelPath::conv || c.path == KernelPath::conv_planar ||
        c.path == KernelPath::conv1x1) {
      cost_models::ScratchCall call = cost_models::conv_scratch_call(c.in_h, c.in_w, c.kernel, c.stride, c.pad);
      call.input.c = call.filter.c = c.in_c;
      max_scratch = std::max<int64_t>(max_scratch, cost_models::kernel_scratch_bytes(c.path, call));
    }
    max_channels = std::max<int64_t>(max_channels, std::max(c.in_c, c.out_c));
  }
  std::ostringstream h;
  h << "/* Generated by mcunas (nas calibrate): the kernel calls to count, deploy/kernel_benchmark.cpp. */\n"
    << "#include <stdint.h>\n\n";
  for (size_t p = 0; p < cost_models::kKernelPathCount; ++p) {
    std::string name(cost_models::kKernelPathNames[p]);
    std::transform(name.begin(), name.end(), name.begin(), [](char ch) { return static_cast<char>(std::toupper(ch)); });
    h << "#define MCUNAS_BENCH_" << name << " " << p << "\n";
  }
  h << "#define MCUNAS_BENCH_CASES " << cases.size() << "\n#define MCUNAS_BENCH_MAX_INPUT " << max_input
    << "\n#define MCUNAS_BENCH_MAX_OUTPUT " << max_output << "\n#define MCUNAS_BENCH_MAX_WEIGHTS " << max_weights
    << "\n#define MCUNAS_BENCH_MAX_SCRATCH " << max_scratch << "\n#define MCUNAS_BENCH_MAX_CHANNELS " << max_channels
    << "\n\ntypedef struct {\n  int32_t path, in_h, in_w, in_c, out_c, kernel, stride, pad;\n} mcunas_bench_case;\n\n"
    << "static const mcunas_bench_case mcunas_bench_cases[MCUNAS_BENCH_CASES] = {\n";
  for (const auto& c : cases)
    h << "    {" << static_cast<int>(c.path) << ", " << c.in_h << ", " << c.in_w << ", " << c.in_c << ", " << c.out_c
      << ", " << c.kernel << ", " << c.stride << ", " << c.pad << "},\n";
  h << "};\n";
  return h.str();
}

}  // namespace nas::deploy
