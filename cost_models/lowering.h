// Lowers a search space under a soft architecture (arch_view.h) to int8 kernel calls (op_graph.h), the one
// structure every cost formula reads. Per block b, with expected input channels cin (the image's channels for the
// first block, else the previous block's expected output channels) and kept channels cout, each candidate's
// convolution stages (supernet::candidate_stages) become kernel calls in order, each reading the one before
// (intermediates in between):
//   convolution k×k → a conv op (conv1x1 path when k = 1, conv_planar for at most 3 input channels):
//                     Ho·Wo·k²·c·cout MACs, k²·c·cout weight bytes, 4·cout bias bytes, 8·cout requantisation bytes;
//   depthwise k×k   → a depthwise op keeping its c channels (Ho·Wo·k²·c MACs, k²·c weights, 4·c bias,
//                     8·c requantisation bytes);
//   expansion 1×1   → a conv1x1 op to E·c channels;
//   reuse k×k       → a reuse_conv op (TREC) to cout channels, priced at the rate estimated_reuse_rate expects for
//                     its L, H and output pixels (reuse_rate_model.h); its L·H int8 projections count as weights;
// so conv k×k is one conv op, dwsep k×k a depthwise op into an intermediate of Ho·Wo·cin bytes and a 1×1 conv,
// mbconv k×k eE a 1×1 expansion to E·cin, a depthwise op and a 1×1 projection (plus, when residual, an add op
// joining the projection, which then has cin channels, with the block's input), and skip (the identity) no op:
// the block's input is its output.
// Each candidate's ops carry presence p_i and belong to the block's group, so the planner prices the block as an
// expectation over its candidates (memory_planner.h). All candidates write one shared block output of
// Ho·Wo·E[cout] bytes, E[cout] = p_keep·cin + (1 − p_keep)·cout (p_keep: the probability of skip and residual
// candidates, which keep their input's channels), which is also the next block's cin; with one-hot
// probabilities that is the real tensor whichever operator runs. BatchNorm folds into the conv and ReLU fuses
// into its requantisation, so neither adds an op. Head: global average pool (cin elements) then a fully connected
// layer to the classes (per-channel quantised like the convs). Padding is k/2, so Ho = ceil(H / stride).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "cost_models/arch_view.h"
#include "cost_models/kernel_scratch.h"
#include "cost_models/kernel_work.h"
#include "cost_models/op_graph.h"
#include "cost_models/reuse_rate_model.h"
#include "supernet/candidate_kinds.h"
#include "supernet/search_space.h"

