// ONNX models written by Debian's PyTorch (tests/data/onnx/make_small_cnn.py, which also wrote PyTorch's logits for
// five images) read into a fixed network of the search space: the blocks recognised (conv, conv at stride 2,
// depthwise-separable, inverted residual with its join), and the float logits equal to PyTorch's within 1e-4, both
// for the eval-mode export (BatchNorm folded into the convolutions' biases) and for the export that keeps the
// BatchNormalization nodes. A model with an operator we do not read is refused by name; damaged files are refused
// with one line, never a crash.
#include "supernet/onnx_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "common/error.h"
#include "common/file_bytes.h"
#include "tests/common/test_support.h"

namespace nas::supernet {
namespace {

using test_support::contains;

const std::filesystem::path kDir = std::filesystem::path(MCUNAS_SOURCE_DIR) / "tests/data/onnx";

std::vector<uint8_t> file(const char* name) { return read_file_bytes(kDir / name, "a test file"); }

std::vector<float> floats(const char* name) {
  const auto bytes = file(name);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string error_of(const std::vector<uint8_t>& bytes, const std::string& origin) {
  try {
    read_onnx(bytes, origin);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

TEST(OnnxImport, PyTorchsNetworkReadsAsOurBlocksAndComputesPyTorchsLogits) {
  const std::vector<float> images = floats("small_cnn_input.f32"), expected = floats("small_cnn_output.f32");
  constexpr int32_t kImages = 5, kSide = 12, kClasses = 4;
  ASSERT_EQ(images.size(), size_t{kImages * kSide * kSide});
  ASSERT_EQ(expected.size(), size_t{kImages * kClasses});
  for (const char* name : {"small_cnn.onnx", "small_cnn_bn.onnx"}) {
    SCOPED_TRACE(name);
    OnnxNetwork read = read_onnx(file(name), name);
    EXPECT_EQ(read.input, (Shape{1, kSide, kSide, 1}));
    EXPECT_EQ(read.classes, kClasses);
    ASSERT_EQ(read.arch.blocks.size(), 4u);
    const std::vector<std::string> ops = {"conv3x3", "conv5x5", "dwsep3x3", "mbconv3x3_e2"};
    const std::vector<int32_t> channels = {8, 16, 24, 24}, strides = {1, 2, 1, 1};
    for (size_t b = 0; b < 4; ++b) {
      EXPECT_EQ(read.arch.blocks[b].name, "b" + std::to_string(b + 1));
      EXPECT_EQ(read.arch.blocks[b].op.name(), ops[b]);
      EXPECT_EQ(read.arch.blocks[b].out_channels, channels[b]);
      EXPECT_EQ(read.arch.blocks[b].stride, strides[b]);
    }
    EXPECT_TRUE(read.arch.blocks[3].op.residual);
    EXPECT_EQ(read.arch.input_channels, 1);

    // One input channel: NCHW and NHWC images are the same bytes.
    Tensor batch(Shape{kImages, kSide, kSide, 1});
    std::copy(images.begin(), images.end(), batch.data());
    const Tensor& logits = read.net->forward(batch, /*training=*/false);
    ASSERT_EQ(logits.shape().size(), int64_t{kImages * kClasses});
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i)
      worst = std::max(worst, std::abs(double{logits.data()[i]} - double{expected[i]}));
    EXPECT_LE(worst, 1e-4) << "largest difference from PyTorch's logits";
    std::ostringstream text;
    text << std::scientific << worst;
    RecordProperty(std::string(name) + "_max_abs_difference", text.str());
    EXPECT_GT(std::abs(expected[0]), 1e-3) << "the reference logits are not trivially zero";
  }
}

TEST(OnnxImport, AnOperatorWeDoNotReadIsRefusedByName) {
  const std::string message = error_of(file("unsupported.onnx"), "unsupported.onnx");
  EXPECT_TRUE(contains(message, "unsupported.onnx: node ")) << message;
  EXPECT_TRUE(contains(message, "is Sigmoid")) << message;
  EXPECT_TRUE(contains(message, "which nas import does not read (it reads ")) << message;
}

TEST(OnnxImport, DamagedFilesAreRefusedOnOneLine) {
  const std::vector<uint8_t> good = file("small_cnn.onnx");
  EXPECT_TRUE(contains(error_of({'n', 'o', 't', ' ', 'o', 'n', 'n', 'x', 0xff, 0xff}, "text.onnx"),
                       "text.onnx: is not an ONNX model"));
  EXPECT_TRUE(contains(error_of({}, "empty.onnx"), "empty.onnx: is not an ONNX model (it has no graph)"));
  // Cut anywhere, or with any one byte changed: read or refused with nas::Error, never a crash.
  int refused = 0, tries = 0;
  for (size_t cut = 1; cut < good.size(); cut += 97, ++tries) {
    const std::vector<uint8_t> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    refused += !error_of(part, "cut.onnx").empty();
  }
  EXPECT_EQ(refused, tries) << "every truncated copy is refused";
  for (size_t at = 0; at < good.size(); at += 13) {
    std::vector<uint8_t> flipped = good;
    flipped[at] ^= 0x5a;
    error_of(flipped, "flipped.onnx");
  }
}

}  // namespace
}  // namespace nas::supernet
