#include "supernet/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "supernet/rng.h"

namespace nas::supernet {
namespace {

enum class Kind { nn, tn, nt };

// C = op(A)·op(B) in double straight from the definition; A and B in the storage the kernels take.
std::vector<double> reference(Kind kind, int64_t m, int64_t n, int64_t k, const std::vector<float>& a, int64_t lda,
                              const std::vector<float>& b, int64_t ldb) {
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double x = kind == Kind::tn ? a[static_cast<size_t>(p * lda + i)] : a[static_cast<size_t>(i * lda + p)];
        const double y = kind == Kind::nt ? b[static_cast<size_t>(j * ldb + p)] : b[static_cast<size_t>(p * ldb + j)];
        sum += x * y;
      }
      c[static_cast<size_t>(i * n + j)] = sum;
    }
  return c;
}

// Shapes that hit every tile remainder: rows not a multiple of 6, columns not a multiple of 16, more than 64
// columns, a reduction of 1, and padded leading dimensions.
TEST(Gemm, MatchesTheDefinitionOnEveryTileRemainder) {
  const int64_t shapes[][3] = {{1, 1, 1},   {5, 7, 3},    {6, 16, 9},   {13, 33, 17}, {12, 64, 288},
                               {7, 65, 40}, {31, 130, 5}, {128, 10, 64}, {2, 100, 1}};
  Rng rng(4);
  for (const auto& shape : shapes) {
    const int64_t m = shape[0], n = shape[1], k = shape[2];
    for (const Kind kind : {Kind::nn, Kind::tn, Kind::nt}) {
      for (const bool accumulate : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k << " kind=" << int(kind)
                                          << " accumulate=" << accumulate);
        const int64_t lda = (kind == Kind::tn ? m : k) + 3, ldb = (kind == Kind::nt ? k : n) + 2, ldc = n + 5;
        std::vector<float> a(static_cast<size_t>((kind == Kind::tn ? k : m) * lda));
        std::vector<float> b(static_cast<size_t>((kind == Kind::nt ? n : k) * ldb));
        std::vector<float> c(static_cast<size_t>(m * ldc));
        for (float& x : a) x = static_cast<float>(rng.normal());
        for (float& x : b) x = static_cast<float>(rng.normal());
        for (float& x : c) x = static_cast<float>(rng.normal());
        const std::vector<float> before = c;
        if (kind == Kind::nn) gemm_nn(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
        if (kind == Kind::tn) gemm_tn(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
        if (kind == Kind::nt) gemm_nt(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
        const auto expected = reference(kind, m, n, k, a, lda, b, ldb);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < ldc; ++j) {
            const auto at = static_cast<size_t>(i * ldc + j);
            if (j >= n) {  // padding between rows is never written
              ASSERT_EQ(c[at], before[at]) << "wrote padding at " << i << "," << j;
              continue;
            }
            const double want = expected[static_cast<size_t>(i * n + j)] + (accumulate ? before[at] : 0.0);
            // float accumulation of k products of N(0,1) values: error grows like sqrt(k)·eps·|terms|.
            ASSERT_NEAR(c[at], want, 1e-5 * (1.0 + std::sqrt(static_cast<double>(k))) * 4) << i << "," << j;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace nas::supernet
