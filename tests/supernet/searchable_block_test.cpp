#include "supernet/searchable_block.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <memory>

#include "common/error.h"
#include "tests/common/test_support.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

// A block choosing among conv3x3, dwsep3x3 and skip on 4 → 4 channels, stride 1.
SearchBlock spec(int32_t stride = 1) {
  SearchBlock block{"b", 4, stride, {{OpKind::conv, 3}, {OpKind::dwsep, 3}}};
  if (stride == 1) block.ops.push_back({OpKind::skip, 0});
  return block;
}

const Shape kInput{3, 5, 5, 4};

// The architecture parameters of one block in their own store, as SuperNet lays them out.
struct Arch {
  ParamStore store;
  int32_t logits = -1, widths = -1;

  explicit Arch(SearchableBlock& block) {
    logits = store.declare("b.op_logits", static_cast<int64_t>(block.op_count()), ParamRole::no_decay);
    widths = store.declare("b.width_logits", static_cast<int64_t>(block.widths().size()), ParamRole::no_decay);
    store.allocate();
    // Unequal logits over the ops and over the widths 1, 2, 3, 4.
    const float logits_init[] = {0.3f, -0.2f, 0.5f, -0.1f, 0.2f};
    EXPECT_LE(block.op_count(), std::size(logits_init));
    for (size_t j = 0; j < block.op_count() && j < std::size(logits_init); ++j) store.value(logits)[j] = logits_init[j];
    const float width_init[] = {-0.4f, 0.6f, 0.1f, 0.2f};
    for (size_t k = 0; k < 4; ++k) store.value(widths)[k] = width_init[k];
    block.bind_arch(store, logits, widths);
  }
};

Tensor random_tensor(Shape shape, uint64_t seed) {
  Rng rng(seed);
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.normal());
  return t;
}

// Weight and input gradients of the selected op, through the mask, against central differences; or, with
// `op` = kMixture, of the mixture of every op and width.
constexpr size_t kMixture = 99;

