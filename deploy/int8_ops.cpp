#include "deploy/int8_ops.h"

#include <fmt/format.h>

#include "cost_models/kernel_scratch.h"
#include "cost_models/kernel_work.h"

namespace nas::deploy {

namespace {

using cost_models::KernelPath;

std::string dims(const mcunas_dims& d) { return fmt::format("{{{}, {}, {}, {}}}", d.n, d.h, d.w, d.c); }

// --- conv, depthwise and fully connected: mcunas_conv_s8 and mcunas_depthwise_conv_s8 ---------------------------

mcunas_channel_quant channel_quant(const Int8Op& op) { return {op.multiplier.data(), op.shift.data()}; }

void emit_conv_like(std::ostream& out, const char* kernel, const KernelCall& c, const CallSite& site) {
  out << fmt::format("    static const mcunas_conv_params params = {{{}, {}, {}, {}, {}, {}, {}, {}}};\n",
                     c.conv.stride_h, c.conv.stride_w, c.conv.pad_h, c.conv.pad_w, c.conv.input_offset,
                     c.conv.output_offset, c.conv.act_min, c.conv.act_max);
  out << "    static const mcunas_channel_quant quant = {" << site.prefix << "multiplier, " << site.prefix
      << "shift};\n";
  out << "    static const mcunas_dims input_dims = " << dims(c.input) << ", filter_dims = " << dims(c.filter)
      << ", output_dims = " << dims(c.output) << ";\n";
  out << "    " << kernel << "(&params, &quant, &input_dims, " << site.input << ", &filter_dims, " << site.prefix
      << "weights, " << site.prefix << "bias, &output_dims, " << site.output << ", " << site.scratch << ");\n";
}

// A windowed op's shape as the kernels' path rules take it (cost_models/kernel_work.h).
cost_models::CallShape call_shape(const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
  return {in.h, in.w, out.h, out.w, op.kernel_h, op.stride_h, op.pad_h, op.kernel_w, op.stride_w, op.pad_w};
}

void run_conv(const Int8Op& op, const KernelCall& c, const int8_t* const* in, int8_t* out, void* scratch) {
  const mcunas_channel_quant quant = channel_quant(op);
  mcunas_conv_s8(&c.conv, &quant, &c.input, in[0], &c.filter, op.weights.data(), op.bias.data(), &c.output, out,
                 scratch);
}

const Int8OpRow kConv{
    .description = "convolution",
    .weighted = true,
    .weight_count = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) -> size_t {
      return static_cast<size_t>(out.c) * op.kernel_h * op.kernel_w * in.c;
    },
    .path = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
      if (op.kernel_h == 1 && op.kernel_w == 1) return KernelPath::conv1x1;
      return cost_models::runs_on_planes(in.c, call_shape(in, out, op)) ? KernelPath::conv_planar : KernelPath::conv;
    },
    .call = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op,
               KernelCall& c) { c.filter = {out.c, op.kernel_h, op.kernel_w, in.c}; },
    .run = run_conv,
    .emit = [](std::ostream& out, const Int8Op&, const KernelCall& c,
               const CallSite& site) { emit_conv_like(out, "mcunas_conv_s8", c, site); },
};

const Int8OpRow kDepthwise{
    .description = "depthwise convolution",
    .weighted = true,
    .weights_channel_last = true,
    .weight_count = [](const Int8Tensor& in, const Int8Tensor&, const Int8Op& op) -> size_t {
      return static_cast<size_t>(op.kernel_h) * op.kernel_w * in.c;
    },
    .shape_problem = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
      return in.c != out.c ? "depthwise op '" + op.name + "' changes the channel count" : std::string();
    },
    .path = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
      return cost_models::depthwise_runs_in_groups(in.c, call_shape(in, out, op)) ? KernelPath::depthwise_groups
                                                                                  : KernelPath::depthwise;
    },
    .call = [](const Int8Tensor& in, const Int8Tensor&, const Int8Op& op,
               KernelCall& c) { c.filter = {1, op.kernel_h, op.kernel_w, in.c}; },
    .run = [](const Int8Op& op, const KernelCall& c, const int8_t* const* in, int8_t* out, void* scratch) {
      const mcunas_channel_quant quant = channel_quant(op);
      mcunas_depthwise_conv_s8(&c.conv, &quant, &c.input, in[0], &c.filter, op.weights.data(), op.bias.data(),
                               &c.output, out, scratch);
    },
    .emit = [](std::ostream& out, const Int8Op&, const KernelCall& c,
               const CallSite& site) { emit_conv_like(out, "mcunas_depthwise_conv_s8", c, site); },
};

