// Single-threaded float GEMM for the training engine's convolution and linear layers, row-major:
//   gemm_nn: C (+)= A·B      A: M×K (lda), B: K×N (ldb), C: M×N (ldc)
//   gemm_tn: C (+)= Aᵀ·B     A: K×M stored row-major (lda) — e.g. an im2col block read column-wise
//   gemm_nt: C (+)= A·Bᵀ     B: N×K stored row-major (ldb)
//
// Why our own: the layers call GEMM per chunk of images from inside TBB tasks, on shapes like 512×64×288. OpenBLAS
// runs those at about 100 GFLOP/s per core with its AVX2 (Haswell) kernels, which these machines force through
// OPENBLAS_CORETYPE; the cores execute AVX-512 at full width, and a register-blocked AVX-512 kernel that needs no
// packing (A is broadcast from its rows, B read as 16-float vectors) reaches about 1.8x that on the same shapes
// (bench numbers in docs/training.md). Without AVX-512 at compile time these fall back to OpenBLAS sgemm.
#pragma once

#include <cstdint>

namespace nas::supernet {

void gemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate);
void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate);
void gemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate);

// True when the AVX-512 kernels are compiled in (for reports and benchmarks).
bool gemm_uses_avx512();

}  // namespace nas::supernet
