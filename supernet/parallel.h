// Parallel loops over fixed chunks. The split of [0, n) depends only on n and the chunk size, never on the thread
// count or the scheduler, so a reduction that sums per-chunk partial results in chunk order gives the same bits
// with 1 thread or 16.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

namespace nas::supernet {

inline int64_t chunk_count(int64_t n, int64_t chunk) { return (n + chunk - 1) / chunk; }

// Calls fn(chunk_index, begin, end) for every chunk of `chunk` items (the last may be shorter).
template <class Fn>
void parallel_chunks(int64_t n, int64_t chunk, Fn&& fn) {
  const int64_t chunks = chunk_count(n, chunk);
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, chunks, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t i = r.begin(); i != r.end(); ++i) fn(i, i * chunk, std::min(n, (i + 1) * chunk));
      },
      tbb::simple_partitioner());
}

// Images per chunk so that one chunk covers about `target_rows` output pixels (GEMM rows): large enough for an
// efficient sgemm, small enough that its im2col block stays in the core's L2 cache.
inline int64_t images_per_chunk(int64_t batch, int64_t rows_per_image, int64_t target_rows = 512) {
  const int64_t total = batch * rows_per_image;
  const int64_t chunks = std::max<int64_t>(1, (total + target_rows - 1) / target_rows);
  return std::max<int64_t>(1, (batch + chunks - 1) / chunks);
}

// Sums `count` partial buffers of `size` floats, `stride` floats apart, into out, in chunk order.
inline void sum_partials(const float* partials, int64_t count, int64_t stride, int64_t size, float* out) {
  std::copy_n(partials, size, out);
  for (int64_t p = 1; p < count; ++p) {
    const float* src = partials + p * stride;
    for (int64_t i = 0; i < size; ++i) out[i] += src[i];
  }
}

}  // namespace nas::supernet
