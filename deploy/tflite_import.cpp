#include "deploy/tflite_import.h"

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include "common/error.h"
#include "common/same_padding.h"
#include "deploy/quantize_multiplier.h"
#include "deploy/tflite_schema.h"

namespace nas::deploy {

namespace {

namespace fb = flatbuffers;
using tflite::slot;
using Tables = fb::Vector<fb::Offset<fb::Table>>;

template <class T>
const fb::Vector<T>* vector_field(const fb::Table* t, int field) {
  return t->GetPointer<const fb::Vector<T>*>(slot(field));
}
const Tables* tables_field(const fb::Table* t, int field) { return t->GetPointer<const Tables*>(slot(field)); }
const fb::Table* table_field(const fb::Table* t, int field) { return t->GetPointer<const fb::Table*>(slot(field)); }

// ---- verification: every table, vector and string we read lies inside the buffer ----

template <class T>
bool vector_ok(fb::Verifier& v, const fb::Table* t, int field) {
  return t->VerifyOffset(v, slot(field)) && v.VerifyVector(vector_field<T>(t, field));
}

// A table whose fields are scalars of the given sizes (indices 0..n−1): the options tables.
bool scalars_ok(fb::Verifier& v, const fb::Table* t, std::initializer_list<size_t> sizes) {
  if (!t->VerifyTableStart(v)) return false;
  int index = 0;
  for (const size_t size : sizes) {
    const bool ok = size == 1   ? t->VerifyField<int8_t>(v, slot(index), 1)
                    : size == 4 ? t->VerifyField<int32_t>(v, slot(index), 4)
                                : t->VerifyField<int64_t>(v, slot(index), 8);
    if (!ok) return false;
    ++index;
  }
  return v.EndTable();
}

bool options_ok(fb::Verifier& v, const fb::Table* t, uint8_t type) {
  using O = tflite::Options;
  switch (static_cast<O>(type)) {
    case O::conv_2d: return scalars_ok(v, t, {1, 4, 4, 1, 4, 4});
    case O::depthwise_conv_2d: return scalars_ok(v, t, {1, 4, 4, 4, 1, 4, 4});
    case O::fully_connected: return scalars_ok(v, t, {1, 1, 1, 1});
    case O::pool_2d: return scalars_ok(v, t, {1, 4, 4, 4, 4, 1});
    case O::add: return scalars_ok(v, t, {1, 1});
    case O::reducer: return scalars_ok(v, t, {1});
    case O::pad: return scalars_ok(v, t, {});
    case O::reshape:
      return t->VerifyTableStart(v) && vector_ok<int32_t>(v, t, tflite::reshape_options::new_shape) && v.EndTable();
    default: return t->VerifyTableStart(v) && v.EndTable();  // an operator we refuse by name later
  }
}

bool each_table(fb::Verifier& v, const Tables* list, const std::function<bool(const fb::Table*)>& ok) {
  if (!list) return true;
  if (!v.VerifyVector(list)) return false;
  for (fb::uoffset_t i = 0; i < list->size(); ++i)
    if (!ok(list->Get(i))) return false;
  return true;
}

bool model_ok(fb::Verifier& v, const fb::Table* model) {
  namespace m = tflite::model;
  auto quant_ok = [&](const fb::Table* q) {
    namespace k = tflite::quantization;
    return q->VerifyTableStart(v) && vector_ok<float>(v, q, k::min) && vector_ok<float>(v, q, k::max) &&
           vector_ok<float>(v, q, k::scale) && vector_ok<int64_t>(v, q, k::zero_point) &&
           q->VerifyField<uint8_t>(v, slot(4), 1) && q->VerifyOffset(v, slot(5)) &&
           q->VerifyField<int32_t>(v, slot(k::quantized_dimension), 4) && v.EndTable();
  };
  auto tensor_ok = [&](const fb::Table* t) {
    namespace k = tflite::tensor;
    const fb::Table* q = nullptr;
    bool ok = t->VerifyTableStart(v) && vector_ok<int32_t>(v, t, k::shape) &&
              t->VerifyField<int8_t>(v, slot(k::type), 1) && t->VerifyField<uint32_t>(v, slot(k::buffer), 4) &&
              t->VerifyOffset(v, slot(k::name)) &&
              v.VerifyString(t->GetPointer<const fb::String*>(slot(k::name))) &&
              t->VerifyOffset(v, slot(k::quantization));
    if (ok && (q = table_field(t, k::quantization))) ok = quant_ok(q);
    return ok && v.EndTable();
  };
  auto operator_ok = [&](const fb::Table* o) {
    namespace k = tflite::op;
    bool ok = o->VerifyTableStart(v) && o->VerifyField<uint32_t>(v, slot(k::opcode_index), 4) &&
              vector_ok<int32_t>(v, o, k::inputs) && vector_ok<int32_t>(v, o, k::outputs) &&
              o->VerifyField<uint8_t>(v, slot(k::builtin_options_type), 1) &&
              o->VerifyOffset(v, slot(k::builtin_options));
    const fb::Table* options = ok ? table_field(o, k::builtin_options) : nullptr;  // read only once verified
    if (options) ok = options_ok(v, options, o->GetField<uint8_t>(slot(k::builtin_options_type), 0));
    return ok && v.EndTable();
  };
  auto subgraph_ok = [&](const fb::Table* s) {
    namespace k = tflite::subgraph;
    return s->VerifyTableStart(v) && s->VerifyOffset(v, slot(k::tensors)) &&
           each_table(v, tables_field(s, k::tensors), tensor_ok) && vector_ok<int32_t>(v, s, k::inputs) &&
           vector_ok<int32_t>(v, s, k::outputs) && s->VerifyOffset(v, slot(k::operators)) &&
           each_table(v, tables_field(s, k::operators), operator_ok) && v.EndTable();
  };
  auto code_ok = [&](const fb::Table* c) {
    namespace k = tflite::operator_code;
    return c->VerifyTableStart(v) && c->VerifyField<int8_t>(v, slot(k::deprecated_builtin_code), 1) &&
           c->VerifyField<int32_t>(v, slot(k::version), 4) && c->VerifyField<int32_t>(v, slot(k::builtin_code), 4) &&
           v.EndTable();
  };
  auto buffer_ok = [&](const fb::Table* b) {
    return b->VerifyTableStart(v) && vector_ok<uint8_t>(v, b, tflite::buffer::data) && v.EndTable();
  };
  return model->VerifyTableStart(v) && model->VerifyField<uint32_t>(v, slot(m::version), 4) &&
         model->VerifyOffset(v, slot(m::operator_codes)) &&
         each_table(v, tables_field(model, m::operator_codes), code_ok) &&
         model->VerifyOffset(v, slot(m::subgraphs)) && each_table(v, tables_field(model, m::subgraphs), subgraph_ok) &&
         model->VerifyOffset(v, slot(m::buffers)) && each_table(v, tables_field(model, m::buffers), buffer_ok) &&
         model->VerifyOffset(v, slot(m::description)) &&
         v.VerifyString(model->GetPointer<const fb::String*>(slot(m::description))) && v.EndTable();
}

// ---- reading ----

const char* builtin_name(int32_t code) {
  static const std::map<int32_t, const char*> names = {
      {0, "ADD"}, {1, "AVERAGE_POOL_2D"}, {2, "CONCATENATION"}, {3, "CONV_2D"}, {4, "DEPTHWISE_CONV_2D"},
      {6, "DEQUANTIZE"}, {9, "FULLY_CONNECTED"}, {14, "LOGISTIC"}, {17, "MAX_POOL_2D"}, {18, "MUL"}, {19, "RELU"},
      {21, "RELU6"}, {22, "RESHAPE"}, {25, "SOFTMAX"}, {28, "TANH"}, {32, "CUSTOM"}, {34, "PAD"}, {39, "TRANSPOSE"},
      {40, "MEAN"}, {41, "SUB"}, {49, "SQUEEZE"}, {83, "PACK"}, {114, "QUANTIZE"}};
  const auto it = names.find(code);
  return it == names.end() ? "an operator" : it->second;
}

struct FileTensor {
  std::string name;
  std::vector<int32_t> shape;
  tflite::TensorType type = tflite::TensorType::float32;
  std::span<const uint8_t> data;  // constants only
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
};

class Reader {
 public:
  Reader(const fb::Table* model, std::string origin) : origin_(std::move(origin)) {
    const Tables* subgraphs = tables_field(model, tflite::model::subgraphs);
    if (!subgraphs || subgraphs->size() != 1)
      fail(fmt::format("has {} subgraphs; we read models of one", subgraphs ? subgraphs->size() : 0));
    subgraph_ = subgraphs->Get(0);
    const Tables* buffers = tables_field(model, tflite::model::buffers);
    const Tables* codes = tables_field(model, tflite::model::operator_codes);
    for (fb::uoffset_t i = 0; codes && i < codes->size(); ++i) {
      const fb::Table* c = codes->Get(i);
      namespace k = tflite::operator_code;
      const int32_t code = std::max<int32_t>(c->GetField<int8_t>(slot(k::deprecated_builtin_code), 0),
                                             c->GetField<int32_t>(slot(k::builtin_code), 0));
      codes_.push_back(code);
    }
    const Tables* tensors = tables_field(subgraph_, tflite::subgraph::tensors);
    for (fb::uoffset_t i = 0; tensors && i < tensors->size(); ++i) {
      const fb::Table* t = tensors->Get(i);
      FileTensor f;
      if (const auto* name = t->GetPointer<const fb::String*>(slot(tflite::tensor::name))) f.name = name->str();
      if (const auto* shape = vector_field<int32_t>(t, tflite::tensor::shape))
        f.shape.assign(shape->begin(), shape->end());
      f.type = static_cast<tflite::TensorType>(t->GetField<int8_t>(slot(tflite::tensor::type), 0));
      const uint32_t buffer = t->GetField<uint32_t>(slot(tflite::tensor::buffer), 0);
      if (buffer != 0) {
        if (!buffers || buffer >= buffers->size())
          fail(fmt::format("tensor {} names buffer {}, which is not there", i, buffer));
        if (const auto* data = vector_field<uint8_t>(buffers->Get(buffer), tflite::buffer::data))
          f.data = {data->data(), data->size()};
      }
      if (const fb::Table* q = table_field(t, tflite::tensor::quantization)) {
        if (const auto* s = vector_field<float>(q, tflite::quantization::scale)) f.scales.assign(s->begin(), s->end());
        if (const auto* z = vector_field<int64_t>(q, tflite::quantization::zero_point))
          f.zero_points.assign(z->begin(), z->end());
      }
      file_.push_back(std::move(f));
    }
  }

