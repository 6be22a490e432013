// The harness itself must be able to fail: a layer with a deliberately wrong backward pass is caught.
#include "tests/supernet/gradcheck.h"

#include <gtest/gtest.h>

namespace nas::supernet {
namespace {

// y = x², with a backward pass that can be made wrong by a factor.
class Square final : public Layer {
 public:
  explicit Square(float backward_factor) : factor_(backward_factor) {}
  std::string type() const override { return "square"; }
  Shape output_shape(std::span<const Shape> in) override { return in[0]; }
  void forward(std::span<const Tensor* const> in, Tensor& out, bool) override {
    out.resize(in[0]->shape());
    for (int64_t i = 0; i < out.size(); ++i) out[i] = (*in[0])[i] * (*in[0])[i];
  }
  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx) override {
    dx[0]->resize(in[0]->shape());
    for (int64_t i = 0; i < dy.size(); ++i) (*dx[0])[i] = factor_ * 2.0f * (*in[0])[i] * dy[i];
  }

 private:
  float factor_;
};

TEST(GradCheck, AcceptsACorrectGradient) {
  Square right(1.0f);
  const auto report = testing::gradcheck(right, {{2, 3, 3, 2}});
  EXPECT_EQ(report.checked, 36);
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(GradCheck, RejectsAGradientOffByTenPercent) {
  Square wrong(1.1f);
  const auto report = testing::gradcheck(wrong, {{2, 3, 3, 2}});
  EXPECT_GT(report.relative_error, 10 * testing::kRelativeBound);
}

}  // namespace
}  // namespace nas::supernet
