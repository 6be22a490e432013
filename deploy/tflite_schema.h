// The part of the TensorFlow Lite model format (schema version 3, TensorFlow's tensorflow/lite/schema/schema.fbs)
// that mcunas writes and reads: for each table, the index of each field we use, and the enum values we use. A
// field's vtable slot is 4 + 2 · index (the FlatBuffers encoding); a union field takes two indices, its type first.
// Facts of the format, written down here once; the reader and the writer both take them from this file.
#pragma once

#include <cstdint>

namespace nas::deploy::tflite {

constexpr const char* kFileIdentifier = "TFL3";
constexpr uint32_t kSchemaVersion = 3;

constexpr uint16_t slot(int index) { return static_cast<uint16_t>(4 + 2 * index); }

namespace model {  // table Model
constexpr int version = 0, operator_codes = 1, subgraphs = 2, description = 3, buffers = 4;
}
namespace operator_code {  // table OperatorCode
// deprecated_builtin_code (a byte) is what readers before TensorFlow 2.5 read, Arm NN 20.08 among them; writers set
// both it and builtin_code (an int) to the operator.
constexpr int deprecated_builtin_code = 0, custom_code = 1, version = 2, builtin_code = 3;
}
namespace subgraph {  // table SubGraph
constexpr int tensors = 0, inputs = 1, outputs = 2, operators = 3, name = 4;
}
namespace tensor {  // table Tensor
constexpr int shape = 0, type = 1, buffer = 2, name = 3, quantization = 4;
}
namespace quantization {  // table QuantizationParameters (details: a union, indices 4 and 5)
constexpr int min = 0, max = 1, scale = 2, zero_point = 3, quantized_dimension = 6;
}
namespace buffer {  // table Buffer
constexpr int data = 0;
}
namespace op {  // table Operator (builtin_options: a union, indices 3 and 4)
constexpr int opcode_index = 0, inputs = 1, outputs = 2, builtin_options_type = 3, builtin_options = 4;
}
namespace conv_options {  // table Conv2DOptions
constexpr int padding = 0, stride_w = 1, stride_h = 2, fused_activation = 3, dilation_w = 4, dilation_h = 5;
}
namespace depthwise_options {  // table DepthwiseConv2DOptions
constexpr int padding = 0, stride_w = 1, stride_h = 2, depth_multiplier = 3, fused_activation = 4, dilation_w = 5,
              dilation_h = 6;
}
namespace fully_connected_options {  // table FullyConnectedOptions
constexpr int fused_activation = 0, weights_format = 1, keep_num_dims = 2;
}
namespace pool_options {  // table Pool2DOptions
constexpr int padding = 0, stride_w = 1, stride_h = 2, filter_width = 3, filter_height = 4, fused_activation = 5;
}
namespace add_options {  // table AddOptions
constexpr int fused_activation = 0;
}
namespace reducer_options {  // table ReducerOptions
constexpr int keep_dims = 0;
}
namespace reshape_options {  // table ReshapeOptions
constexpr int new_shape = 0;
}

// enum BuiltinOperator (the ones we use)
enum class Builtin : int32_t {
  add = 0,
  average_pool_2d = 1,
  conv_2d = 3,
  depthwise_conv_2d = 4,
  fully_connected = 9,
  max_pool_2d = 17,
  reshape = 22,
  pad = 34,
  mean = 40,
};

// union BuiltinOptions: the member each operator's options are (0 = none)
enum class Options : uint8_t {
  none = 0,
  conv_2d = 1,
  depthwise_conv_2d = 2,
  pool_2d = 5,
  fully_connected = 8,
  add = 11,
  reshape = 17,
  pad = 22,
  reducer = 27,
};

enum class TensorType : int8_t { float32 = 0, int32 = 2, int8 = 9 };
enum class Padding : int8_t { same = 0, valid = 1 };
enum class Activation : int8_t { none = 0, relu = 1, relu_n1_to_1 = 2, relu6 = 3 };

}  // namespace nas::deploy::tflite
