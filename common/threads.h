// The thread budget of a process: TBB runs the parallel loops with `threads` workers, and OpenBLAS runs
// single-threaded inside each of them (our loops already split the work; nested pools would oversubscribe).
#pragma once

#include <tbb/global_control.h>

namespace nas {

class ThreadBudget {
 public:
  explicit ThreadBudget(int threads);
  int threads() const { return threads_; }

 private:
  int threads_;
  tbb::global_control control_;
};

}  // namespace nas
