// The calibration firmware's cases (deploy/kernel_benchmark.h): each grid case is a one-operator int8 model whose
// row puts it on the path it calibrates, its latency quantities are the ones a deployed model of that shape is
// priced by, and the generated source makes each call with the row's own emission. QEMU runs that source in
// tests/integration/calibrate_test.sh.
#include "deploy/kernel_benchmark.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "cost_models/kernel_path.h"
#include "deploy/int8_ops.h"
#include "deploy/kernel_call.h"

namespace nas::deploy {
namespace {

using cost_models::KernelPath;

TEST(KernelBenchmark, EveryCaseIsAModelOnItsOwnPath) {
  const auto grid = benchmark_grid();
  ASSERT_GT(grid.size(), 1000u);
  std::set<KernelPath> paths;
  for (const auto& c : grid) {
    const Int8Model m = benchmark_model(c);  // throws if the row prices it elsewhere
    ASSERT_EQ(m.ops.size(), 1u);
    EXPECT_EQ(kernel_path(m, m.ops[0]), c.path);
    EXPECT_EQ(benchmark_work(c).path, c.path);
    paths.insert(c.path);
  }
  EXPECT_EQ(paths.size(), cost_models::kKernelPathCount);  // every path is calibrated
}

TEST(KernelBenchmark, ACaseIsPricedAsADeployedLayerOfItsShape) {
  // A 3×3 convolution, 8 -> 16 channels, stride 2 on 14×14 with padding 1: 7×7 outputs of 72 MACs per channel.
  const BenchmarkCase conv{KernelPath::conv, 14, 14, 8, 16, 3, 2, 1};
  const auto work = benchmark_work(conv);
  EXPECT_EQ(work.macs, 7.0 * 7 * 16 * 72);
  EXPECT_EQ(work.outputs, 7.0 * 7 * 16);
  EXPECT_EQ(work.weight_bytes, 16.0 * 72);
  // An add of two 8×8×4 maps: one output per element, two inputs.
  const BenchmarkCase add{KernelPath::add, 8, 8, 4, 4};
  const Int8Model m = benchmark_model(add);
  EXPECT_EQ(m.ops[0].inputs.size(), 2u);
  EXPECT_EQ(benchmark_work(add).outputs, 256.0);
}

TEST(KernelBenchmark, TheSourceMakesEachCallWithTheRowsEmission) {
  const std::vector<BenchmarkCase> cases = {{KernelPath::conv1x1, 8, 8, 16, 8, 1, 1, 0},
                                            {KernelPath::add, 4, 4, 8, 8},
                                            {KernelPath::fully_connected, 1, 1, 32, 10}};
  const std::string source = benchmark_source(cases);
  EXPECT_NE(source.find("#define MCUNAS_BENCH_CASES 3\n"), std::string::npos);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Int8Model m = benchmark_model(cases[i]);
    const int32_t scratch = scratch_bytes(m, m.ops[0]);
    std::ostringstream call;
    op_row(m.ops[0].kind)
        .emit(call, m.ops[0], kernel_call(m, m.ops[0]),
              {"input", "input2", "output", scratch > 0 ? "scratch + 1" : "NULL", "bench_"});
    const std::string function = "static void mcunas_bench_case_" + std::to_string(i) + "(void) {\n  MARK();\n";
    EXPECT_NE(source.find(function + call.str() + "}\n"), std::string::npos) << call.str();
    EXPECT_NE(source.find("    mcunas_bench_case_" + std::to_string(i) + ",\n"), std::string::npos);
  }
  EXPECT_NE(source.find("mcunas_add_s8(&params, 128, input, input2, output, NULL);"), std::string::npos);
}

}  // namespace
}  // namespace nas::deploy
