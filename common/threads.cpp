#include "common/threads.h"

#include <cblas.h>

#include "common/error.h"

namespace nas {

namespace {
int checked(int threads) {
  if (threads < 1 || threads > 1024)
    throw Error("threads", "must be between 1 and 1024 (got " + std::to_string(threads) + ")");
  return threads;
}
}  // namespace

ThreadBudget::ThreadBudget(int threads)
    : threads_(checked(threads)),
      control_(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads_)) {
  openblas_set_num_threads(1);
}

}  // namespace nas