namespace nas::cost_models {

namespace lowering_detail {

// Bytes of the per-channel tail every weighted layer carries: int32 bias, int32 multiplier + int32 shift.
constexpr double kBiasBytesPerChannel = 4;
constexpr double kQuantBytesPerChannel = 8;

template <class S>
void check_view(const supernet::SearchSpace& space, const ArchView<S>& view, supernet::Shape input, int32_t classes) {
  if (view.blocks.size() != space.blocks.size())
    throw Error("cost model", "architecture view has " + std::to_string(view.blocks.size()) + " blocks, the space " +
                                  std::to_string(space.blocks.size()), Error::Kind::failure);
  for (size_t b = 0; b < space.blocks.size(); ++b)
    if (view.blocks[b].op_prob.size() != space.blocks[b].ops.size())
      throw Error("cost model", "block '" + space.blocks[b].name + "' has " + std::to_string(space.blocks[b].ops.size()) +
                                    " candidates but the view gives " + std::to_string(view.blocks[b].op_prob.size()) +
                                    " probabilities", Error::Kind::failure);
  if (input.h < 1 || input.w < 1 || input.c < 1)
    throw Error("cost model", "input shape " + input.str() + " must have positive height, width and channels");
  if (classes < 1) throw Error("cost model", "classes must be >= 1 (got " + std::to_string(classes) + ")");
}

}  // namespace lowering_detail

template <class S>
OpGraph<S> lower(const supernet::SearchSpace& space, const ArchView<S>& view, supernet::Shape input, int32_t classes) {
  using lowering_detail::kBiasBytesPerChannel;
  using lowering_detail::kQuantBytesPerChannel;
  lowering_detail::check_view(space, view, input, classes);

  OpGraph<S> g;
  int32_t h = input.h;
  int32_t w = input.w;
  S cin(static_cast<double>(input.c));
  int32_t x = g.add_tensor("input", cin * static_cast<double>(int64_t{h} * w));
  g.input = x;

  for (size_t b = 0; b < space.blocks.size(); ++b) {
    const auto& block = space.blocks[b];
    const auto& bv = view.blocks[b];
    const int32_t ho = (h + block.stride - 1) / block.stride;
    const int32_t wo = (w + block.stride - 1) / block.stride;
    const double pixels = static_cast<double>(int64_t{ho} * wo);

    // Skip and residual candidates keep the input's channels (supernet::OpCandidate::keeps_input_channels).
    S p_keep(0.0);
    bool has_op = false;
    for (size_t i = 0; i < block.ops.size(); ++i) {
      const supernet::OpCandidate& cand = block.ops[i];
      if (!cand.is_identity()) {
        has_op = true;
      } else if (block.stride != 1) {
        throw Error("block '" + block.name + "'", "skip needs stride 1 (got " + std::to_string(block.stride) + ")");
      }
      if (cand.keeps_input_channels()) p_keep += bv.op_prob[i];
    }
    const S& cout = bv.out_channels;
    const S cout_block = p_keep * cin + (1.0 - p_keep) * cout;
    if (!has_op) {  // only skip: the input tensor flows on unchanged
      cin = cout_block;
      continue;
    }
    const int32_t y = g.add_tensor(block.name + ".out", cout_block * pixels);

    for (size_t i = 0; i < block.ops.size(); ++i) {
      const auto& cand = block.ops[i];
      if (cand.is_identity()) continue;
      OpInfo<S> base;
      base.group = static_cast<int32_t>(b);
      base.choice = static_cast<int32_t>(i);
      base.presence = bv.op_prob[i];
      // One kernel call per convolution stage of the candidate (supernet::candidate_stages); its BatchNorms fold
      // into the call before and its activations into that call's requantisation. Calls between the first and the
      // last write intermediates; a residual candidate's last call writes one more, which the join adds to the
      // block's input (so the input stays live through the whole candidate).
      std::vector<supernet::CandidateStage> calls;
      for (const auto& stage : supernet::candidate_stages(cand))
        if (stage.kind != supernet::CandidateStage::Kind::batchnorm) calls.push_back(stage);
      const std::string prefix = block.name + "." + cand.name();
      auto intermediate = [&](const S& channels, int32_t oh, int32_t ow) {
        return g.add_tensor(prefix + ".mid", channels * static_cast<double>(int64_t{oh} * ow));
      };
      int32_t from = x, ih = h, iw = w;
      S c = cin;
      for (size_t s = 0; s < calls.size(); ++s) {
        const supernet::CandidateStage& stage = calls[s];
        const bool depthwise = stage.kind == supernet::CandidateStage::Kind::depthwise;
        const bool reuse = stage.kind == supernet::CandidateStage::Kind::reuse_conv;
        const int32_t k = stage.kxk ? cand.kernel : 1, stride = stage.kxk ? block.stride : 1;
        const int32_t oh = (ih + stride - 1) / stride, ow = (iw + stride - 1) / stride;
        // A depthwise call keeps its channels, an expansion multiplies them, the last convolution outputs the
        // block's (its input's for a residual candidate).
        const S out_c = depthwise                                            ? c
                        : stage.kind == supernet::CandidateStage::Kind::expand ? c * static_cast<double>(cand.expansion)
                        : cand.residual                                      ? cin
                                                                             : cout;
        OpInfo<S> op = base;
        op.name = prefix + (calls.size() == 1 ? "" : "." + std::string(stage.name));
        CallShape shape{ih, iw, oh, ow, k, stride, k / 2};
        if (reuse) {  // priced at the rate the model expects (no calibration images exist during the search)
          shape.sub_len = cand.sub_len;
          shape.hash_bits = cand.hash_bits;
          shape.reuse_rate = estimated_reuse_rate(cand.sub_len, cand.hash_bits, oh * ow);
        }
        const bool planar =
            !depthwise && k > 1 && runs_on_planes(static_cast<int32_t>(std::round(scalar_value(c))), shape);
        const bool groups =
            depthwise && depthwise_runs_in_groups(static_cast<int32_t>(std::round(scalar_value(c))), shape);
        op.path = reuse       ? KernelPath::reuse_conv
                  : groups    ? KernelPath::depthwise_groups
                  : depthwise ? KernelPath::depthwise
                  : k == 1  ? KernelPath::conv1x1
                  : planar  ? KernelPath::conv_planar
                            : KernelPath::conv;
        op.inputs = {from};
        op.output = s + 1 == calls.size() && !cand.residual ? y : intermediate(out_c, oh, ow);
        set_kernel_work(op, c, out_c, shape);
        const double k2 = static_cast<double>(k) * k;
        op.weight_bytes = depthwise ? c * k2 : c * out_c * k2;
        op.bias_bytes = out_c * kBiasBytesPerChannel;
        op.qparam_bytes = out_c * kQuantBytesPerChannel;
        if (reuse) {  // its int8 projections (L × H) are weights too; its scratch grows with its outputs
          op.weight_bytes += static_cast<double>(cand.sub_len) * cand.hash_bits;
          ScratchCall call = conv_scratch_call(ih, iw, k, stride, k / 2);
          call.output = {1, oh, ow, 0};
          call.reuse = {cand.sub_len, cand.hash_bits, nullptr};
          op.scratch_bytes = reuse_scratch_bytes(call, static_cast<int32_t>(std::round(scalar_value(c))), out_c);
        } else {
          op.scratch_bytes = kernel_scratch_bytes(op.path, conv_scratch_call(ih, iw, k, stride, k / 2), c);
        }
        op.writes_over_input = may_write_over_input(op.path, conv_scratch_call(ih, iw, k, stride, k / 2), oh, ow);
        from = op.output;
        g.ops.push_back(std::move(op));
        c = out_c;
        ih = oh;
        iw = ow;
      }
      if (cand.residual) {  // the join: y = x + projection, element-wise over the input's channels
        OpInfo<S> join = base;
        join.name = prefix + ".add";
        join.path = KernelPath::add;
        join.inputs = {from, x};
        join.output = y;
        set_kernel_work(join, cin, cin, {ih, iw, ih, iw, 1, 1, 0});
        join.scratch_bytes = kernel_scratch_bytes(join.path, conv_scratch_call(ih, iw, 1, 1, 0), cin);
        g.ops.push_back(std::move(join));
      }
    }
    x = y;
    cin = cout_block;
    h = ho;
    w = wo;
  }

  // Head: global average pool to one value per channel, then the classifier.
  const int32_t pooled = g.add_tensor("head.pool", cin);
  OpInfo<S> pool;
  pool.name = "head.pool";
  pool.path = KernelPath::global_avg_pool;
  pool.inputs = {x};
  pool.output = pooled;
  set_kernel_work(pool, cin, cin, {h, w, 1, 1, h, 1, 0});  // one accumulate per input element
  pool.scratch_bytes = kernel_scratch_bytes(pool.path, conv_scratch_call(h, w, h, 1, 0), cin);
  g.ops.push_back(std::move(pool));

  const double n_classes = classes;
  const int32_t logits = g.add_tensor("head.fc", S(n_classes));
  OpInfo<S> fc;
  fc.name = "head.fc";
  fc.path = KernelPath::fully_connected;
  fc.inputs = {pooled};
  fc.output = logits;
  set_kernel_work(fc, cin, S(n_classes), {});
  fc.weight_bytes = cin * n_classes;
  fc.bias_bytes = S(n_classes * kBiasBytesPerChannel);
  fc.qparam_bytes = S(n_classes * kQuantBytesPerChannel);
  fc.scratch_bytes = kernel_scratch_bytes(fc.path, conv_scratch_call(1, 1, 1, 1, 0), cin);
  g.ops.push_back(std::move(fc));
  g.output = logits;
  return g;
}

}  // namespace nas::cost_models
