#include "supernet/add.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/common/test_support.h"
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
  EXPECT_EQ(test_support::error_of([&] { add.output_shape(shapes); }),
            "add: inputs must have the same shape (got " + shapes[0].str() + " and " + shapes[1].str() + ")");
}

}  // namespace
}  // namespace nas::supernet
