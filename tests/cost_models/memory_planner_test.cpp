#include "cost_models/memory_planner.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace nas::cost_models {
namespace {

template <class S>
void add_op(OpGraph<S>& g, const std::string& name, std::vector<int32_t> inputs, int32_t output, double scratch = 0,
            int32_t group = -1, int32_t choice = 0, S presence = S(1.0)) {
  OpInfo<S> op;
  op.name = name;
  op.inputs = std::move(inputs);
  op.output = output;
  op.scratch_bytes = S(scratch);
  op.group = group;
  op.choice = choice;
  op.presence = presence;
  g.ops.push_back(op);
}

// x → a → b → add(x, b) → y: x stays live across a and b because the add reads it last.
TEST(MemoryPlanner, ResidualKeepsItsInputAlive) {
  OpGraph<double> g;
  const int32_t x = g.add_tensor("x", 100);
  const int32_t a = g.add_tensor("a", 200);
  const int32_t b = g.add_tensor("b", 300);
  const int32_t y = g.add_tensor("y", 100);
  g.input = x;
  g.output = y;
  add_op(g, "conv_a", {x}, a, 10);
  add_op(g, "conv_b", {a}, b);
  add_op(g, "add", {x, b}, y, 5);
  // conv_a: x 100 + a 200 + scratch 10        = 310
  // conv_b: x 100 + a 200 + b 300             = 600  ← peak
  // add:    x 100 + b 300 + y 100 + scratch 5 = 505
  const auto report = liveness(g);
  EXPECT_EQ(report.live_bytes, (std::vector<double>{310, 600, 505}));
  EXPECT_EQ(report.peak_bytes, 600);
  EXPECT_EQ(report.peak_op, 1);
  EXPECT_EQ(peak_ram(g), 600);
}

// x → p, x → q, add(p, q) → z.
TEST(MemoryPlanner, DiamondHoldsBothBranches) {
  OpGraph<double> g;
  const int32_t x = g.add_tensor("x", 50);
  const int32_t p = g.add_tensor("p", 80);
  const int32_t q = g.add_tensor("q", 120);
  const int32_t z = g.add_tensor("z", 60);
  g.input = x;
  g.output = z;
  add_op(g, "left", {x}, p, 7);
  add_op(g, "right", {x}, q);
  add_op(g, "add", {p, q}, z, 3);
  // left:  x 50 + p 80 + scratch 7          = 137
  // right: x 50 + p 80 + q 120              = 250 (x's last reader)
  // add:   p 80 + q 120 + z 60 + scratch 3  = 263 ← peak
  const auto report = liveness(g);
  EXPECT_EQ(report.live_bytes, (std::vector<double>{137, 250, 263}));
  EXPECT_EQ(report.peak_bytes, 263);
  EXPECT_EQ(report.peak_op, 2);
}

TEST(MemoryPlanner, ScratchCountsOnlyAtItsOp) {
  OpGraph<double> g;
  const int32_t x = g.add_tensor("x", 10);
  const int32_t a = g.add_tensor("a", 10);
  const int32_t b = g.add_tensor("b", 10);
  g.input = x;
  g.output = b;
  add_op(g, "im2col", {x}, a, 1000);  // x 10 + a 10 + 1000 = 1020
  add_op(g, "next", {a}, b);          // a 10 + b 10         = 20
  EXPECT_EQ(liveness(g).live_bytes, (std::vector<double>{1020, 20}));
  EXPECT_EQ(peak_ram(g), 1020);
}

// x → conv → a → dw → b → conv → y, the depthwise op allowed to write over its input (the same size).
OpGraph<double> depthwise_chain(bool residual) {
  OpGraph<double> g;
  const int32_t x = g.add_tensor("x", 100);
  const int32_t a = g.add_tensor("a", 200);
  const int32_t b = g.add_tensor("b", 200);
  const int32_t y = g.add_tensor("y", 50);
  g.input = x;
  g.output = y;
  add_op(g, "conv", {x}, a, 10);
  add_op(g, "dw", {a}, b, 30);
  g.ops.back().writes_over_input = true;
  if (residual) {  // a read again after the depthwise op: it must stay whole
    const int32_t c = g.add_tensor("c", 200);
    add_op(g, "add", {b, a}, c);
    add_op(g, "pw", {c}, y);
  } else {
    add_op(g, "pw", {b}, y);
  }
  return g;
}

TEST(MemoryPlanner, AnOpWritingOverItsDyingInputCountsItOnce) {
  // conv 100 + 200 + 10 = 310; dw: a 200 (b inside it) + scratch 30 = 230, not 430; pw 200 + 50 = 250.
  auto g = depthwise_chain(false);
  EXPECT_EQ(liveness(g).live_bytes, (std::vector<double>{310, 230, 250}));
  EXPECT_EQ(peak_ram(g), 310);
  // Without the kernel's leave the depthwise op holds both.
  g.ops[1].writes_over_input = false;
  EXPECT_EQ(liveness(g).live_bytes, (std::vector<double>{310, 430, 250}));
  // Its input read later (a residual join): a stays, b takes its own bytes. dw: 200 + 200 + 30; add: a + b + c.
  EXPECT_EQ(liveness(depthwise_chain(true)).live_bytes, (std::vector<double>{310, 430, 600, 250}));
}

// A block with two alternatives: choice 0 is one conv x → y; choice 1 is a depthwise x → m then a pointwise
// m → y. Then a head op y → z.
template <class S>
OpGraph<S> alternatives(S p0, S p1) {
  OpGraph<S> g;
  const int32_t x = g.add_tensor("x", S(100.0));
  const int32_t m = g.add_tensor("m", S(150.0));
  const int32_t y = g.add_tensor("y", S(80.0));
  const int32_t z = g.add_tensor("z", S(10.0));
  g.input = x;
  g.output = z;
  add_op<S>(g, "conv", {x}, y, 20, 0, 0, p0);
  add_op<S>(g, "dw", {x}, m, 30, 0, 1, p1);
  add_op<S>(g, "pw", {m}, y, 0, 0, 1, p1);
  add_op<S>(g, "head", {y}, z);
  return g;
}

TEST(MemoryPlanner, OneHotAlternativeIsPlannedAsIfAloneRan) {
  // Choice 0 alone: conv: x 100 + y 80 + scratch 20 = 200; head: y 80 + z 10 = 90.
  EXPECT_EQ(peak_ram(alternatives(1.0, 0.0)), 200);
  // Choice 1 alone: dw: x 100 + m 150 + scratch 30 = 280; pw: m 150 + y 80 = 230 (x is dead: the conv that also
  // reads it does not run); head 90.
  const auto g = alternatives(0.0, 1.0);
  EXPECT_EQ(peak_ram(g), 280);
  const auto report = liveness(g);
  EXPECT_EQ(report.live_bytes[1], 280);
  EXPECT_EQ(report.live_bytes[2], 230);
  EXPECT_EQ(report.peak_op, 1);
  // Neither (the skip case): what is live entering the block, x 100; the head's 90 is smaller.
  EXPECT_EQ(peak_ram(alternatives(0.0, 0.0)), 100);
}

TEST(MemoryPlanner, AnAlternativeWritesOverTheBlockInputOnlyWhenItIsTheLastReader) {
  // Choice 1's depthwise op writes m (made x's size) over x: dw: x 100 + scratch 30 = 130; pw: m 100 + y 80 = 180.
  auto g = alternatives(0.0, 1.0);
  g.tensors[1].bytes = 100.0;
  g.ops[1].writes_over_input = true;
  EXPECT_EQ(liveness(g).live_bytes[1], 130);
  EXPECT_EQ(peak_ram(g), 180);
  // Soft: choice 0's conv also reads x, but each choice is planned as if it alone ran, so the depthwise op still
  // writes over x in its own plan: 0.5·200 + 0.5·180.
  EXPECT_DOUBLE_EQ(peak_ram([&] {
    auto soft = g;
    soft.ops[0].presence = 0.5;
    soft.ops[1].presence = soft.ops[2].presence = 0.5;
    return soft;
  }()), 190);
}

TEST(MemoryPlanner, SoftAlternativesGiveTheExpectedPeakAndItsGradient) {
  // 0.25·200 + 0.75·280 + (1 − 1)·100 = 260
  EXPECT_DOUBLE_EQ(peak_ram(alternatives(0.25, 0.75)), 260);
  // With room for skip: 0.2·200 + 0.5·280 + 0.3·100 = 210, so ∂/∂p0 = 200 − 100, ∂/∂p1 = 280 − 100.
  const Dual peak = peak_ram(alternatives(Dual::variable(0.2, 0, 2), Dual::variable(0.5, 1, 2)));
  EXPECT_DOUBLE_EQ(peak.v, 210);
  EXPECT_DOUBLE_EQ(peak.grad(0), 100);
  EXPECT_DOUBLE_EQ(peak.grad(1), 180);
}

TEST(MemoryPlanner, RejectsSplitGroups) {
  OpGraph<double> g;
  const int32_t x = g.add_tensor("x", 1);
  g.input = x;
  add_op(g, "a", {x}, x, 0, 0);
  add_op(g, "b", {x}, x, 0, -1);
  add_op(g, "c", {x}, x, 0, 0);
  const auto message = test_support::error_of([&] { peak_ram(g); });
  EXPECT_TRUE(test_support::contains(message, "not contiguous")) << message;
}

}  // namespace
}  // namespace nas::cost_models