void expect_gradients_match(size_t op, int32_t stride) {
  SearchableBlock block(spec(stride));
  Arch arch(block);
  if (op == kMixture) {
    block.set_mode(BlockMode::mixture);
  } else {
    block.select(op);
    block.select_width(2);  // 3 of 4 channels
  }
  block.set_tau(0.7);
  // A small step: two BatchNorm+ReLU stages in a row put some outputs near a kink, where a larger step would
  // straddle it (as the BatchNorm tests explain).
  testing::GradCheckOptions options;
  options.h = 1e-3;
  const auto report = testing::gradcheck(block, {kInput}, options);
  EXPECT_GT(report.checked, 0);
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(SearchableBlock, ConvGradientsMatchCentralDifferences) { expect_gradients_match(0, 1); }
TEST(SearchableBlock, DwsepGradientsMatchCentralDifferences) { expect_gradients_match(1, 1); }
TEST(SearchableBlock, SkipGradientsMatchCentralDifferences) { expect_gradients_match(2, 1); }
TEST(SearchableBlock, StridedConvGradientsMatchCentralDifferences) { expect_gradients_match(0, 2); }
TEST(SearchableBlock, StridedDwsepGradientsMatchCentralDifferences) { expect_gradients_match(1, 2); }
TEST(SearchableBlock, MixtureGradientsMatchCentralDifferences) { expect_gradients_match(kMixture, 1); }

// conv3x3 computes with the centre of conv5x5's kernel, dwsep3x3 with the centre of dwsep5x5's depthwise kernel and
// its pointwise weights: the gradients land in the shared weights and match central differences there.
TEST(SearchableBlock, SharedKernelGradientsMatchCentralDifferences) {
  for (const size_t op : {size_t{0}, size_t{2}}) {
    SearchBlock shared{"b", 4, 1, {{OpKind::conv, 3}, {OpKind::conv, 5}, {OpKind::dwsep, 3}, {OpKind::dwsep, 5}}};
    shared.share_kernels = true;
    SearchableBlock block(shared);
    Arch arch(block);
    block.select(op);
    block.select_width(3);
    testing::GradCheckOptions options;
    options.h = 1e-3;
    const auto report = testing::gradcheck(block, {kInput}, options);
    EXPECT_GT(report.checked, 0);
    EXPECT_LT(report.relative_error, testing::kRelativeBound) << "op " << op << ": " << report.worst;
    EXPECT_TRUE(block.stage_slots(op, 0).empty());      // no weights of its own
    EXPECT_FALSE(block.stage_slots(op + 1, 0).empty());  // the larger kernel holds them
  }
}

// The 3×3 candidate is exactly a 3×3 convolution with the centre taps of the 5×5 weights.
TEST(SearchableBlock, ASmallKernelIsTheCentreOfTheLargeOne) {
  SearchBlock shared{"b", 4, 1, {{OpKind::conv, 3}, {OpKind::conv, 5}}};
  shared.share_kernels = true;
  SearchableBlock block(shared);
  ParamStore weights = testing::prepare_layer(block, {kInput}, 3);
  Arch arch(block);
  const std::vector<float> big = block.conv_weights(1, 0), small = block.conv_weights(0, 0);
  ASSERT_EQ(big.size(), 25u * 4 * 4);
  ASSERT_EQ(small.size(), 9u * 4 * 4);
  for (int32_t kh = 0; kh < 3; ++kh)
    for (int32_t kw = 0; kw < 3; ++kw)
      for (int32_t i = 0; i < 16; ++i)
        ASSERT_EQ(small[static_cast<size_t>((kh * 3 + kw) * 16 + i)],
                  big[static_cast<size_t>(((kh + 1) * 5 + kw + 1) * 16 + i)]);
  SearchableBlock separate(SearchBlock{"b", 4, 1, {{OpKind::conv, 3}, {OpKind::conv, 5}}});  // the default
  testing::prepare_layer(separate, {kInput}, 3);
  EXPECT_FALSE(separate.stage_slots(0, 0).empty());
}
TEST(SearchableBlock, StridedMixtureGradientsMatchCentralDifferences) { expect_gradients_match(kMixture, 2); }

// A block ready to run: weights in their own store, θ_a in Arch, a forward and backward with a random projection.
struct BlockRun {
  std::unique_ptr<SearchableBlock> block = std::make_unique<SearchableBlock>(spec());
  ParamStore weights = testing::prepare_layer(*block, {kInput}, 3);
  Arch arch{*block};
  Tensor input = random_tensor(kInput, 5), projection = random_tensor(kInput, 6), output, grad_input;

  void forward_backward(size_t op, size_t width = 2) {
    block->select(op);
    block->select_width(width);
    const Tensor* ins[] = {&input};
    block->forward(ins, output, true);
    Tensor* grads[] = {&grad_input};
    block->backward(ins, output, projection, grads);
  }
  double projected(const Tensor& t) const {
    double sum = 0;
    for (int64_t i = 0; i < t.size(); ++i) sum += double{t[i]} * projection[i];
    return sum;
  }
};

// The logits' straight-through gradient is exactly the gradient at θ0 of L(θ) = Σ r ⊙ out · (1 + p_i(θ) − p_i(θ0)):
// the output scaled by a factor that is 1 at θ0 and moves with p_i, GDAS's h = one_hot − p.detach() + p.
TEST(SearchableBlock, LogitGradientIsTheStraightThroughSoftmaxGradient) {
  for (size_t op = 0; op < 3; ++op) {
    BlockRun run;
    run.block->set_tau(0.7);
    run.forward_backward(op);
    const double base = run.projected(run.output);
    const double p0 = run.block->op_probabilities()[op];
    const auto analytic = run.arch.store.grad(run.arch.logits);
    const std::vector<float> expected(analytic.begin(), analytic.end());
    testing::GradCheckOptions options;
    options.h = 1e-3;
    testing::GradientComparison comparison(options);
    comparison.check(run.arch.store.value(run.arch.logits), expected,
                     [&] { return base * (1.0 + run.block->op_probabilities()[op] - p0); }, "logits");
    const auto report = comparison.finish();
    EXPECT_EQ(report.checked, 3);
    EXPECT_LT(report.relative_error, 1e-4) << "op " << op << ": " << report.worst;
    // The gradients sum to zero (softmax is invariant to a shift of all logits) and are not all zero.
    EXPECT_NEAR(expected[0] + expected[1] + expected[2], 0.0, 1e-5);
    EXPECT_GT(std::abs(expected[op]), 1e-3);
  }
}

// The width logits' straight-through gradient is the same construction over the width softmax.
TEST(SearchableBlock, WidthLogitGradientIsTheStraightThroughSoftmaxGradient) {
  for (size_t width = 0; width < 4; ++width) {
    BlockRun run;
    run.block->set_tau(0.7);
    run.forward_backward(0, width);
    const double base = run.projected(run.output);
    const double q0 = run.block->width_probabilities()[width];
    const auto analytic = run.arch.store.grad(run.arch.widths);
    const std::vector<float> expected(analytic.begin(), analytic.end());
    testing::GradCheckOptions options;
    options.h = 1e-3;
    testing::GradientComparison comparison(options);
    comparison.check(run.arch.store.value(run.arch.widths), expected,
                     [&] { return base * (1.0 + run.block->width_probabilities()[width] - q0); }, "width logits");
    EXPECT_LT(comparison.finish().relative_error, 1e-4) << "width " << width;
  }
}

TEST(SearchableBlock, AWidthKeepsTheFirstChannels) {
  BlockRun run;
  run.forward_backward(0, 1);  // width 2 of 4
  const Tensor& op_out = run.block->op_output();
  for (int64_t i = 0; i < run.output.size(); ++i) ASSERT_EQ(run.output[i], i % 4 < 2 ? op_out[i] : 0.0f);
  EXPECT_EQ(run.block->strongest_channels(3), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(run.block->kept_channel_indices(), (std::vector<int32_t>{0, 1}));  // argmax width: the second
}

// In the mixture the output is Σ_i p_i op_i(x) ⊙ M + p_skip x with M_c = P(width > c), and the θ_a gradient is
// exactly that function's gradient.
TEST(SearchableBlock, MixtureIsTheExpectationAndItsLogitGradientsAreExact) {
  BlockRun run;
  run.block->set_tau(0.8);
  const std::vector<double> keep = run.block->channel_keep_probabilities();
  const std::vector<double> q = run.block->width_probabilities();
  EXPECT_DOUBLE_EQ(keep[0], 1.0);
  EXPECT_NEAR(keep[1], 1.0 - q[0], 1e-12);
  EXPECT_NEAR(keep[3], q[3], 1e-12);
  // Each op alone, then the mixture.
  std::vector<Tensor> alone;
  for (size_t op = 0; op < 3; ++op) {
    run.forward_backward(op, 3);  // widest: unmasked
    alone.push_back(run.output);
  }
  run.block->set_mode(BlockMode::mixture);
  run.forward_backward(0);
  const std::vector<double> p = run.block->op_probabilities();
  for (int64_t i = 0; i < run.output.size(); ++i) {
    const double m = keep[static_cast<size_t>(i % 4)];
    ASSERT_NEAR(run.output[i], (p[0] * alone[0][i] + p[1] * alone[1][i]) * m + p[2] * alone[2][i], 1e-5);
  }
  const auto op_grad = run.arch.store.grad(run.arch.logits);
  const auto width_grad = run.arch.store.grad(run.arch.widths);
  std::vector<float> expected(op_grad.begin(), op_grad.end());
  expected.insert(expected.end(), width_grad.begin(), width_grad.end());
  auto projected_output = [&] {
    const Tensor* ins[] = {&run.input};
    run.block->forward(ins, run.output, true);
    return run.projected(run.output);
  };
  testing::GradCheckOptions options;
  options.h = 1e-3;
  testing::GradientComparison comparison(options);
  comparison.check(run.arch.store.value(run.arch.logits), std::span<const float>(expected).subspan(0, 3),
                   projected_output, "op logits");
  comparison.check(run.arch.store.value(run.arch.widths), std::span<const float>(expected).subspan(3),
                   projected_output, "width logits");
  const auto report = comparison.finish();
  EXPECT_EQ(report.checked, 7);
  EXPECT_LT(report.relative_error, 1e-3) << report.worst;
}

TEST(SearchableBlock, SkipPassesTheInputThroughAndIgnoresTheMask) {
  BlockRun run;
  run.forward_backward(2);
  for (int64_t i = 0; i < run.input.size(); ++i) {
    ASSERT_EQ(run.output[i], run.input[i]);
    ASSERT_EQ(run.grad_input[i], run.projection[i]);
  }
  for (float g : run.arch.store.grad(run.arch.widths)) EXPECT_EQ(g, 0.0f);
  for (float g : run.weights.grads()) EXPECT_EQ(g, 0.0f);  // no candidate with weights ran
}

// The network writes gradients rather than accumulating them, so a candidate that did not run must report zeros,
// not the gradient of the last step it ran in.
TEST(SearchableBlock, UnselectedOpsHaveZeroWeightGradients) {
  BlockRun run;
  auto slot_grads = [&](size_t op) {
    double sum = 0;
    for (size_t s = 0; s < run.block->stage_count(op); ++s)
      for (int32_t slot : run.block->stage_slots(op, s)) {
        if (run.weights.slots()[static_cast<size_t>(slot)].role == ParamRole::state) continue;
        for (float g : run.weights.grad(slot)) sum += std::abs(g);
      }
    return sum;
  };
  run.forward_backward(0);
  EXPECT_GT(slot_grads(0), 0.0);
  EXPECT_EQ(slot_grads(1), 0.0);
  run.forward_backward(1);
  EXPECT_EQ(slot_grads(0), 0.0);
  EXPECT_GT(slot_grads(1), 0.0);
  EXPECT_EQ(run.block->stage_count(0), 2u);
  EXPECT_EQ(run.block->stage_count(1), 4u);
  EXPECT_EQ(run.block->stage_count(2), 0u);
}

// Inverted residuals: mbconv3x3_e3 and mbconv5x5_e1 on 4 → 4 channels (residual at stride 1), conv3x3 beside them.
SearchBlock mbconv_spec(int32_t stride) {
  SearchBlock block{"b", 4, stride, {{OpKind::mbconv, 3, 3, stride == 1}, {OpKind::mbconv, 5, 1, stride == 1},
                                     {OpKind::conv, 3}}};
  return block;
}

// The block reading a previous block whose output keeps 3 of its 4 channels (or, in mixture mode, a soft keep):
// the residual branch projects onto those channels and the hidden channels follow them.
struct SourcedBlock {
  SearchableBlock previous{SearchBlock{"a", 4, 1, {{OpKind::conv, 3}}}};
  ParamStore previous_weights = testing::prepare_layer(previous, {kInput}, 11);
  Arch previous_arch{previous};
  SearchableBlock block;
  explicit SourcedBlock(int32_t stride, BlockMode previous_mode) : SourcedBlock(mbconv_spec(stride), previous_mode) {}
  SourcedBlock(SearchBlock spec, BlockMode previous_mode) : block(std::move(spec)) {
    previous.set_mode(previous_mode);
    previous.select_width(2);  // 3 of 4 channels in sampled mode
    Tensor input = random_tensor(kInput, 12), output;
    const Tensor* ins[] = {&input};
    previous.forward(ins, output, true);
    block.set_input_source(&previous);
  }
};

void expect_mbconv_gradients_match(size_t op, int32_t stride, BlockMode mode) {
  SourcedBlock sourced(stride, mode);
  SearchableBlock& block = sourced.block;
  Arch arch(block);
  if (mode == BlockMode::mixture) {
    block.set_mode(BlockMode::mixture);
  } else {
    block.select(op);
    block.select_width(1);  // 2 of 4 channels: a residual candidate ignores it, the others are masked
  }
  block.set_tau(0.7);
  testing::GradCheckOptions options;
  // Three BatchNorms and two ReLU6 (kinks at 0 and 6) in a row: a step of 1e-3 straddles a kink for a few of the
  // elements, 1e-4 drowns in float rounding; 3e-4 sits between the two.
  options.h = 3e-4;
  const auto report = testing::gradcheck(block, {kInput}, options);
  EXPECT_GT(report.checked, 0);
  EXPECT_LT(report.relative_error, testing::kRelativeBound)
      << "op " << op << " stride " << stride << ": " << report.worst;
}

TEST(SearchableBlock, ResidualMbconvGradientsMatchCentralDifferences) {
  expect_mbconv_gradients_match(0, 1, BlockMode::sampled);
  expect_mbconv_gradients_match(1, 1, BlockMode::sampled);
}
TEST(SearchableBlock, StridedMbconvGradientsMatchCentralDifferences) {
  expect_mbconv_gradients_match(0, 2, BlockMode::sampled);
  expect_mbconv_gradients_match(1, 2, BlockMode::sampled);
}
TEST(SearchableBlock, MbconvMixtureGradientsMatchCentralDifferences) {
  expect_mbconv_gradients_match(0, 1, BlockMode::mixture);
  expect_mbconv_gradients_match(0, 2, BlockMode::mixture);
}

// share_expansions: mbconv3x3_e1 and _e3 compute with mbconv3x3_e6's hidden channels — for input channel i, the
// first E' of its six (i·6 + e, e < E'): the expand filters, the depthwise channels and the projection's rows.
SearchBlock expansion_spec(bool share_kernels) {
  SearchBlock block{"b", 4, 1, {{OpKind::mbconv, 3, 1, true}, {OpKind::mbconv, 3, 3, true},
                                {OpKind::mbconv, share_kernels ? 5 : 3, 6, true}}};
  block.share_expansions = true;
  block.share_kernels = share_kernels;
  return block;
}

TEST(SearchableBlock, AnExpansionIsASubsetOfTheLargestExpansionsHiddenChannels) {
  SearchableBlock block(expansion_spec(false));
  ParamStore weights = testing::prepare_layer(block, {kInput}, 3);
  Arch arch(block);
  const int32_t cin = 4, cout = 4, big_e = 6;
  // Stages: e6 and e3 {expand, bn, dw, bn, project, bn}; e1 {dw, bn, project, bn}.
  const std::vector<float> expand6 = block.conv_weights(2, 0), dw6 = block.conv_weights(2, 2),
                           project6 = block.conv_weights(2, 4);
  for (const int32_t e : {1, 3}) {
    const size_t op = e == 1 ? 0 : 1, dw_stage = e == 1 ? 0 : 2, project_stage = e == 1 ? 2 : 4;
    auto big = [&](int32_t h) { return h / e * big_e + h % e; };  // its hidden channel h in e6's
    if (e > 1) {
      const std::vector<float> expand = block.conv_weights(op, 0);  // [cin][e·cin]
      ASSERT_EQ(expand.size(), static_cast<size_t>(cin * e * cin));
      for (int32_t i = 0; i < cin; ++i)
        for (int32_t h = 0; h < e * cin; ++h)
          ASSERT_EQ(expand[static_cast<size_t>(i * e * cin + h)],
                    expand6[static_cast<size_t>(i * big_e * cin + big(h))]);
      EXPECT_TRUE(block.stage_slots(op, 0).empty());
      EXPECT_FALSE(block.stage_slots(op, 1).empty());  // its own BatchNorm
    }
    const std::vector<float> dw = block.conv_weights(op, dw_stage);  // [9][e·cin]
    for (int32_t tap = 0; tap < 9; ++tap)
      for (int32_t h = 0; h < e * cin; ++h)
        ASSERT_EQ(dw[static_cast<size_t>(tap * e * cin + h)], dw6[static_cast<size_t>(tap * big_e * cin + big(h))]);
    const std::vector<float> project = block.conv_weights(op, project_stage);  // [e·cin][cout]
    for (int32_t h = 0; h < e * cin; ++h)
      for (int32_t o = 0; o < cout; ++o)
        ASSERT_EQ(project[static_cast<size_t>(h * cout + o)], project6[static_cast<size_t>(big(h) * cout + o)]);
    EXPECT_TRUE(block.stage_slots(op, dw_stage).empty());
    EXPECT_TRUE(block.stage_slots(op, project_stage).empty());
  }
  EXPECT_FALSE(block.stage_slots(2, 0).empty());  // e6 holds the weights
  SearchableBlock separate(SearchBlock{"b", 4, 1, {{OpKind::mbconv, 3, 3, true}, {OpKind::mbconv, 3, 6, true}}});
  testing::prepare_layer(separate, {kInput}, 3);
  EXPECT_FALSE(separate.stage_slots(0, 0).empty());  // the default: each expansion its own
}

// The gradients of a candidate that computes with a larger one's hidden channels (and, with share_kernels, the
// centre of its 5×5 kernel) land in those shared weights and match central differences there.
TEST(SearchableBlock, SharedExpansionGradientsMatchCentralDifferences) {
  for (const bool share_kernels : {false, true})
    for (const size_t op : {size_t{0}, size_t{1}}) {
      SourcedBlock sourced(expansion_spec(share_kernels), BlockMode::sampled);
      SearchableBlock& block = sourced.block;
      Arch arch(block);
      block.select(op);
      block.select_width(1);
      testing::GradCheckOptions options;
      options.h = 3e-4;  // as for the other mbconv checks
      // Two ReLU6 stages on the hidden channels: of the 400 sampled elements per tensor, the default sample has one
      // whose ±h step moves a pre-activation across a kink (the unshared candidates fail the same way there); this
      // one has none. A wrong gradient errs on every element, by order 1.
      options.seed = 1;
      const auto report = testing::gradcheck(block, {kInput}, options);
      EXPECT_GT(report.checked, 0);
      EXPECT_LT(report.relative_error, testing::kRelativeBound)
          << "op " << op << " share_kernels " << share_kernels << ": " << report.worst;
    }
}

// The mixture's operator and width logit gradients with residual candidates (their identity branch and their
// masked projection in dL/dp, nothing of theirs in dL/dM) against central differences.
TEST(SearchableBlock, MbconvMixtureLogitGradientsAreExact) {
  SourcedBlock sourced(1, BlockMode::mixture);
  SearchableBlock& block = sourced.block;
  ParamStore weights = testing::prepare_layer(block, {kInput}, 15);
  Arch arch(block);
  block.set_mode(BlockMode::mixture);
  block.set_tau(0.8);
  const Tensor input = random_tensor(kInput, 16), projection = random_tensor(kInput, 17);
  Tensor output, grad_input;
  const Tensor* ins[] = {&input};
  block.forward(ins, output, true);
  Tensor* grads[] = {&grad_input};
  block.backward(ins, output, projection, grads);
  const auto op_grad = arch.store.grad(arch.logits);
  const auto width_grad = arch.store.grad(arch.widths);
  const std::vector<float> op_expected(op_grad.begin(), op_grad.end());
  const std::vector<float> width_expected(width_grad.begin(), width_grad.end());
  auto projected_output = [&] {
    block.forward(ins, output, true);
    double sum = 0;
    for (int64_t i = 0; i < output.size(); ++i) sum += double{output[i]} * projection[i];
    return sum;
  };
  testing::GradCheckOptions options;
  options.h = 1e-3;
  testing::GradientComparison comparison(options);
  comparison.check(arch.store.value(arch.logits), op_expected, projected_output, "op logits");
  comparison.check(arch.store.value(arch.widths), width_expected, projected_output, "width logits");
  const auto report = comparison.finish();
  EXPECT_EQ(report.checked, 7);
  EXPECT_LT(report.relative_error, 1e-3) << report.worst;
  EXPECT_GT(std::abs(op_expected[0]), 1e-3);
}

// y = x + projection ⊙ K with K the input's keep: the channel the previous block drops stays exactly x there (zero
// when x is the previous block's masked output), and the block's width choice changes nothing.
TEST(SearchableBlock, AResidualJoinAddsItsInputAndProjectsOntoItsLiveChannels) {
  SourcedBlock sourced(1, BlockMode::sampled);
  SearchableBlock& block = sourced.block;
  ParamStore weights = testing::prepare_layer(block, {kInput}, 13);
  Arch arch(block);
  const Tensor input = random_tensor(kInput, 14);
  const Tensor* ins[] = {&input};
  Tensor narrow, wide;
  block.select(0);
  block.select_width(0);
  block.forward(ins, narrow, true);
  const Tensor projection = block.op_output();
  block.select_width(3);
  block.forward(ins, wide, true);
  double moved = 0;
  for (int64_t i = 0; i < input.size(); ++i) {
    const bool live = i % 4 < 3;
    ASSERT_EQ(narrow[i], wide[i]) << i;
    ASSERT_FLOAT_EQ(narrow[i], input[i] + (live ? projection[i] : 0.0f)) << i;
    moved += std::abs(narrow[i] - input[i]);
  }
  EXPECT_GT(moved, 1.0);
  EXPECT_EQ(block.output_keep(), (std::vector<float>{1, 1, 1, 0}));  // the input's keep, not the width's
  EXPECT_EQ(block.stage_count(0), 6u);  // expand, BN, depthwise, BN, project, BN
  EXPECT_EQ(block.stage_count(1), 4u);  // E = 1: no expansion
}

TEST(SearchableBlock, RejectsAResidualJoinThatCannotAddItsInput) {
  SearchableBlock block(SearchBlock{"b", 8, 1, {{OpKind::mbconv, 3, 6, true}}});
  const Shape shapes[] = {kInput};
  EXPECT_EQ(test_support::error_of([&] { block.output_shape(shapes); }),
            "searchable block 'b': mbconv3x3_e6 with a residual join needs stride 1 and as many input as output "
            "channels (got stride 1, 4 -> 8 channels)");
}

TEST(SearchableBlock, RejectsASkipThatCannotBeTheIdentity) {
  SearchableBlock block(SearchBlock{"b", 8, 1, {{OpKind::conv, 3}, {OpKind::skip, 0}}});
  const Shape shapes[] = {kInput};
  EXPECT_EQ(test_support::error_of([&] { block.output_shape(shapes); }),
            "searchable block 'b': skip needs stride 1 and as many input as output channels (got stride 1, 4 -> 8 "
            "channels)");
}

TEST(SearchableBlock, ForwardNeedsArchitectureParameters) {
  SearchableBlock block(spec());
  ParamStore weights = testing::prepare_layer(block, {kInput}, 1);
  Tensor input = random_tensor(kInput, 1), output;
  const Tensor* ins[] = {&input};
  EXPECT_EQ(test_support::error_of([&] { block.forward(ins, output, true); }),
            "searchable block 'b': architecture parameters not bound");
}

}  // namespace
}  // namespace nas::supernet
