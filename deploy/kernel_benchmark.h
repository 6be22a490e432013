// The kernel calls `nas calibrate` counts on the emulated core (firmware/benchmark_main.c): a grid of shapes per
// kernel path wide enough to cover the search space (channels 1 to 64, maps 4×4 to 28×28, kernels 3 and 5, strides
// 1 and 2, first layers with 1 or 3 channels), each with the quantities the latency model prices
// (cost_models/kernel_work.h), computed by the same function the cost model uses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cost_models/op_graph.h"
#include "deploy/int8_model.h"

namespace nas::deploy {

struct BenchmarkCase {
  cost_models::KernelPath path = cost_models::KernelPath::conv;
  int32_t in_h = 1, in_w = 1, in_c = 1, out_c = 1, kernel = 1, stride = 1, pad = 0;
  int32_t sub_len = 0, hash_bits = 0;  // reuse_conv
};

// The grid, in a fixed order; calls above `max_macs` are left out (they add QEMU time, not information).
std::vector<BenchmarkCase> benchmark_grid(double max_macs = 4e6);

// The case as a one-operator int8 model: the operator kind whose row puts it on c.path, the case's shapes, fixed
// quantisation. A reuse convolution's projections come from a fixed generator, and its reuse rate is what the kernel
// gives on the firmware's input (benchmark_input), so the calibration prices each case at its real cluster count.
// Throws nas::Error (failure) if the row prices it on another path.
Int8Model benchmark_model(const BenchmarkCase& c);

// The first `bytes` values of the calibration firmware's input buffer (firmware/benchmark_main.c, fill()).
std::vector<int8_t> benchmark_input(int64_t bytes);

// The call's quantities for the latency model (macs, outputs, executed_macs, ...): op_graph of benchmark_model, the
// formula every deployed model is priced by.
cost_models::OpInfo<double> benchmark_work(const BenchmarkCase& c);

// A small int8 network with one layer of each kind the search produces (3×3 conv, depthwise, 1×1 conv, global
// pooling, fully connected) and fixed parameters, for measuring the flash one generated layer's call costs.
Int8Model layer_code_probe();

// benchmark_cases.h for firmware/benchmark_main.c: buffer sizes and, under MCUNAS_BENCH_CALLS, one function per
// case that marks and makes its kernel call as generated C does (each operator row's emission), and their table.
std::string benchmark_source(const std::vector<BenchmarkCase>& cases);

}  // namespace nas::deploy