  Int8Model read() {
    const auto* inputs = vector_field<int32_t>(subgraph_, tflite::subgraph::inputs);
    const auto* outputs = vector_field<int32_t>(subgraph_, tflite::subgraph::outputs);
    if (!inputs || inputs->size() != 1 || !outputs || outputs->size() != 1)
      fail("has several inputs or outputs (or none); we read models of one input and one output");
    model_.input = activation(inputs->Get(0), "the input");
    const Tables* ops = tables_field(subgraph_, tflite::subgraph::operators);
    for (fb::uoffset_t i = 0; ops && i < ops->size(); ++i) read_op(static_cast<int32_t>(i), ops->Get(i));
    const auto out = ours_.find(outputs->Get(0));
    if (out == ours_.end()) fail("its output is no operator's output we read");
    model_.output = out->second;
    try {
      validate(model_);
    } catch (const Error& e) {
      fail(std::string("does not make a consistent int8 model: ") + e.what());
    }
    return std::move(model_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(origin_, what); }

  const FileTensor& tensor(int32_t index) const {
    if (index < 0 || static_cast<size_t>(index) >= file_.size())
      fail(fmt::format("refers to tensor {}, of {}", index, file_.size()));
    return file_[static_cast<size_t>(index)];
  }

  QuantParams activation_quant(const FileTensor& t, int32_t index) const {
    if (t.type != tflite::TensorType::int8 || t.scales.size() != 1 || !(t.scales[0] > 0))
      fail(fmt::format("tensor {} ('{}') is not an int8 activation with one scale (we run int8 models: quantise "
                       "the model fully to int8)", index, t.name));
    return {static_cast<double>(t.scales[0]), t.zero_points.empty() ? 0 : static_cast<int32_t>(t.zero_points[0])};
  }

  // Our tensor for file tensor `index` (NHWC one image, or [1, n] as 1×1×n), made on first use.
  int32_t activation(int32_t index, const char* role) {
    if (const auto it = ours_.find(index); it != ours_.end()) return it->second;
    const FileTensor& t = tensor(index);
    Int8Tensor ours{t.name, 1, 1, 1, activation_quant(t, index)};
    if (t.shape.size() == 4 && t.shape[0] == 1) {
      ours.h = t.shape[1];
      ours.w = t.shape[2];
      ours.c = t.shape[3];
    } else if (t.shape.size() == 2 && t.shape[0] == 1) {
      ours.c = t.shape[1];
    } else {
      fail(fmt::format("{} (tensor {}, '{}') is not one image in NHWC or [1, n]", role, index, t.name));
    }
    model_.tensors.push_back(ours);
    const auto id = static_cast<int32_t>(model_.tensors.size() - 1);
    ours_[index] = id;
    return id;
  }

  void set_activation(Int8Op& op, tflite::Activation act, int32_t index) const {
    const QuantParams& out = model_.tensors[static_cast<size_t>(op.output)].quant;
    const float scale = static_cast<float>(out.scale);
    auto level = [&](float real) { return out.zero_point + static_cast<int32_t>(std::round(real / scale)); };
    op.act_min = -128;
    op.act_max = 127;
    switch (act) {
      case tflite::Activation::none: return;
      case tflite::Activation::relu: op.act_min = std::max(-128, out.zero_point); return;
      case tflite::Activation::relu6:
        op.act_min = std::max(-128, out.zero_point);
        op.act_max = std::min(127, level(6.0f));
        return;
      case tflite::Activation::relu_n1_to_1:
        op.act_min = std::max(-128, level(-1.0f));
        op.act_max = std::min(127, level(1.0f));
        return;
    }
    fail(fmt::format("operator {} has fused activation {}, which we do not compute", index, static_cast<int>(act)));
  }

  // Weights (int8, per tensor or per output channel: the bytes are in our layout already, and the scales in
  // channel order whichever dimension carries them), bias (int32 or none) and the per-channel requantisation of a
  // conv, depthwise or fully connected op.
  void set_weights(Int8Op& op, int32_t index, int32_t weights_index, int32_t bias_index, int32_t channels) {
    const FileTensor& w = tensor(weights_index);
    if (w.type != tflite::TensorType::int8 || w.data.empty())
      fail(fmt::format("operator {}: its weights (tensor {}, '{}') are not constant int8", index, weights_index,
                       w.name));
    if (channels < 1 || static_cast<size_t>(channels) > w.data.size() || w.data.size() % static_cast<size_t>(channels))
      fail(fmt::format("operator {}: {} weights do not make {} output channels", index, w.data.size(), channels));
    if (w.scales.size() != 1 && w.scales.size() != static_cast<size_t>(channels))
      fail(fmt::format("operator {}: {} weight scales for {} output channels", index, w.scales.size(), channels));
    if (std::any_of(w.zero_points.begin(), w.zero_points.end(), [](int64_t z) { return z != 0; }))
      fail(fmt::format("operator {}: its weights have a zero point other than 0 (TFLite int8 weights are symmetric)",
                       index));
    op.weights.assign(reinterpret_cast<const int8_t*>(w.data.data()),
                      reinterpret_cast<const int8_t*>(w.data.data()) + w.data.size());
    if (const std::string suffix = ".weights"; w.name.size() > suffix.size() && w.name.ends_with(suffix))
      op.name = w.name.substr(0, w.name.size() - suffix.size());  // the exporter names weights after their op
    op.bias.assign(static_cast<size_t>(channels), 0);
    if (bias_index >= 0) {
      const FileTensor& b = tensor(bias_index);
      if (b.type != tflite::TensorType::int32 || b.data.size() != 4 * static_cast<size_t>(channels))
        fail(fmt::format("operator {}: its bias (tensor {}) is not {} int32 values", index, bias_index, channels));
      std::memcpy(op.bias.data(), b.data.data(), b.data.size());
    }
    const double s_in = model_.tensors[static_cast<size_t>(op.inputs[0])].quant.scale;
    const double s_out = model_.tensors[static_cast<size_t>(op.output)].quant.scale;
    for (int32_t c = 0; c < channels; ++c) {
      const double s_w = static_cast<double>(w.scales[w.scales.size() == 1 ? 0 : static_cast<size_t>(c)]);
      const FixedPointScale m = quantize_multiplier(s_in * s_w / s_out);
      op.weight_scale.push_back(s_w);
      op.multiplier.push_back(m.multiplier);
      op.shift.push_back(m.shift);
    }
  }

  std::vector<int32_t> op_tensors(const fb::Table* o, int field) const {
    const auto* v = vector_field<int32_t>(o, field);
    return v ? std::vector<int32_t>(v->begin(), v->end()) : std::vector<int32_t>{};
  }

  // A window's kernel and strides, before anything computes with them (a stride of 0 would divide by zero).
  void check_window(int32_t index, const Int8Op& op) const {
    if (op.kernel_h < 1 || op.kernel_w < 1 || op.stride_h < 1 || op.stride_w < 1)
      fail(fmt::format("operator {} has a {}x{} window at stride {}x{}; both must be at least 1", index, op.kernel_h,
                       op.kernel_w, op.stride_h, op.stride_w));
  }

  void read_op(int32_t index, const fb::Table* o) {
    const uint32_t opcode = o->GetField<uint32_t>(slot(tflite::op::opcode_index), 0);
    if (opcode >= codes_.size())
      fail(fmt::format("operator {} names operator code {}, which is not there", index, opcode));
    const int32_t code = codes_[opcode];
    const std::vector<int32_t> in = op_tensors(o, tflite::op::inputs), out = op_tensors(o, tflite::op::outputs);
    const fb::Table* options = table_field(o, tflite::op::builtin_options);
    auto option = [&](int field, auto fallback) {
      return options ? options->GetField<decltype(fallback)>(slot(field), fallback) : fallback;
    };
    auto need = [&](size_t inputs, const char* what) {
      if (in.size() < inputs || out.size() != 1)
        fail(fmt::format("operator {} ({}) has the wrong operands", index, what));
    };
    using B = tflite::Builtin;
    switch (static_cast<B>(code)) {
      case B::pad: {
        need(2, "PAD");
        const FileTensor& p = tensor(in[1]);
        if (p.type != tflite::TensorType::int32 || p.data.size() != 32)
          fail(fmt::format("operator {} (PAD): its paddings are not a constant int32 [4, 2]", index));
        int32_t v[8];
        std::memcpy(v, p.data.data(), sizeof v);
        if (v[0] || v[1] || v[6] || v[7]) fail(fmt::format("operator {} (PAD) pads the batch or the channels", index));
        pads_[out[0]] = {in[0], v[2], v[3], v[4], v[5], p.name};
        return;
      }
      case B::reshape:
        need(1, "RESHAPE");
        reshapes_[out[0]] = in[0];
        return;
      case B::conv_2d:
      case B::depthwise_conv_2d: {
        const bool depthwise = static_cast<B>(code) == B::depthwise_conv_2d;
        need(2, depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D");
        namespace c = tflite::conv_options;
        namespace d = tflite::depthwise_options;
        const int8_t padding = option(depthwise ? d::padding : c::padding, int8_t{0});
        const int32_t stride_w = option(depthwise ? d::stride_w : c::stride_w, int32_t{1});
        const int32_t stride_h = option(depthwise ? d::stride_h : c::stride_h, int32_t{1});
        const auto act = static_cast<tflite::Activation>(option(depthwise ? d::fused_activation : c::fused_activation,
                                                                int8_t{0}));
        if (option(depthwise ? d::dilation_w : c::dilation_w, int32_t{1}) != 1 ||
            option(depthwise ? d::dilation_h : c::dilation_h, int32_t{1}) != 1)
          fail(fmt::format("operator {}: dilated convolutions are not supported", index));
        const FileTensor& w = tensor(in[1]);
        if (w.shape.size() != 4) fail(fmt::format("operator {}: its weights are not 4-D", index));
        Int8Op op;
        op.name = fmt::format("op{}", index);
        op.kernel_h = w.shape[1];
        op.kernel_w = w.shape[2];
        op.stride_h = stride_h;
        op.stride_w = stride_w;
        check_window(index, op);
        int32_t source = in[0];
        const auto pad = pads_.find(in[0]);
        const auto reshape = reshapes_.find(in[0]);
        const FileTensor& x_file = tensor(in[0]);
        const bool one_pixel = x_file.shape.size() == 4 && x_file.shape[1] == 1 && x_file.shape[2] == 1;
        const bool pointwise = !depthwise && op.kernel_h == 1 && op.kernel_w == 1;
        if (pointwise && (reshape != reshapes_.end() ||
                          (one_pixel && padding == static_cast<int8_t>(tflite::Padding::valid)))) {
          // A flatten and a 1×1 convolution, or a "valid" 1×1 convolution of one pixel: our linear layer, as the
          // exporter writes it (a convolution of ours on one pixel is written "same").
          op.kind = Int8OpKind::fully_connected;
          op.kernel_h = op.kernel_w = op.stride_h = op.stride_w = 1;
          if (reshape != reshapes_.end()) source = reshape->second;
        } else if (pad != pads_.end()) {
          if (padding != static_cast<int8_t>(tflite::Padding::valid))
            fail(fmt::format("operator {}: a PAD before a \"same\" convolution is not supported", index));
          op.kind = depthwise ? Int8OpKind::depthwise : Int8OpKind::conv;
          source = pad->second.source;
          op.pad_h = pad->second.top;
          op.pad_w = pad->second.left;
        } else {
          op.kind = depthwise ? Int8OpKind::depthwise : Int8OpKind::conv;
        }
        op.inputs = {activation(source, "a convolution's input")};
        op.output = activation(out[0], "a convolution's output");
        const Int8Tensor& x = model_.tensors[static_cast<size_t>(op.inputs[0])];
        const Int8Tensor& y = model_.tensors[static_cast<size_t>(op.output)];
        if (op.kind != Int8OpKind::fully_connected && pad == pads_.end() &&
            padding == static_cast<int8_t>(tflite::Padding::same)) {
          op.pad_h = same_padding(x.h, op.kernel_h, stride_h).before;
          op.pad_w = same_padding(x.w, op.kernel_w, stride_w).before;
        }
        if (depthwise && (w.shape[3] != x.c || y.c != x.c))
          fail(fmt::format("operator {} (DEPTHWISE_CONV_2D) has a depth multiplier other than 1", index));
        set_weights(op, index, in[1], in.size() > 2 ? in[2] : -1, y.c);
        set_activation(op, act, index);
        model_.ops.push_back(std::move(op));
        return;
      }
      case B::fully_connected: {
        need(2, "FULLY_CONNECTED");
        if (option(tflite::fully_connected_options::weights_format, int8_t{0}) != 0)
          fail(fmt::format("operator {} (FULLY_CONNECTED) has shuffled weights", index));
        Int8Op op;
        op.kind = Int8OpKind::fully_connected;
        op.name = fmt::format("op{}", index);
        const auto reshape = reshapes_.find(in[0]);
        op.inputs = {activation(reshape != reshapes_.end() ? reshape->second : in[0], "a linear layer's input")};
        op.output = activation(out[0], "a linear layer's output");
        set_weights(op, index, in[1], in.size() > 2 ? in[2] : -1, model_.tensors[static_cast<size_t>(op.output)].c);
        set_activation(op, static_cast<tflite::Activation>(option(tflite::fully_connected_options::fused_activation,
                                                                  int8_t{0})), index);
        model_.ops.push_back(std::move(op));
        return;
      }
      case B::max_pool_2d:
      case B::average_pool_2d: {
        need(1, "a pooling");
        namespace p = tflite::pool_options;
        Int8Op op;
        op.kind = static_cast<B>(code) == B::max_pool_2d ? Int8OpKind::max_pool : Int8OpKind::avg_pool;
        op.name = fmt::format("op{}", index);
        op.kernel_w = option(p::filter_width, int32_t{1});
        op.kernel_h = option(p::filter_height, int32_t{1});
        op.stride_w = option(p::stride_w, int32_t{1});
        op.stride_h = option(p::stride_h, int32_t{1});
        check_window(index, op);
        op.inputs = {activation(in[0], "a pooling's input")};
        op.output = activation(out[0], "a pooling's output");
        const Int8Tensor& x = model_.tensors[static_cast<size_t>(op.inputs[0])];
        const Int8Tensor& y = model_.tensors[static_cast<size_t>(op.output)];
        if (x.quant.scale != y.quant.scale || x.quant.zero_point != y.quant.zero_point)
          fail(fmt::format("operator {} ({}) changes the quantisation; our pooling keeps it", index,
                           builtin_name(code)));
        if (option(p::padding, int8_t{0}) == static_cast<int8_t>(tflite::Padding::same)) {
          op.pad_h = same_padding(x.h, op.kernel_h, op.stride_h).before;
          op.pad_w = same_padding(x.w, op.kernel_w, op.stride_w).before;
        }
        set_activation(op, static_cast<tflite::Activation>(option(p::fused_activation, int8_t{0})), index);
        model_.ops.push_back(std::move(op));
        return;
      }
      case B::mean: {
        need(2, "MEAN");
        const FileTensor& axes = tensor(in[1]);
        int32_t a[2] = {0, 0};
        if (axes.type == tflite::TensorType::int32 && axes.data.size() == 8) std::memcpy(a, axes.data.data(), 8);
        if (!((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1)))
          fail(fmt::format("operator {} (MEAN) is not a mean over height and width", index));
        Int8Op op;
        op.kind = Int8OpKind::global_avg_pool;
        const std::string suffix = ".axes";
        op.name = axes.name.size() > suffix.size() && axes.name.ends_with(suffix)
                      ? axes.name.substr(0, axes.name.size() - suffix.size())
                      : fmt::format("op{}", index);
        op.inputs = {activation(in[0], "a mean's input")};
        op.output = activation(out[0], "a mean's output");
        const Int8Tensor& x = model_.tensors[static_cast<size_t>(op.inputs[0])];
        const Int8Tensor& y = model_.tensors[static_cast<size_t>(op.output)];
        const FixedPointScale m = quantize_multiplier(x.quant.scale / (y.quant.scale * static_cast<double>(x.h * x.w)));
        op.mean = {-x.quant.zero_point, y.quant.zero_point, m.multiplier, m.shift, -128, 127};
        model_.ops.push_back(std::move(op));
        return;
      }
      case B::add: {
        need(2, "ADD");
        Int8Op op;
        op.kind = Int8OpKind::add;
        op.name = fmt::format("op{}", index);
        op.inputs = {activation(in[0], "an addend"), activation(in[1], "an addend")};
        op.output = activation(out[0], "a sum");
        const QuantParams a = model_.tensors[static_cast<size_t>(op.inputs[0])].quant;
        const QuantParams b = model_.tensors[static_cast<size_t>(op.inputs[1])].quant;
        const QuantParams y = model_.tensors[static_cast<size_t>(op.output)].quant;
        const AddScales s = add_scales(a.scale, b.scale, y.scale);
        set_activation(op, static_cast<tflite::Activation>(option(tflite::add_options::fused_activation, int8_t{0})),
                       index);
        op.add = {-a.zero_point, s.input1.multiplier, s.input1.shift, -b.zero_point, s.input2.multiplier,
                  s.input2.shift, s.left_shift, y.zero_point, s.output.multiplier, s.output.shift, op.act_min,
                  op.act_max};
        model_.ops.push_back(std::move(op));
        return;
      }
    }
    fail(fmt::format("operator {} is {} (builtin code {}), which mcunas does not run (it runs CONV_2D, "
                     "DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, ADD, PAD, RESHAPE)",
                     index, builtin_name(code), code));
  }

  struct Pad {
    int32_t source, top, bottom, left, right;
    std::string name;
  };

  std::string origin_;
  const fb::Table* subgraph_ = nullptr;
  std::vector<int32_t> codes_;
  std::vector<FileTensor> file_;
  std::map<int32_t, int32_t> ours_;      // file tensor → our tensor
  std::map<int32_t, Pad> pads_;          // a PAD's output → what it pads
  std::map<int32_t, int32_t> reshapes_;  // a RESHAPE's output → its input
  Int8Model model_;
};

}  // namespace

Int8Model read_tflite(std::span<const uint8_t> bytes, const std::string& origin, std::string* description) {
  if (bytes.size() < 8 || !fb::BufferHasIdentifier(bytes.data(), tflite::kFileIdentifier))
    throw Error(origin, "is not a TensorFlow Lite model (no 'TFL3' identifier at byte 4)");
  fb::Verifier verifier(bytes.data(), bytes.size());
  const auto* model = fb::GetRoot<fb::Table>(bytes.data());
  if (bytes.size() < 16 || verifier.VerifyOffset(0) == 0 || !model_ok(verifier, model))
    throw Error(origin, "is truncated or corrupt (the flatbuffer does not verify)");
  Int8Model out = Reader(model, origin).read();
  if (description) {
    const auto* text = model->GetPointer<const fb::String*>(slot(tflite::model::description));
    *description = text ? text->str() : std::string();
  }
  return out;
}

}  // namespace nas::deploy
