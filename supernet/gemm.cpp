#include "supernet/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nas::supernet {

#if defined(__AVX512F__)

namespace {

constexpr int kLanes = 16;  // floats per zmm register

// Lane mask for the last column vector of a tile `width` columns wide (1..kLanes·NV).
inline __mmask16 tail_mask(int64_t width, int nv) {
  const int64_t last = width - int64_t{kLanes} * (nv - 1);
  return last >= kLanes ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << last) - 1);
}

// C[MR × (≤16·NV)] (+)= Σ_k a(i, k) · B[k, 0:width], with a(i, k) = a[i·a_row + k·a_col]: a_row = lda, a_col = 1
// for A·B; a_row = 1, a_col = lda for Aᵀ·B. MR·NV accumulators live in registers for the whole k loop.
template <int MR, int NV>
inline void tile(int64_t k_n, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb, float* c,
                 int64_t ldc, int64_t width, bool accumulate) {
  const __mmask16 last = tail_mask(width, NV);
  // The unroll pragmas make every index below a constant, so GCC keeps acc[][] in registers instead of spilling
  // it to the stack on every k (measured: 2.5x slower without them).
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < k_n; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = v + 1 < NV ? _mm512_loadu_ps(b + k * ldb + v * kLanes) : _mm512_maskz_loadu_ps(last, b + k * ldb + v * kLanes);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * a_row + k * a_col]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* out = c + i * ldc + v * kLanes;
      const __mmask16 mask = v + 1 < NV ? static_cast<__mmask16>(0xFFFF) : last;
      __m512 value = acc[i][v];
      if (accumulate) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, out));
      _mm512_mask_storeu_ps(out, mask, value);
    }
  }
}

// Rows of C in groups of six (6 rows × 4 vectors = 24 accumulators: the most that fit beside the B vectors in 32
// registers), columns in groups of up to 64.
template <int NV>
void rows_of_tiles(int64_t m, int64_t k_n, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb,
                   float* c, int64_t ldc, int64_t width, bool accumulate) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) tile<6, NV>(k_n, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, width, accumulate);
  const float* ar = a + i * a_row;
  float* cr = c + i * ldc;
  switch (m - i) {
    case 5: tile<5, NV>(k_n, ar, a_row, a_col, b, ldb, cr, ldc, width, accumulate); break;
    case 4: tile<4, NV>(k_n, ar, a_row, a_col, b, ldb, cr, ldc, width, accumulate); break;
    case 3: tile<3, NV>(k_n, ar, a_row, a_col, b, ldb, cr, ldc, width, accumulate); break;
    case 2: tile<2, NV>(k_n, ar, a_row, a_col, b, ldb, cr, ldc, width, accumulate); break;
    case 1: tile<1, NV>(k_n, ar, a_row, a_col, b, ldb, cr, ldc, width, accumulate); break;
    default: break;
  }
}

void gemm_strided_a(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
                    int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t j = 0; j < n; j += 4 * kLanes) {
    const int64_t width = std::min<int64_t>(4 * kLanes, n - j);
    const int nv = static_cast<int>((width + kLanes - 1) / kLanes);
    switch (nv) {
      case 4: rows_of_tiles<4>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, width, accumulate); break;
      case 3: rows_of_tiles<3>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, width, accumulate); break;
      case 2: rows_of_tiles<2>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, width, accumulate); break;
      default: rows_of_tiles<1>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, width, accumulate); break;
    }
  }
}

}  // namespace

void gemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  gemm_strided_a(m, n, k, a, lda, 1, b, ldb, c, ldc, accumulate);
}

void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  gemm_strided_a(m, n, k, a, 1, lda, b, ldb, c, ldc, accumulate);
}

void gemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  // Bᵀ is small here (weights: N×K with N output channels); transposing it once makes this an A·B.
  thread_local std::vector<float> bt;
  bt.resize(static_cast<size_t>(k * n));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t p = 0; p < k; ++p) bt[static_cast<size_t>(p * n + j)] = b[j * ldb + p];
  gemm_nn(m, n, k, a, lda, bt.data(), n, c, ldc, accumulate);
}

bool gemm_uses_avx512() { return true; }

#else  // portable build: OpenBLAS

void gemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
              1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), accumulate ? 1.0f : 0.0f, c, static_cast<int>(ldc));
}

void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
              1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), accumulate ? 1.0f : 0.0f, c, static_cast<int>(ldc));
}

void gemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
              1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), accumulate ? 1.0f : 0.0f, c, static_cast<int>(ldc));
}

bool gemm_uses_avx512() { return false; }

#endif

}  // namespace nas::supernet