// A linear layer runs as a 1×1 convolution of the flattened input, so its requantisation is per output channel
// like the convolutions' (int8_model.h).
const Int8OpRow kFullyConnected{
    .description = "fully connected (as a 1x1 convolution)",
    .weighted = true,
    .weight_count = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op&) -> size_t {
      return static_cast<size_t>(in.bytes()) * static_cast<size_t>(out.c);
    },
    .path = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&) { return KernelPath::fully_connected; },
    .call = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op&, KernelCall& c) {
      const auto features = static_cast<int32_t>(in.bytes());
      c.input = {1, 1, 1, features};
      c.output = {1, 1, 1, out.c};
      c.filter = {out.c, 1, 1, features};
      c.conv.stride_h = c.conv.stride_w = 1;
      c.conv.pad_h = c.conv.pad_w = 0;
    },
    .run = run_conv,
    .emit = [](std::ostream& out, const Int8Op&, const KernelCall& c,
               const CallSite& site) { emit_conv_like(out, "mcunas_conv_s8", c, site); },
};

// --- the reuse convolution: mcunas_reuse_conv_s8 ---------------------------------------------------------------

const Int8OpRow kReuseConv{
    .description = "reuse convolution (TREC)",
    .weighted = true,
    .weight_count = kConv.weight_count,
    .shape_problem = [](const Int8Tensor&, const Int8Tensor&, const Int8Op& op) {
      if (op.sub_len < 1 || op.hash_bits < 1 || op.hash_bits > 8)
        return "reuse op '" + op.name + "' needs sub_len >= 1 and hash_bits 1 to 8";
      if (op.projections.size() != static_cast<size_t>(op.sub_len) * static_cast<size_t>(op.hash_bits))
        return "reuse op '" + op.name + "' has " + std::to_string(op.projections.size()) + " projections, needs " +
               std::to_string(op.sub_len * op.hash_bits);
      return std::string();
    },
    .path = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&) { return KernelPath::reuse_conv; },
    .call = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op, KernelCall& c) {
      c.filter = {out.c, op.kernel_h, op.kernel_w, in.c};
      c.reuse = {op.sub_len, op.hash_bits, op.projections.data()};
    },
    .run = [](const Int8Op& op, const KernelCall& c, const int8_t* const* in, int8_t* out, void* scratch) {
      const mcunas_channel_quant quant = channel_quant(op);
      mcunas_reuse_conv_s8(&c.conv, &c.reuse, &quant, &c.input, in[0], &c.filter, op.weights.data(), op.bias.data(),
                           &c.output, out, scratch);
    },
    .emit = [](std::ostream& out, const Int8Op& op, const KernelCall& c, const CallSite& site) {
      out << "    static const int8_t projections[" << op.projections.size() << "] = {";
      for (size_t i = 0; i < op.projections.size(); ++i) out << (i ? ", " : "") << int{op.projections[i]};
      out << "};\n";
      out << fmt::format("    static const mcunas_conv_params params = {{{}, {}, {}, {}, {}, {}, {}, {}}};\n",
                         c.conv.stride_h, c.conv.stride_w, c.conv.pad_h, c.conv.pad_w, c.conv.input_offset,
                         c.conv.output_offset, c.conv.act_min, c.conv.act_max);
      out << "    static const mcunas_reuse_params reuse = {" << op.sub_len << ", " << op.hash_bits
          << ", projections};\n";
      out << "    static const mcunas_channel_quant quant = {" << site.prefix << "multiplier, " << site.prefix
          << "shift};\n";
      out << "    static const mcunas_dims input_dims = " << dims(c.input) << ", filter_dims = " << dims(c.filter)
          << ", output_dims = " << dims(c.output) << ";\n";
      out << "    mcunas_reuse_conv_s8(&params, &reuse, &quant, &input_dims, " << site.input << ", &filter_dims, "
          << site.prefix << "weights, " << site.prefix << "bias, &output_dims, " << site.output << ", "
          << site.scratch << ");\n";
    },
};

// --- pooling: mcunas_max_pool_s8, mcunas_avg_pool_s8 (the input's quantisation) and mcunas_global_avg_pool_s8 ------

void pool_call(const Int8Tensor&, const Int8Tensor&, const Int8Op& op, KernelCall& c) {
  c.pool = {op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.pad_h, op.pad_w, op.act_min, op.act_max};
}

void emit_pool(std::ostream& out, const char* kernel, const KernelCall& c, const CallSite& site) {
  out << fmt::format("    static const mcunas_pool_params params = {{{}, {}, {}, {}, {}, {}, {}, {}}};\n", c.pool.k_h,
                     c.pool.k_w, c.pool.stride_h, c.pool.stride_w, c.pool.pad_h, c.pool.pad_w, c.pool.act_min,
                     c.pool.act_max);
  out << "    static const mcunas_dims input_dims = " << dims(c.input) << ", output_dims = " << dims(c.output)
      << ";\n";
  out << "    " << kernel << "(&params, &input_dims, " << site.input << ", &output_dims, " << site.output << ");\n";
}

