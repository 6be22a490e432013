#include "supernet/add.h"

#include <gtest/gtest.h>

#include "supernet/error.h"
#include "tests/supernet/gradcheck.h"

namespace nas::supernet {
namespace {

TEST(Add, GradientsMatchCentralDifferences) {
  Add add;
  const auto report = testing::gradcheck(add, {{2, 3, 3, 4}, {2, 3, 3, 4}});
  EXPECT_LT(report.relative_error, testing::kRelativeBound) << report.worst;
}

TEST(Add, RejectsDifferentShapes) {
  Add add;
  const Shape shapes[] = {{1, 3, 3, 4}, {1, 3, 3, 5}};
  EXPECT_THROW(add.output_shape(shapes), Error);
}

}  // namespace
}  // namespace nas::supernet
