// Our GEMM kernels (supernet/gemm.h) against OpenBLAS sgemm, single-threaded, on the shapes the reference CNN's
// layers issue per chunk of images (forward A·B, weight gradient Aᵀ·B, input gradient A·Bᵀ). Prints GFLOP/s of
// both, their ratio, and the largest difference between the two results; last line: the geometric-mean ratio.
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "supernet/gemm.h"
#include "supernet/rng.h"

using namespace nas::supernet;

namespace {

struct Shape {
  int m, n, k;
  const char* op;  // "nn", "tn", "nt"
  const char* use;
};

template <class Fn>
double seconds_per_call(Fn&& fn) {
  for (int i = 0; i < 5; ++i) fn();
  int reps = 50;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > 0.2) return s / reps;
    reps *= 4;
  }
}

}  // namespace

int main() {
  openblas_set_num_threads(1);
  const Shape shapes[] = {
      {512, 32, 9, "nn", "conv 1->32 forward"},   {9, 32, 512, "tn", "conv 1->32 weight grad"},
      {512, 64, 288, "nn", "conv 32->64 forward"}, {288, 64, 512, "tn", "conv 32->64 weight grad"},
      {512, 288, 64, "nt", "conv 32->64 input grad"}, {512, 64, 576, "nn", "conv 64->64 forward"},
      {576, 64, 512, "tn", "conv 64->64 weight grad"}, {512, 576, 64, "nt", "conv 64->64 input grad"},
  };
  std::printf("ours: %s\n", gemm_uses_avx512() ? "AVX-512 kernels" : "OpenBLAS fallback (no AVX-512 at build time)");
  std::printf("%-26s %4s %5s %5s %5s %10s %10s %7s %9s\n", "layer call", "op", "M", "N", "K", "ours GF/s",
              "blas GF/s", "ratio", "max diff");
  Rng rng(1);
  double log_sum = 0;
  int count = 0;
  for (const auto& s : shapes) {
    const std::string op = s.op;
    std::vector<float> a(static_cast<size_t>(s.m) * s.k), b(static_cast<size_t>(s.k) * s.n);
    std::vector<float> ours(static_cast<size_t>(s.m) * s.n), blas(ours.size());
    for (float& x : a) x = static_cast<float>(rng.normal());
    for (float& x : b) x = static_cast<float>(rng.normal());
    const int lda = op == "tn" ? s.m : s.k, ldb = op == "nt" ? s.k : s.n;
    auto run_ours = [&] {
      if (op == "nn") gemm_nn(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, ours.data(), s.n, false);
      if (op == "tn") gemm_tn(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, ours.data(), s.n, false);
      if (op == "nt") gemm_nt(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, ours.data(), s.n, false);
    };
    auto run_blas = [&] {
      cblas_sgemm(CblasRowMajor, op == "tn" ? CblasTrans : CblasNoTrans, op == "nt" ? CblasTrans : CblasNoTrans, s.m,
                  s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, blas.data(), s.n);
    };
    const double flop = 2.0 * s.m * s.n * s.k;
    const double t_ours = seconds_per_call(run_ours), t_blas = seconds_per_call(run_blas);
    double diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) diff = std::max(diff, static_cast<double>(std::fabs(ours[i] - blas[i])));
    std::printf("%-26s %4s %5d %5d %5d %10.1f %10.1f %7.2f %9.1e\n", s.use, s.op, s.m, s.n, s.k, flop / t_ours / 1e9,
                flop / t_blas / 1e9, t_blas / t_ours, diff);
    log_sum += std::log(t_blas / t_ours);
    ++count;
  }
  std::printf("speedup=%.2f\n", std::exp(log_sum / count));
  return 0;
}