const Int8OpRow kMaxPool{
    .description = "max pooling",
    .path = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&) { return KernelPath::max_pool; },
    .call = pool_call,
    .run = [](const Int8Op&, const KernelCall& c, const int8_t* const* in, int8_t* out,
              void*) { mcunas_max_pool_s8(&c.pool, &c.input, in[0], &c.output, out); },
    .emit = [](std::ostream& out, const Int8Op&, const KernelCall& c,
               const CallSite& site) { emit_pool(out, "mcunas_max_pool_s8", c, site); },
};

// A window of the whole input is global average pooling at the input's quantisation: priced as global pooling.
const Int8OpRow kAvgPool{
    .description = "average pooling",
    .path = [](const Int8Tensor&, const Int8Tensor& out, const Int8Op&) {
      return out.h == 1 && out.w == 1 ? KernelPath::global_avg_pool : KernelPath::avg_pool;
    },
    .call = pool_call,
    .run = [](const Int8Op&, const KernelCall& c, const int8_t* const* in, int8_t* out,
              void*) { mcunas_avg_pool_s8(&c.pool, &c.input, in[0], &c.output, out); },
    .emit = [](std::ostream& out, const Int8Op&, const KernelCall& c,
               const CallSite& site) { emit_pool(out, "mcunas_avg_pool_s8", c, site); },
};

const Int8OpRow kGlobalAvgPool{
    .description = "global average pooling",
    .shape_problem = [](const Int8Tensor& in, const Int8Tensor& out, const Int8Op& op) {
      return out.h != 1 || out.w != 1 || out.c != in.c
                 ? "global average pooling '" + op.name + "' must give 1x1x" + std::to_string(in.c)
                 : std::string();
    },
    .path = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&) { return KernelPath::global_avg_pool; },
    .call = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&, KernelCall&) {},
    .run = [](const Int8Op& op, const KernelCall& c, const int8_t* const* in, int8_t* out,
              void*) { mcunas_global_avg_pool_s8(&op.mean, &c.input, in[0], out); },
    .emit = [](std::ostream& out, const Int8Op& op, const KernelCall& c, const CallSite& site) {
      const auto& m = op.mean;
      out << fmt::format("    static const mcunas_mean_params params = {{{}, {}, {}, {}, {}, {}}};\n", m.input_offset,
                         m.output_offset, m.multiplier, m.shift, m.act_min, m.act_max);
      out << "    static const mcunas_dims input_dims = " << dims(c.input) << ";\n";
      out << "    mcunas_global_avg_pool_s8(&params, &input_dims, " << site.input << ", " << site.output << ");\n";
    },
};

// --- the residual join: mcunas_add_s8 ------------------------------------------------------------------------------

const Int8OpRow kAdd{
    .description = "add",
    .inputs = 2,
    .path = [](const Int8Tensor&, const Int8Tensor&, const Int8Op&) { return KernelPath::add; },
    .call = [](const Int8Tensor&, const Int8Tensor& out, const Int8Op&,
               KernelCall& c) { c.elements = static_cast<int32_t>(out.bytes()); },
    .run = [](const Int8Op& op, const KernelCall& c, const int8_t* const* in, int8_t* out,
              void* scratch) { mcunas_add_s8(&op.add, c.elements, in[0], in[1], out, scratch); },
    .emit = [](std::ostream& out, const Int8Op& op, const KernelCall& c, const CallSite& site) {
      const auto& a = op.add;
      out << fmt::format("    static const mcunas_add_params params = {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                         "{}}};\n",
                         a.input1_offset, a.input1_multiplier, a.input1_shift, a.input2_offset, a.input2_multiplier,
                         a.input2_shift, a.left_shift, a.output_offset, a.output_multiplier, a.output_shift,
                         a.act_min, a.act_max);
      out << "    mcunas_add_s8(&params, " << c.elements << ", " << site.input << ", " << site.input2 << ", "
          << site.output << ", " << site.scratch << ");\n";
    },
};

}  // namespace

// A switch without a default: a kind without a row fails to compile (-Wswitch, -Werror).
const Int8OpRow& op_row(Int8OpKind kind) {
  switch (kind) {
    case Int8OpKind::conv: return kConv;
    case Int8OpKind::depthwise: return kDepthwise;
    case Int8OpKind::fully_connected: return kFullyConnected;
    case Int8OpKind::max_pool: return kMaxPool;
    case Int8OpKind::avg_pool: return kAvgPool;
    case Int8OpKind::global_avg_pool: return kGlobalAvgPool;
    case Int8OpKind::add: return kAdd;
    case Int8OpKind::reuse_conv: return kReuseConv;
  }
  return kConv;
}

}  // namespace nas::deploy
